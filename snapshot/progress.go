package snapshot

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Progress is where a snapshot resumes: tables are read in (db, name)
// order; every table before Table is done, and Table itself is done up to
// and including the key After (nil: from its start), or entirely when Done.
// The zero Progress means nothing was read yet. It travels in
// offsets.Position.SnapshotProgress (Encode / DecodeProgress).
type Progress struct {
	DB    string `json:"db,omitempty"`
	Table string `json:"table,omitempty"`
	// After is the upper key of the last delivered chunk, one entry per key
	// column: "i:<int64>", "u:<uint64>", "f:<float64 bits>", "s:<base64>".
	After []string `json:"after,omitempty"`
	Done  bool     `json:"done,omitempty"`
}

// IsZero reports whether p says nothing was read yet.
func (p Progress) IsZero() bool { return p.DB == "" && p.Table == "" }

// Encode returns p as the compact JSON text stored in the offset.
func (p Progress) Encode() string {
	b, _ := json.Marshal(p) // cannot fail: strings and a bool
	return string(b)
}

// DecodeProgress reads Encode's output; "" is the zero Progress.
func DecodeProgress(s string) (Progress, error) {
	var p Progress
	if s == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return p, fmt.Errorf("%w: %w", ErrProgress, err)
	}
	if _, err := decodeKey(p.After); err != nil {
		return p, err
	}
	return p, nil
}

// tableBefore orders tables the way a snapshot reads them.
func tableBefore(db, name, db2, name2 string) int {
	return cmp.Or(strings.Compare(db, db2), strings.Compare(name, name2))
}

// encodeKey renders key values (query arguments) for Progress.After.
func encodeKey(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case int64:
			out[i] = "i:" + strconv.FormatInt(v, 10)
		case uint64:
			out[i] = "u:" + strconv.FormatUint(v, 10)
		case float64:
			out[i] = "f:" + strconv.FormatUint(math.Float64bits(v), 16)
		case string:
			out[i] = "s:" + base64.StdEncoding.EncodeToString([]byte(v))
		default:
			out[i] = "n:"
		}
	}
	return out
}

func decodeKey(enc []string) ([]any, error) {
	if len(enc) == 0 {
		return nil, nil
	}
	out := make([]any, len(enc))
	for i, e := range enc {
		kind, text, ok := strings.Cut(e, ":")
		if !ok {
			return nil, fmt.Errorf("%w: key part %q", ErrProgress, e)
		}
		var err error
		switch kind {
		case "i":
			out[i], err = strconv.ParseInt(text, 10, 64)
		case "u":
			out[i], err = strconv.ParseUint(text, 10, 64)
		case "f":
			var bits uint64
			bits, err = strconv.ParseUint(text, 16, 64)
			out[i] = math.Float64frombits(bits)
		case "s":
			var b []byte
			b, err = base64.StdEncoding.DecodeString(text)
			out[i] = string(b)
		case "n":
			out[i] = nil
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: key part %q: %w", ErrProgress, e, err)
		}
	}
	return out, nil
}

// ComparePositions orders two binlog positions by file (the numeric
// suffix, so mysql-bin.999999 < mysql-bin.1000000) and offset; GTID sets
// and skip counts are ignored.
func ComparePositions(a, b offsets.Position) int {
	if a.File != b.File {
		pa, na := splitFile(a.File)
		pb, nb := splitFile(b.File)
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		if c := cmp.Compare(na, nb); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Pos, b.Pos)
}

func splitFile(f string) (string, uint64) {
	i := strings.LastIndexByte(f, '.')
	if i < 0 {
		return f, 0
	}
	n, err := strconv.ParseUint(f[i+1:], 10, 64)
	if err != nil {
		return f, 0
	}
	return f[:i], n
}

// AppendKey appends an identity of the key of row (values aligned with
// t.Columns) to dst: equal for the same key whether the row came from a
// snapshot chunk or a binlog event. Signed and unsigned integers of the
// same value are the same key.
func AppendKey(dst []byte, t *schema.Table, row []event.Value) []byte {
	for _, i := range t.ChunkKey() {
		v := row[i]
		dst = append(dst, byte(normKind(v.Kind)))
		dst = strconv.AppendInt(dst, v.I, 16)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(len(v.B)), 10)
		dst = append(dst, ':')
		dst = append(dst, v.B...)
	}
	return dst
}
