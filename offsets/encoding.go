package offsets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Key returns the Kafka Connect offset key Debezium's binlog connectors
// use, the JSON array ["<connector name>",{"server":"<topic.prefix>"}]
// (BinlogPartition.getSourcePartition; DEBEZIUM-REFERENCE §4.2).
//
// The bytes are exactly those Kafka Connect writes (its JsonConverter,
// i.e. Jackson, without spaces): Connect hashes the serialized key to pick
// the offsets-topic partition, so a writer must match byte for byte to
// overwrite Debezium's entry.
func Key(connectorName, topicPrefix string) []byte {
	return AppendKey(make([]byte, 0, len(connectorName)+len(topicPrefix)+16), connectorName, topicPrefix)
}

// AppendKey appends Key(connectorName, topicPrefix) to dst.
func AppendKey(dst []byte, connectorName, topicPrefix string) []byte {
	dst = append(dst, '[')
	dst = appendJSONString(dst, connectorName)
	dst = append(dst, `,{"server":`...)
	dst = appendJSONString(dst, topicPrefix)
	return append(dst, "}]"...)
}

// ProgressKey is the offset value member holding Position.SnapshotProgress:
// Rivulet's own key, which Debezium's offset loader ignores.
const ProgressKey = "rivulet_snapshot"

// IncrementalKey is the offset value member holding Position.Incremental.
const IncrementalKey = "rivulet_incremental"

// MarshalValue returns the Kafka Connect offset value Debezium's
// BinlogOffsetContext writes for p: keys in the order of Debezium's
// documented examples, ts_sec, file, pos, gtids, row, server_id, event,
// snapshot; "file" and "pos" always, the others only when non-zero; then
// Rivulet's ProgressKey while a snapshot runs.
func MarshalValue(p Position) []byte { return AppendValue(make([]byte, 0, 128), p) }

