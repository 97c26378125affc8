package sink

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// MySQL 9's VECTOR(n) holds n little-endian IEEE 754 floats. Debezium 3.x
// emits it as io.debezium.data.FloatVector: a Connect ARRAY of FLOAT32
// (SchemaFactory.datatypeFloatVectorSchema), which JsonConverter writes as
// a JSON array of Float.toString numbers. The Avro encoder refuses the
// array type with an error naming the column.

// floatVectorItems is the array schema's "items" member as JsonConverter
// writes it (before "optional", as asJsonSchema orders them).
const floatVectorItems = `"items":{"type":"float","optional":false}`

// isVector reports a MySQL VECTOR column (schema.TypeUnknown by type name).
func isVector(c *schema.Column) bool {
	return c.Type == schema.TypeUnknown && strings.EqualFold(c.TypeName, "VECTOR")
}

func vectorMapper(_ *JSONConfig, _ *schema.Column, e *colEnc) {
	e.kind = kFloatVector
	e.schema = ConnectSchema{typ: "array", fields: floatVectorItems, name: "io.debezium.data.FloatVector", version: 1}
}

// appendFloatVector writes the floats of a VECTOR value as a JSON array.
func appendFloatVector(dst []byte, v *event.Value) ([]byte, error) {
	if v.Kind != event.KindBytes && v.Kind != event.KindString || len(v.B)%4 != 0 {
		return dst, errValue
	}
	dst = append(dst, '[')
	for i := 0; i < len(v.B); i += 4 {
		if i > 0 {
			dst = append(dst, ',')
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(v.B[i:]))
		dst = appendJavaFloat(dst, float64(f), 32)
	}
	return append(dst, ']'), nil
}
