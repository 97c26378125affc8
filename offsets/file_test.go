package offsets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noTemps fails when a temporary file was left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestFileStore_LoadMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewFileStore(filepath.Join(dir, "offsets.json"), "c", "p")
	p, ok, err := s.Load(ctx)
	if err != nil || ok || !p.IsZero() {
		t.Fatalf("Load on a missing file = %v, %v, %v; want zero, false, nil", p, ok, err)
	}
	writeFile(t, s.Path(), " \n")
	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load on a blank file = %v, %v; want false, nil", ok, err)
	}
	writeFile(t, s.Path(), `{"[\"other\",{\"server\":\"p\"}]":{"file":"f","pos":4}}`)
	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load without this connector's entry = %v, %v; want false, nil", ok, err)
	}
}

func TestFileStore_SaveLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "offsets.json")
	s := NewFileStore(path, "inventory-connector", "dbserver1")

	p1 := Position{TsSec: 1700000100, File: "mysql-bin.000003", Pos: 1547, Row: 1, ServerID: 223344, Event: 2}
	if err := s.Save(ctx, p1); err != nil {
		t.Fatal(err)
	}
	want := "{\n" +
		`  "[\"inventory-connector\",{\"server\":\"dbserver1\"}]": {"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1547,"row":1,"server_id":223344,"event":2}` + "\n" +
		"}\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", st.Mode(), err)
	}

	p2 := Position{File: "mysql-bin.000004", Pos: 4, GTIDSet: "u:1-9"}
	if err := s.Save(ctx, p2); err != nil {
		t.Fatal(err)
	}
	// A fresh store (a restarted process) reads the last save.
	got, ok, err := NewFileStore(path, "inventory-connector", "dbserver1").Load(ctx)
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	if diff := cmp.Diff(p2, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	noTemps(t, dir)
}

func TestFileStore_KeepsOtherEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offsets.json")
	// Another connector's entry, with members Rivulet does not model and
	// Debezium's own formatting: kept as is (compacted).
	writeFile(t, path, `{"[\"other\",{\"server\":\"srv2\"}]": {"file": "bin.7", "pos": 9, "transaction_id": null}}`)
	if err := NewFileStore(path, "c", "p").Save(ctx, Position{File: "f", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	want := "{\n" +
		`  "[\"c\",{\"server\":\"p\"}]": {"file":"f","pos":4},` + "\n" +
		`  "[\"other\",{\"server\":\"srv2\"}]": {"file":"bin.7","pos":9,"transaction_id":null}` + "\n" +
		"}\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
}

func TestFileStore_EquivalentKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offsets.json")
	// Hand-edited: spaces in the key. Same connector, so Load finds it and
	// Save rewrites it under the canonical key.
	writeFile(t, path, `{"[ \"c\", { \"server\" : \"p\" } ]": {"file":"f","pos":4},
		"[\"c\",{\"server\":\"other\"}]": {"file":"g","pos":5},
		"not a key": {"file":"h","pos":6}}`)
	s := NewFileStore(path, "c", "p")
	got, ok, err := s.Load(ctx)
	if err != nil || !ok || got != (Position{File: "f", Pos: 4}) {
		t.Fatalf("Load = %v, %v, %v", got, ok, err)
	}
	if err := s.Save(ctx, Position{File: "f", Pos: 8}); err != nil {
		t.Fatal(err)
	}
	want := "{\n" +
		`  "[\"c\",{\"server\":\"other\"}]": {"file":"g","pos":5},` + "\n" +
		`  "[\"c\",{\"server\":\"p\"}]": {"file":"f","pos":8},` + "\n" +
		`  "not a key": {"file":"h","pos":6}` + "\n" +
		"}\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
}

