package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// builds holds one build of cmd/rivulet per set of go build flags.
var builds struct {
	mu   sync.Mutex
	byID map[string]*build
	dirs []string
}

type build struct {
	once sync.Once
	path string
	err  error
}

// Rivulet builds cmd/rivulet once per test binary and set of go build flags
// (e.g. "-race", or "-tags", "rivuletfault") and returns the executable's
// path. End-to-end tests run the real process, so that signals, exit codes
// and kill -9 are real. Main removes the builds.
func Rivulet(t testing.TB, flags ...string) string {
	t.Helper()
	id := strings.Join(flags, "\x00")
	builds.mu.Lock()
	if builds.byID == nil {
		builds.byID = map[string]*build{}
	}
	b := builds.byID[id]
	if b == nil {
		b = &build{}
		builds.byID[id] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "rivulet-bin-")
		if err != nil {
			b.err = err
			return
		}
		builds.mu.Lock()
		builds.dirs = append(builds.dirs, dir)
		builds.mu.Unlock()
		b.path = filepath.Join(dir, "rivulet")
		args := append(append([]string{"build"}, flags...), "-o", b.path, "github.com/rivulet-cdc/rivulet/cmd/rivulet")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", strings.Join(flags, " "), err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// removeBuilds deletes what Rivulet built.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	for _, d := range builds.dirs {
		_ = os.RemoveAll(d)
	}
	builds.dirs = nil
}

// LogBuffer collects a process's output; exec writes it from its own
// goroutine while the test reads it.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
