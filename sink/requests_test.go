package sink_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/sink"
)

// lockedBuffer is a log destination safe for the client's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With a debug logger, Close logs the requests and batches the sink sent;
// without one it logs nothing of them.
func TestKafka_RequestCountsLoggedAtDebug(t *testing.T) {
	c := newCluster(t)
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var out lockedBuffer
		k := newKafka(t, c, func(cfg *sink.KafkaConfig) {
			cfg.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level}))
		})
		evs := kafkaEvents()
		sendAcked(t, k, evs)
		if err := k.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		_ = k.Close()
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, `msg="kafka requests sent"`) {
				line = l
			}
		}
		if level != slog.LevelDebug {
			if line != "" {
				t.Errorf("logged at %v: %s", level, line)
			}
			continue
		}
		// kafkaEvents: 8 records to two topics, created by the sink.
		for _, want := range []string{"records=8 ", "compressed_batches=0", "Produce=", "CreateTopics=2/"} {
			if !strings.Contains(line, want) {
				t.Errorf("debug line %q lacks %q", line, want)
			}
		}
	}
}
