package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromMap_Encoding(t *testing.T) {
	c, w := mustFromMap(t, with("decimal.handling.mode", "String", "time.precision.mode", "isostring",
		"bigint.unsigned.handling.mode", "precise", "binary.handling.mode", "base64-url-safe",
		"column.propagate.source.type", `db\.t\.c,db.u.d`, "datatype.propagate.source.type", `.+\.FLOAT`))
	if len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	want := Encoding{DecimalHandlingMode: "string", TimePrecisionMode: "isostring", BigIntUnsignedHandlingMode: "precise",
		BinaryHandlingMode: "base64-url-safe", PropagateSourceTypeColumns: `db\.t\.c,db.u.d`, PropagateSourceTypeDatatypes: `.+\.FLOAT`}
	if d := cmp.Diff(want, c.Encoding); d != "" {
		t.Errorf("Encoding (-want +got)\n%s", d)
	}
	c, _ = mustFromMap(t, with())
	if c.Encoding != (Encoding{}) {
		t.Errorf("default Encoding = %+v, want zero (Debezium's defaults)", c.Encoding)
	}
	for _, tc := range []struct {
		kv      []string
		errType error
	}{
		{[]string{"decimal.handling.mode", "float"}, ErrInvalid},
		{[]string{"time.precision.mode", "structured"}, ErrUnsupported},
		{[]string{"binary.handling.mode", "base32"}, ErrInvalid},
		{[]string{"column.propagate.source.type", "db.t.("}, ErrInvalid},
	} {
		if _, _, err := FromMap(with(tc.kv...)); !errors.Is(err, tc.errType) {
			t.Errorf("%v: err = %v, want %v", tc.kv, err, tc.errType)
		}
	}
}