// AppendValue appends MarshalValue(p) to dst.
func AppendValue(dst []byte, p Position) []byte {
	dst = append(dst, '{')
	if p.TsSec != 0 {
		dst = append(dst, `"ts_sec":`...)
		dst = strconv.AppendInt(dst, p.TsSec, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"file":`...)
	dst = appendJSONString(dst, p.File)
	dst = append(dst, `,"pos":`...)
	dst = strconv.AppendUint(dst, p.Pos, 10)
	if p.GTIDSet != "" {
		dst = append(dst, `,"gtids":`...)
		dst = appendJSONString(dst, p.GTIDSet)
	}
	if p.Row != 0 {
		dst = append(dst, `,"row":`...)
		dst = strconv.AppendInt(dst, int64(p.Row), 10)
	}
	if p.ServerID != 0 {
		dst = append(dst, `,"server_id":`...)
		dst = strconv.AppendUint(dst, uint64(p.ServerID), 10)
	}
	if p.Event != 0 {
		dst = append(dst, `,"event":`...)
		dst = strconv.AppendInt(dst, p.Event, 10)
	}
	if p.Snapshot != "" {
		dst = append(dst, `,"snapshot":`...)
		dst = appendJSONString(dst, p.Snapshot)
	}
	if p.SnapshotProgress != "" {
		dst = append(dst, `,"`+ProgressKey+`":`...)
		dst = appendJSONString(dst, p.SnapshotProgress)
	}
	if p.Incremental != "" {
		dst = append(dst, `,"`+IncrementalKey+`":`...)
		dst = appendJSONString(dst, p.Incremental)
	}
	return append(dst, '}')
}

// UnmarshalValue reads an offset value as Debezium's MySQL and MariaDB
// connectors write and load it: "file" is mandatory; "pos", "event", "row",
// "server_id" and "ts_sec" may be JSON numbers or decimal strings (Debezium
// reads them with Long.parseLong); "snapshot" may be a string ("INITIAL",
// "BLOCKING") or, as before Debezium 3.0.2, the boolean true (read as
// "INITIAL"); "snapshot_completed": true clears it. Newlines in "gtids"
// are dropped, as Debezium does. Keys Rivulet does not model (transaction
// metadata, incremental snapshot state) are ignored. Errors match ErrCorrupt.
func UnmarshalValue(data []byte) (Position, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return Position{}, fmt.Errorf("%w: offset value is not a JSON object: %w", ErrCorrupt, err)
	}
	if m == nil {
		return Position{}, fmt.Errorf("%w: offset value is null", ErrCorrupt)
	}
	var p Position
	file, ok, err := stringField(m, "file")
	switch {
	case err != nil:
		return Position{}, err
	case !ok || file == "":
		return Position{}, fmt.Errorf(`%w: offset value has no "file"`, ErrCorrupt)
	}
	p.File = file
	if p.Pos, err = uintField(m, "pos", 64); err != nil {
		return Position{}, err
	}
	gtids, _, err := stringField(m, "gtids")
	if err != nil {
		return Position{}, err
	}
	p.GTIDSet = strings.NewReplacer("\n", "", "\r", "").Replace(gtids)
	id, err := uintField(m, "server_id", 32)
	if err != nil {
		return Position{}, err
	}
	p.ServerID = uint32(id)
	ev, err := uintField(m, "event", 63)
	if err != nil {
		return Position{}, err
	}
	p.Event = int64(ev)
	row, err := uintField(m, "row", 31)
	if err != nil {
		return Position{}, err
	}
	p.Row = int32(row)
	if p.TsSec, err = intField(m, "ts_sec"); err != nil {
		return Position{}, err
	}
	if p.Snapshot, err = snapshotField(m); err != nil {
		return Position{}, err
	}
	if p.Snapshot != "" {
		if p.SnapshotProgress, _, err = stringField(m, ProgressKey); err != nil {
			return Position{}, err
		}
	}
	if p.Incremental, _, err = stringField(m, IncrementalKey); err != nil {
		return Position{}, err
	}
	return p, nil
}

// stringField reads a string member; null counts as absent.
func stringField(m map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%w: offset value %q is not a string: %s", ErrCorrupt, key, clip(raw))
	}
	return s, true, nil
}

// numberText returns the digits of a number member given as a JSON number
// or a JSON string; "" when absent or null.
func numberText(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: offset value %q is not a number: %s", ErrCorrupt, key, clip(raw))
		}
		return strings.TrimSpace(s), nil
	}
	return string(raw), nil
}

// uintField reads a non-negative integer member of at most bits bits.
func uintField(m map[string]json.RawMessage, key string, bits int) (uint64, error) {
	s, err := numberText(m, key)
	if err != nil || s == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: offset value %q is not an integer 0-%d: %s", ErrCorrupt, key, uint64(1)<<bits-1, clip([]byte(s)))
	}
	return n, nil
}

func intField(m map[string]json.RawMessage, key string) (int64, error) {
	s, err := numberText(m, key)
	if err != nil || s == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: offset value %q is not an integer: %s", ErrCorrupt, key, clip([]byte(s)))
	}
	return n, nil
}

func snapshotField(m map[string]json.RawMessage) (string, error) {
	if raw, ok := m["snapshot_completed"]; ok && string(bytes.TrimSpace(raw)) == "true" {
		return "", nil
	}
	raw, ok := m["snapshot"]
	if !ok {
		return "", nil
	}
	switch s := string(bytes.TrimSpace(raw)); s {
	case "null", "false":
		return "", nil
	case "true":
		return "INITIAL", nil
	}
	s, _, err := stringField(m, "snapshot")
	if err != nil {
		return "", err
	}
	switch strings.ToLower(s) {
	case "true":
		return "INITIAL", nil
	case "false":
		return "", nil
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

const hexDigits = "0123456789ABCDEF"

// appendJSONString appends s as a JSON string escaped the way Jackson's
// default generator does (Kafka Connect's JsonConverter): `"` and `\`
// backslashed, \b \t \n \f \r short forms, other control characters as
// \u00XX with upper-case hex, everything else (including '/', '<', '>',
// '&', U+2028) raw UTF-8. Invalid UTF-8 becomes U+FFFD, as a Java string
// would hold it.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
