package sink

import (
	"bytes"
	"encoding/json"
	"flag"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// compareJSON fails unless got and want are the same bytes; on a mismatch it
// prints a cmp.Diff of the decoded JSON, or says that only formatting differs.
func compareJSON(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	var g, w any
	errG := json.Unmarshal(got, &g)
	errW := json.Unmarshal(want, &w)
	if errG != nil || errW != nil {
		t.Errorf("%s: bytes differ (decode errors got=%v want=%v)\n got: %s\nwant: %s", name, errG, errW, got, want)
		return
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", name, d)
		return
	}
	t.Errorf("%s: same JSON but different bytes (field order or formatting)\n got: %s\nwant: %s", name, got, want)
}
