package verify

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/linkedin/goavro/v2"
)

// AvroCodec reads records in Confluent's wire format (magic byte 0, the
// 4-byte schema id, the Avro binary datum), as the AvroConverter and
// Rivulet's Avro encoder write them, with the schemas the registry holds
// under their ids. Keys and after-images are rendered as JSON (goavro's
// native values: unions as {"type": value}, bytes as base64), a form equal
// for equal records, which KeyCondition and Columns read.
type AvroCodec struct {
	// Schema returns the schema registered under id (a schema registry
	// client's GET /schemas/ids/{id}). Required.
	Schema func(ctx context.Context, id int) (string, error)

	codecs map[int]*goavro.Codec
}

// NewAvroCodec returns an AvroCodec reading schemas through schema.
func NewAvroCodec(schema func(ctx context.Context, id int) (string, error)) *AvroCodec {
	return &AvroCodec{Schema: schema, codecs: map[int]*goavro.Codec{}}
}

func (c *AvroCodec) decode(ctx context.Context, b []byte) (map[string]any, error) {
	if len(b) < 5 || b[0] != 0 {
		return nil, fmt.Errorf("%w: not Confluent's Avro wire format (magic byte 0 and a schema id); is the converter AvroConverter?", ErrRecord)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	codec := c.codecs[id]
	if codec == nil {
		s, err := c.Schema(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("schema id %d from the registry: %w", id, err)
		}
		if codec, err = goavro.NewCodec(s); err != nil {
			return nil, fmt.Errorf("%w: schema id %d: %w", ErrRecord, id, err)
		}
		c.codecs[id] = codec
	}
	native, rest, err := codec.NativeFromBinary(b[5:])
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: decode with schema id %d: %v (%d bytes left)", ErrRecord, id, err, len(rest))
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: schema id %d is not a record", ErrRecord, id)
	}
	return m, nil
}

// Decode implements Codec.
func (c *AvroCodec) Decode(ctx context.Context, key, value []byte) (Canon, error) {
	var out Canon
	if key != nil {
		k, err := c.decode(ctx, key)
		if err != nil {
			return out, err
		}
		if out.Key, err = json.Marshal(k); err != nil {
			return out, fmt.Errorf("%w: key: %w", ErrRecord, err)
		}
	}
	if value == nil {
		return out, nil // tombstone
	}
	v, err := c.decode(ctx, value)
	if err != nil {
		return out, err
	}
	op, _ := v["op"].(string)
	if len(op) != 1 {
		return out, fmt.Errorf("%w: Avro value without a Debezium op (%q)", ErrRecord, op)
	}
	out.Op = op[0]
	if !out.Live() {
		return out, nil
	}
	after := unionValue(v["after"])
	if after == nil {
		return out, fmt.Errorf("%w: op %q without after", ErrRecord, op)
	}
	if out.After, err = json.Marshal(after); err != nil {
		return out, fmt.Errorf("%w: after: %w", ErrRecord, err)
	}
	return out, nil
}

// unionValue unwraps goavro's {"type": value} of an optional field.
func unionValue(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}