func TestFileStore_Corrupt(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, content, load string
	}{
		{"not json", `{"[\"c\",{\"server\":\"p\"}]": {"file":`,
			"corrupt offsets: offsets file %s is not a JSON object of offset entries (unexpected end of JSON input); restore it from a backup, or delete it to start as snapshot.mode says"},
		{"not an object", `["x"]`,
			"corrupt offsets: offsets file %s is not a JSON object of offset entries (json: cannot unmarshal array into Go value of type map[string]json.RawMessage); restore it from a backup, or delete it to start as snapshot.mode says"},
		{"bad entry", `{"[\"c\",{\"server\":\"p\"}]": {"pos":4}}`,
			`load offsets from %s, key ["c",{"server":"p"}]: corrupt offsets: offset value has no "file" (correct the entry, or remove it to start as snapshot.mode says)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "offsets.json")
			writeFile(t, path, tt.content)
			s := NewFileStore(path, "c", "p")
			_, ok, err := s.Load(ctx)
			if want := fmt.Sprintf(tt.load, path); err == nil || err.Error() != want || ok {
				t.Fatalf("Load = %v, %v\nwant error %s", ok, err, want)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Load error does not match ErrCorrupt")
			}
		})
	}
	// Save refuses to overwrite an unreadable file: it holds other
	// connectors' entries too.
	path := filepath.Join(t.TempDir(), "offsets.json")
	writeFile(t, path, "garbage")
	if err := NewFileStore(path, "c", "p").Save(ctx, Position{File: "f", Pos: 4}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Save over a corrupt file = %v, want ErrCorrupt", err)
	}
	if got := readFile(t, path); got != "garbage" {
		t.Errorf("corrupt file was changed to %q", got)
	}
}

func TestFileStore_SaveFailureKeepsOldFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "offsets.json")
	s := NewFileStore(path, "c", "p")
	if err := s.Save(ctx, Position{File: "f", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)

	injected := errors.New("injected failure")
	var tmpSeen string
	s.beforeRename = func(tmp string) error {
		tmpSeen = tmp
		// The new content is complete and synced in the temporary file
		// while the real file still holds the old one.
		if got := readFile(t, tmp); !strings.Contains(got, `"pos":99`) {
			t.Errorf("temporary file = %q", got)
		}
		return injected
	}
	err := s.Save(ctx, Position{File: "f", Pos: 99})
	if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "save offsets to "+path+": ") {
		t.Fatalf("Save = %v, want the injected failure naming the file", err)
	}
	if got := readFile(t, path); got != before {
		t.Errorf("file changed by a failed Save:\n%s", got)
	}
	if _, err := os.Stat(tmpSeen); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file %s not removed: %v", tmpSeen, err)
	}
	noTemps(t, dir)
	if p, _, _ := s.Load(ctx); p.Pos != 4 {
		t.Errorf("Load after failed Save = %v, want pos 4", p)
	}
}

func TestFileStore_ReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; TestFileStore_SaveFailureKeepsOldFile covers the failure path")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "offsets.json")
	s := NewFileStore(path, "c", "p")
	if err := s.Save(ctx, Position{File: "f", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if err := s.Save(ctx, Position{File: "f", Pos: 99}); err == nil {
		t.Fatal("Save into a read-only directory succeeded")
	}
	if got := readFile(t, path); got != before {
		t.Errorf("file changed:\n%s", got)
	}
}

func TestFileStore_SaveErrors(t *testing.T) {
	dir := t.TempDir()
	s := NewFileStore(filepath.Join(dir, "offsets.json"), "c", "p")
	err := s.Save(context.Background(), Position{GTIDSet: "u:1"})
	if !errors.Is(err, ErrInvalidPosition) {
		t.Errorf("Save without a file = %v, want ErrInvalidPosition", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Save(ctx, Position{File: "f", Pos: 4}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v", err)
	}
	if _, _, err := s.Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v", err)
	}
	missingDir := NewFileStore(filepath.Join(dir, "no", "such", "offsets.json"), "c", "p")
	if err := missingDir.Save(context.Background(), Position{File: "f", Pos: 4}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Save into a missing directory = %v, want ErrNotExist", err)
	}
}

// Several stores (as several processes would) save into one file at the
// same time: no update is lost and every connector's last position is kept.
func TestFileStore_ConcurrentConnectors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "offsets.json")
	const connectors, saves = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, connectors*saves)
	for c := range connectors {
		s := NewFileStore(path, fmt.Sprintf("conn-%d", c), "p")
		wg.Go(func() {
			for i := 1; i <= saves; i++ {
				if err := s.Save(ctx, Position{File: "f", Pos: uint64(i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	// One store shared by goroutines, too.
	shared := NewFileStore(path, "shared", "p")
	for g := range 2 {
		wg.Go(func() {
			for i := 1; i <= saves; i++ {
				if err := shared.Save(ctx, Position{File: fmt.Sprintf("g%d", g), Pos: uint64(i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for c := range connectors {
		p, ok, err := NewFileStore(path, fmt.Sprintf("conn-%d", c), "p").Load(ctx)
		if err != nil || !ok || p.Pos != saves {
			t.Errorf("conn-%d: Load = %v, %v, %v; want pos %d", c, p, ok, err, saves)
		}
	}
	if p, ok, err := shared.Load(ctx); err != nil || !ok || p.Pos != saves {
		t.Errorf("shared: Load = %v, %v, %v", p, ok, err)
	}
	noTemps(t, dir)
}
