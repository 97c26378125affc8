package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Canon is one record reduced to what the comparison needs. Key is the key
// as a JSON object of the key fields in key order (its canonical form,
// equal for equal keys); After is the after-image in a form equal for equal
// rows (the JSON text Rivulet writes). Both may point into the decoded
// record or a buffer of the Codec: valid until the next Decode.
type Canon struct {
	Key   []byte
	After []byte
	// Op is 'c', 'u', 'r' (the key holds After), 'd' or 0 for a tombstone
	// (the key is removed), 't' for a truncate (every key is removed).
	Op byte
}

// Live reports whether the record leaves its key present.
func (c *Canon) Live() bool { return c.Op == 'c' || c.Op == 'u' || c.Op == 'r' }

// Codec reduces a Kafka record of the table's topic to a Canon. The same
// Codec reads the records verify encodes from the database, so both sides
// compare in one form.
type Codec interface {
	Decode(ctx context.Context, key, value []byte) (Canon, error)
}

// JSONCodec reads Kafka Connect JsonConverter records, with or without the
// schema wrapper ({"schema":…,"payload":…}), of the Debezium envelope or of
// a flattened value (ExtractNewRecordState: no "op", the row itself, a
// "__deleted":"true" field for a rewritten delete).
type JSONCodec struct {
	KeySchemas, ValueSchemas bool
}

var jsonNull = []byte("null")

// payloadOf returns the "payload" member of a JsonConverter record with
// schemas ({"schema":…,"payload":…}).
func payloadOf(b []byte) ([]byte, error) {
	var p []byte
	err := eachField(b, func(k, v []byte) bool {
		if string(k) == "payload" {
			p = v
			return false
		}
		return true
	})
	if err == nil && p == nil {
		err = errors.New(`no "payload" member`)
	}
	return p, err
}

// Decode implements Codec.
func (c JSONCodec) Decode(_ context.Context, key, value []byte) (Canon, error) {
	var out Canon
	out.Key = key
	if c.KeySchemas && key != nil {
		p, err := payloadOf(key)
		if err != nil {
			return out, fmt.Errorf("%w: key is not JSON with a schema (key.converter.schemas.enable=true): %w", ErrRecord, err)
		}
		out.Key = p
	}
	if value == nil {
		return out, nil // tombstone
	}
	payload := value
	if c.ValueSchemas {
		p, err := payloadOf(value)
		if err != nil {
			return out, fmt.Errorf("%w: value is not JSON with a schema (value.converter.schemas.enable=true): %w", ErrRecord, err)
		}
		payload = p
	}
	if bytes.Equal(payload, jsonNull) || len(payload) == 0 {
		return out, nil
	}
	var after, op, deleted []byte
	var hasAfter bool
	err := eachField(payload, func(k, v []byte) bool {
		switch string(k) {
		case "after":
			after, hasAfter = v, true
		case "op":
			op = v
		case "__deleted":
			deleted = v
		}
		return true
	})
	if err != nil {
		return out, fmt.Errorf("%w: value is %w", ErrRecord, err)
	}
	switch {
	case op == nil || !hasAfter:
		// A flattened row (ExtractNewRecordState): the envelope has op
		// and after; a row has them only as columns.
		if string(deleted) == `"true"` || string(deleted) == "true" {
			out.Op = 'd'
			return out, nil
		}
		out.Op, out.After = 'r', stripAdded(payload)
		return out, nil
	case len(op) == 3 && op[0] == '"' && op[2] == '"':
		out.Op, out.After = op[1], after
	default:
		return out, fmt.Errorf("%w: unknown op %s", ErrRecord, op)
	}
	if !out.Live() {
		out.After = nil
	} else if len(out.After) == 0 || bytes.Equal(out.After, jsonNull) {
		return out, fmt.Errorf("%w: op %q without after", ErrRecord, out.Op)
	}
	return out, nil
}

// stripAdded removes the fields ExtractNewRecordState's add.fields adds
// to a flattened row (__op, __source_ts_ms, __deleted, ...: the "__"
// prefix): they describe the change, not the row, and a snapshot read of
// the same row would carry other values.
func stripAdded(row []byte) []byte {
	if !bytes.Contains(row, []byte(`"__`)) {
		return row
	}
	keys, vals, ok := fields(row)
	if !ok {
		return row
	}
	out := []byte{'{'}
	for _, k := range keys {
		if strings.HasPrefix(k, "__") {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, vals[k]...)
	}
	return append(out, '}')
}

// Columns returns the names of the top-level fields whose values differ
// between two JSON objects a and b (in a's order, then b's extra fields);
// nil when either is not an object.
func Columns(a, b []byte) []string {
	ka, va, okA := fields(a)
	kb, vb, okB := fields(b)
	if !okA || !okB {
		return nil
	}
	var out []string
	for _, k := range ka {
		w, ok := vb[k]
		if !ok || !jsonEqual(va[k], w) {
			out = append(out, k)
		}
	}
	for _, k := range kb {
		if _, ok := va[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// fields returns an object's field names in order and their values.
func fields(b []byte) ([]string, map[string]json.RawMessage, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals, true
}

func jsonEqual(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
