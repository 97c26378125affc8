package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// connectFixture is what Apache Kafka 4.3.0's FileOffsetBackingStore (the
// offsets of Connect standalone) wrote for two connectors: the class itself
// called from a small Java main (set() of the two entries, schemas off as
// the worker's internal converter), not a file written by hand.
const connectFixture = "testdata/connect-standalone.offsets"

var connectEntries = map[string]json.RawMessage{
	`["dbz",{"server":"df"}]`:  json.RawMessage(`{"file":"mysql-bin.000003","pos":1547,"gtids":"0-1-5"}`),
	`["other",{"server":"x"}]`: json.RawMessage(`{"file":"f.1","pos":4}`),
}

func TestConnectFile_Decode(t *testing.T) {
	data, err := os.ReadFile(connectFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !isConnectFile(data) {
		t.Fatalf("%s not recognised as a Connect offsets file", connectFixture)
	}
	got, err := decodeConnectFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(connectEntries, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	// Written back, the bytes are Java's own (same layout, same handles).
	if enc := encodeConnectFile(got); !bytes.Equal(enc, data) {
		t.Errorf("encodeConnectFile differs from FileOffsetBackingStore's bytes:\n got %x\nwant %x", enc, data)
	}
}

func TestConnectFile_RoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 13, 40} {
		in := map[string]json.RawMessage{}
		for i := range n {
			in[string(Key("c", "p"+string(rune('a'+i%26))+string(rune('0'+i/26))))] = MarshalValue(Position{File: "f.1", Pos: uint64(4 + i)})
		}
		out, err := decodeConnectFile(encodeConnectFile(in))
		if err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
		if len(out) != len(in) {
			t.Fatalf("%d entries: got %d back", n, len(out))
		}
		for k, v := range in {
			if !bytes.Equal(out[k], v) {
				t.Errorf("%d entries: %s = %s, want %s", n, k, out[k], v)
			}
		}
	}
}

func TestConnectFile_Truncated(t *testing.T) {
	data, err := os.ReadFile(connectFixture)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(javaMagic); i < len(data); i++ {
		if _, err := decodeConnectFile(data[:i]); !errors.Is(err, errJava) {
			t.Fatalf("truncated at %d: err = %v, want errJava", i, err)
		}
	}
}

// A FileStore on a Connect standalone worker's offsets file reads the
// connector's position from it and writes it back in Connect's form,
// keeping the other connectors' entries: the worker can read it again.
func TestFileStore_ConnectStandaloneFile(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(connectFixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "connect.offsets")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewFileStore(path, "dbz", "df")
	p, ok, err := s.Load(ctx)
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v, %v", p, ok, err)
	}
	if want := (Position{File: "mysql-bin.000003", Pos: 1547, GTIDSet: "0-1-5"}); p != want {
		t.Errorf("Load = %+v, want %+v", p, want)
	}
	next := Position{File: "mysql-bin.000004", Pos: 4, GTIDSet: "0-1-9", TsSec: 1700000000, ServerID: 1}
	if err := s.Save(ctx, next); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !isConnectFile(written) {
		t.Fatalf("Save rewrote Connect's file in another form: %q", written)
	}
	entries, err := decodeConnectFile(written)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]json.RawMessage{
		`["dbz",{"server":"df"}]`:  MarshalValue(next),
		`["other",{"server":"x"}]`: connectEntries[`["other",{"server":"x"}]`],
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries after Save (-want +got):\n%s", diff)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := NewFileStore(path, "dbz", "df").Load(ctx); err != nil || ok {
		t.Fatalf("Load after Delete = %v, %v", ok, err)
	}
}

// FuzzDecodeConnectFile: no panic; errors wrap errJava; what decodes
// encodes to a file that decodes to the same entries.
func FuzzDecodeConnectFile(f *testing.F) {
	data, err := os.ReadFile(connectFixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(encodeConnectFile(nil))
	for _, n := range []int{5, 20, 0x60, len(data) - 1} {
		f.Add(data[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeConnectFile(b)
		if err != nil {
			if !errors.Is(err, errJava) {
				t.Fatalf("error %v does not wrap errJava", err)
			}
			return
		}
		again, err := decodeConnectFile(encodeConnectFile(entries))
		if err != nil {
			t.Fatalf("re-encoded file: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, want %d", len(again), len(entries))
		}
		for k, v := range entries {
			var want bytes.Buffer
			_ = json.Compact(&want, v)
			if !bytes.Equal(again[k], want.Bytes()) {
				t.Fatalf("round trip of %q: %s, want %s", k, again[k], want.Bytes())
			}
		}
	})
}
