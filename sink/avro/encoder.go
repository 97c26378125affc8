package avro

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// ConverterClass is Confluent's io.confluent.connect.avro.AvroConverter.
const ConverterClass = "io.confluent.connect.avro.AvroConverter"

// SchemaRegistrar registers a schema under a subject of a Confluent-compatible
// schema registry and returns its id. Registry implements it.
type SchemaRegistrar interface {
	Register(ctx context.Context, subject, schema string) (int, error)
}

// Config configures Avro encoding of keys and values, as Kafka Connect's
// AvroConverter does for Debezium.
type Config struct {
	// Registry registers the key and value schemas (subjects <topic>-key and
	// <topic>-value, Confluent's TopicNameStrategy). Required.
	Registry SchemaRegistrar
	// SchemaNames is schema.name.adjustment.mode: applied to the Key, Value
	// and Envelope record names.
	SchemaNames NameAdjustment
	// FieldNames is field.name.adjustment.mode: applied to column field names.
	FieldNames NameAdjustment
}

// Encoder encodes change events in Confluent's wire format (magic byte 0, the
// 4-byte schema id, the Avro binary datum) with the Avro schemas Confluent's
// AvroData derives from Debezium's Connect schemas (see schema.go). It
// shares the column mapping, topic names and record rules (tombstones,
// primary-key changes, skipped operations) of the JSON encoder. It is safe
// for concurrent use.
//
// The schemas of a table version are built and registered once, on its
// first event; registration retries while the registry is unavailable, so
// that AppendRecords blocks (the pipeline slows down) instead of losing or
// misencoding an event.
type Encoder struct {
	p         *sink.Planner // the record planner: tables, topics, skipped operations
	cfg       Config
	jcfg      sink.JSONConfig
	now       func() time.Time
	sourcePre []byte // version, connector, name as Avro strings

	tables     sync.Map // *schema.Table -> *avroTable
	tableCount atomic.Int64
	mu         sync.Mutex // serialises schema registration
}

// avroCol is an emitted column with its Avro field name.
type avroCol struct {
	c    sink.Column
	name string
}

// avroTable is the Avro side of one table version.
type avroTable struct {
	te          sink.Table
	cols        []avroCol
	keyCols     []avroCol
	keySchema   string
	valueSchema string
	keyHdr      [5]byte
	valueHdr    [5]byte
	db          []byte // Avro string
	table       []byte // union branch 1 + Avro string
}

// New returns an Avro encoder for cfg (the JSON encoder's settings;
// KeySchemas and ValueSchemas make no difference) and acfg.
func New(cfg sink.JSONConfig, acfg Config) (*Encoder, error) {
	if acfg.Registry == nil {
		return nil, fmt.Errorf("%w: Avro needs a schema registry; set schema.registry.url", sink.ErrConfig)
	}
	if int(acfg.SchemaNames) >= len(nameAdjustNames) || int(acfg.FieldNames) >= len(nameAdjustNames) {
		return nil, fmt.Errorf("%w: unknown name adjustment mode", sink.ErrConfig)
	}
	if len(cfg.Transforms) > 0 || len(cfg.ColumnMappers) > 0 || cfg.SkipMessagesWithoutChange {
		return nil, fmt.Errorf("%w: transforms, column.mask.*, column.truncate.* and skip.messages.without.change are not supported yet with the Avro converter", sink.ErrConfig)
	}
	cfg.KeySchemas, cfg.ValueSchemas = false, false
	planner, err := sink.NewPlanner(cfg)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	version := cfg.Version
	if version == "" {
		version = "unknown"
	}
	var p []byte
	p = appendAvroString(p, version)
	p = appendAvroString(p, cfg.Connector.String())
	p = appendAvroString(p, cfg.TopicPrefix)
	return &Encoder{p: planner, cfg: acfg, jcfg: cfg, now: now, sourcePre: p}, nil
}

// Topic returns the topic of t's change events (as JSON.Topic).
func (a *Encoder) Topic(t *schema.Table) (string, error) { return a.p.Topic(t) }

// TableTopic implements sink.TableTopicFormat: the planner's topic (Avro
// takes no transforms).
func (a *Encoder) TableTopic(t *schema.Table) (string, bool) {
	topic, err := a.p.Topic(t)
	return topic, err == nil
}

// DataRecords is the planner's DataRecords (the Avro format has no
// transforms).
func (a *Encoder) DataRecords(ev *event.ChangeEvent) int { return a.p.DataRecords(ev) }

// Schemas returns the Avro key schema ("" for a table without key) and
// value schema of t, without registering them.
func (a *Encoder) Schemas(t *schema.Table) (key, value string, err error) {
	at, err := a.build(t)
	if err != nil {
		return "", "", err
	}
	return at.keySchema, at.valueSchema, nil
}

func (a *Encoder) build(t *schema.Table) (*avroTable, error) {
	te, err := a.p.Table(t)
	if err != nil {
		return nil, err
	}
	at := &avroTable{te: te}
	cols := func(cs []sink.Column) []avroCol {
		out := make([]avroCol, len(cs))
		for i := range cs {
			out[i] = avroCol{c: cs[i], name: a.cfg.FieldNames.adjust(cs[i].Name())}
		}
		return out
	}
	at.cols, at.keyCols = cols(te.Columns()), cols(te.KeyColumns())
	fail := func(err error) error { return &sink.EncodeError{Table: t.DB + "." + t.Name, Err: err} }
	if len(at.keyCols) > 0 {
		if at.keySchema, err = avroKeySchema(at.keyCols, a.cfg.SchemaNames.adjust(te.Topic()+".Key")); err != nil {
			return nil, fail(err)
		}
	}
	at.valueSchema, err = avroValueSchema(at.cols, a.cfg.SchemaNames.adjust(te.Topic()+".Value"),
		a.cfg.SchemaNames.adjust(te.Topic()+".Envelope"), a.jcfg.Connector.String())
	if err != nil {
		return nil, fail(err)
	}
	at.db = appendAvroString(nil, t.DB)
	at.table = appendAvroString([]byte{2}, t.Name)
	return at, nil
}

// table returns the prepared table version, building and registering its
// schemas on first use.
func (a *Encoder) table(ctx context.Context, t *schema.Table) (*avroTable, error) {
	if v, ok := a.tables.Load(t); ok {
		return v.(*avroTable), nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, ok := a.tables.Load(t); ok {
		return v.(*avroTable), nil
	}
	at, err := a.build(t)
	if err != nil {
		return nil, err
	}
	if at.keySchema != "" {
		id, err := a.cfg.Registry.Register(ctx, at.te.Topic()+"-key", at.keySchema)
		if err != nil {
			return nil, fmt.Errorf("register key schema of %s.%s: %w", t.DB, t.Name, err)
		}
		at.keyHdr = wireHeader(id)
	}
	id, err := a.cfg.Registry.Register(ctx, at.te.Topic()+"-value", at.valueSchema)
	if err != nil {
		return nil, fmt.Errorf("register value schema of %s.%s: %w", t.DB, t.Name, err)
	}
	at.valueHdr = wireHeader(id)
	if a.tableCount.Add(1) > sink.MaxCachedTables {
		a.tables.Clear()
		a.tableCount.Store(1)
	}
	a.tables.Store(t, at)
	return at, nil
}

// wireHeader is Confluent's wire-format prefix: magic byte 0 and the
// schema id, big-endian.
func wireHeader(id int) [5]byte {
	var h [5]byte
	binary.BigEndian.PutUint32(h[1:], uint32(id))
	return h
}

// AppendRecords appends the records of ev to recs as JSON.AppendRecords
// does, Avro-encoded. It registers the schemas of a table version not seen
// before, retrying (blocking) until the registry answers or ctx ends.
func (a *Encoder) AppendRecords(ctx context.Context, recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	n, start := len(recs), len(buf)
	recs, buf, err := a.appendRecords(ctx, recs, buf, ev)
	if err != nil {
		if ev.Table != nil {
			err = sink.WithTable(err, ev.Table)
		}
		return recs[:n], buf[:start], err
	}
	return recs, buf, nil
}

func (a *Encoder) appendRecords(ctx context.Context, recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	if a.p.Skips(ev.Op) {
		return recs, buf, nil
	}
	if ev.Table == nil {
		return recs, buf, fmt.Errorf("%w: event without table", sink.ErrEncode)
	}
	at, err := a.table(ctx, ev.Table)
	if err != nil {
		return recs, buf, err
	}
	// The key-change headers are the JSON encoder's: Connect's
	// SimpleHeaderConverter renders them whatever the converter.
	return sink.AppendRecordsWith(at.te, avroRender{a, at, ev}, recs, buf, ev, a.jcfg.TombstonesOnDelete)
}

// avroRender renders planned records in Confluent's Avro wire format.
type avroRender struct {
	a  *Encoder
	at *avroTable
	ev *event.ChangeEvent
}

func (r avroRender) AppendKey(dst []byte, row []event.Value) ([]byte, error) {
	return appendAvroKey(dst, r.at, row)
}

func (r avroRender) AppendValue(dst []byte, op event.Op, before, after []event.Value) ([]byte, error) {
	return r.a.appendValue(dst, r.at, r.ev, op, before, after)
}

func appendAvroKey(dst []byte, at *avroTable, row []event.Value) ([]byte, error) {
	dst = append(dst, at.keyHdr[:]...)
	return appendAvroRow(dst, at.keyCols, row)
}

// appendValue writes the envelope: before, after, source, transaction, op,
// ts_ms, ts_us, ts_ns.
func (a *Encoder) appendValue(dst []byte, at *avroTable, ev *event.ChangeEvent, op event.Op, before, after []event.Value) ([]byte, error) {
	dst = append(dst, at.valueHdr[:]...)
	var err error
	for _, row := range [2][]event.Value{before, after} {
		if row == nil {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 2)
		if dst, err = appendAvroRow(dst, at.cols, row); err != nil {
			return dst, err
		}
	}
	s := &ev.Source
	dst = append(dst, a.sourcePre...)
	dst = binary.AppendVarint(dst, sink.FloorDiv(s.TsUs, 1000))
	dst = append(dst, 0) // snapshot: the string branch
	if s.Snapshot == "" {
		dst = appendAvroString(dst, "false")
	} else {
		dst = appendAvroString(dst, s.Snapshot)
	}
	dst = append(dst, at.db...)
	dst = append(dst, 0, 2) // sequence null, ts_us present
	dst = binary.AppendVarint(dst, s.TsUs)
	dst = append(dst, 2)
	dst = binary.AppendVarint(dst, s.TsUs*1000)
	dst = append(dst, at.table...)
	dst = binary.AppendVarint(dst, int64(s.ServerID))
	dst = appendOptAvroString(dst, s.GTID)
	dst = appendAvroString(dst, s.File)
	dst = binary.AppendVarint(dst, int64(s.Pos))
	dst = binary.AppendVarint(dst, int64(s.Row))
	if s.Thread < 0 {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 2)
		dst = binary.AppendVarint(dst, s.Thread)
	}
	dst = appendOptAvroString(dst, s.Query)
	if ev.Tx.ID == "" {
		dst = append(dst, 0)
	} else {
		total, dc := sink.TxOrders(ev, op)
		dst = appendAvroString(append(dst, 2), ev.Tx.ID)
		dst = binary.AppendVarint(dst, total)
		dst = binary.AppendVarint(dst, dc)
	}
	dst = append(dst, 2, byte(op))
	ns := a.now().UnixNano()
	dst = append(dst, 2)
	dst = binary.AppendVarint(dst, sink.FloorDiv(ns, 1_000_000))
	dst = append(dst, 2)
	dst = binary.AppendVarint(dst, sink.FloorDiv(ns, 1000))
	dst = append(dst, 2)
	return binary.AppendVarint(dst, ns), nil
}

func appendAvroString(dst []byte, s string) []byte {
	dst = binary.AppendVarint(dst, int64(len(s)))
	return append(dst, s...)
}

func appendAvroBytes(dst, b []byte) []byte {
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// appendOptAvroString writes a ["null","string"] union: "" is null.
func appendOptAvroString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, 0)
	}
	return appendAvroString(append(dst, 2), s)
}

func appendAvroRow(dst []byte, cols []avroCol, row []event.Value) ([]byte, error) {
	for i := range cols {
		c := cols[i].c
		var err error
		if dst, err = appendAvroField(c, dst, &row[c.Index()]); err != nil {
			return dst, &sink.EncodeError{Column: c.Name(), Err: err}
		}
	}
	return dst, nil
}

// unionBranches returns the union indexes (zig-zag encoded) of null and of
// the value for an optional column: ["null", T], or [T, "null"] when the
// column has a default (AvroData.maybeMakeOptional).
func unionBranches(e sink.Column) (null, value byte) {
	if e.Default() != nil && e.Kind() != sink.KindGeometry && e.Kind() != sink.KindPoint {
		return 2, 0
	}
	return 0, 2
}

// appendAvroField writes one field: the union branch of an optional column,
// then the datum.
func appendAvroField(e sink.Column, dst []byte, v *event.Value) ([]byte, error) {
	nullB, valB := unionBranches(e)
	if v.Kind == event.KindNull {
		if !e.Nullable() {
			return dst, fmt.Errorf("%w: NULL in a NOT NULL column", sink.ErrValue)
		}
		return append(dst, nullB), nil
	}
	start := len(dst)
	if e.Nullable() {
		dst = append(dst, valB)
	}
	out, isNull, err := appendAvro(e, dst, v)
	switch {
	case err != nil:
		return dst[:start], err
	case isNull && e.Nullable():
		// A value the mapping renders as null (out of its type's range).
		return append(dst[:start], nullB), nil
	case isNull:
		return dst[:start], sink.ErrOutOfRange
	}
	return out, nil
}

// appendAvro writes the Avro datum of a non-null value. Binary, floating
// point, decimal and geometry values are written directly; every other
// kind is rendered by the JSON mapping (appendValue, a few bytes on the
// stack) and converted, so that both encoders apply the same conversions
// (time adjuster, ranges, ISO formats). null reports a value the mapping
// renders as null.
func appendAvro(e sink.Column, dst []byte, v *event.Value) (out []byte, null bool, err error) {
	switch e.Kind() {
	case sink.KindBits:
		var tmp [8]byte
		var src []byte
		switch v.Kind {
		case event.KindBits:
			src = v.B
		case event.KindInt, event.KindUint:
			binary.BigEndian.PutUint64(tmp[:], uint64(v.I))
			src = tmp[:]
		default:
			return dst, false, sink.ErrValue
		}
		n := e.Size()
		dst = binary.AppendVarint(dst, int64(n))
		for i := 0; i < n; i++ {
			var b byte
			if i < len(src) {
				b = src[len(src)-1-i]
			}
			dst = append(dst, b)
		}
		return dst, false, nil
	case sink.KindFloat32:
		switch v.Kind {
		case event.KindFloat, event.KindDouble:
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v.Float64()))), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindFloat64:
		switch v.Kind {
		case event.KindFloat, event.KindDouble:
			return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float64())), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindDecimalBytes:
		if v.Kind == event.KindDecimal {
			var out [33]byte
			b, ok := sink.DecimalUnscaled(&out, v.B, e.Size())
			if !ok {
				return dst, false, fmt.Errorf("%w: decimal %q does not fit scale %d", sink.ErrValue, v.B, e.Size())
			}
			return appendAvroBytes(dst, b), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindDecimalDouble:
		if v.Kind == event.KindDecimal {
			f, err := strconv.ParseFloat(string(v.B), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return dst, false, fmt.Errorf("%w: decimal %q: %v", sink.ErrValue, v.B, err)
			}
			return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindUintDecimal:
		switch v.Kind {
		case event.KindUint, event.KindInt:
			var out [33]byte
			return appendAvroBytes(dst, sink.UintUnscaled(&out, uint64(v.I))), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindString:
		switch v.Kind {
		case event.KindString, event.KindJSON, event.KindBytes:
			if utf8.Valid(v.B) {
				return appendAvroBytes(dst, v.B), false, nil
			}
			// Invalid UTF-8 becomes what the JSON text holds (U+FFFD).
			s, err := unquoteJSON(sink.AppendJSONBytes(nil, v.B))
			if err != nil {
				return dst, false, err
			}
			return appendAvroString(dst, s), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindBytes, sink.KindBinBase64, sink.KindBinBase64URL, sink.KindBinHex:
		switch v.Kind {
		case event.KindBytes, event.KindString:
			return appendAvroBinary(e, dst, v.B), false, nil
		}
		return dst, false, sink.ErrValue
	case sink.KindGeometry, sink.KindPoint:
		if v.Kind == event.KindBytes {
			out, err := appendAvroGeometry(e, dst, v.B)
			return out, false, err
		}
		return dst, false, sink.ErrValue
	}
	// Render the JSON text at the end of dst, then replace it by its datum
	// in place: no scratch buffer, nothing allocated.
	start := len(dst)
	dst, err = e.AppendJSON(dst, v)
	if err != nil {
		return dst[:start], false, err
	}
	text := dst[start:]
	if string(text) == "null" {
		return dst[:start], true, nil
	}
	switch e.ConnectType() {
	case "boolean":
		return append(dst[:start], b2u8(string(text) == "true")), false, nil
	case "int8", "int16", "int32", "int64":
		n, ok := parseJSONInt(text)
		if !ok {
			return dst[:start], false, fmt.Errorf("%w: %s is not an integer", sink.ErrValue, text)
		}
		return binary.AppendVarint(dst[:start], n), false, nil
	case "string":
		if len(text) >= 2 && text[0] == '"' && bytes.IndexByte(text, '\\') < 0 {
			// "body" becomes varint(len) body.
			n := len(text) - 2
			var vi [binary.MaxVarintLen64]byte
			l := binary.PutVarint(vi[:], int64(n))
			if l > 2 {
				dst = append(dst, vi[:l-2]...) // room; overwritten below
			}
			copy(dst[start+l:], dst[start+1:start+1+n])
			copy(dst[start:], vi[:l])
			return dst[:start+l+n], false, nil
		}
		s, err := unquoteJSON(text)
		if err != nil {
			return dst[:start], false, err
		}
		return appendAvroString(dst[:start], s), false, nil
	}
	return dst[:start], false, fmt.Errorf("%w: no Avro rendering for Connect type %s", sink.ErrValue, e.ConnectType())
}

// parseJSONInt parses a JSON integer without allocating.
func parseJSONInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func unquoteJSON(text []byte) (string, error) {
	var s string
	if err := json.Unmarshal(text, &s); err != nil {
		return "", fmt.Errorf("%w: %s is not a JSON string", sink.ErrValue, text)
	}
	return s, nil
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendAvroBinary writes binary data per binary.handling.mode (bytes, or a
// string of its base64/hex text), right-padding BINARY(n) as appendBinary.
func appendAvroBinary(e sink.Column, dst, b []byte) []byte {
	if n := e.Size(); n > len(b) {
		p := make([]byte, n)
		copy(p, b)
		b = p
	}
	switch e.Kind() {
	case sink.KindBinBase64:
		dst = binary.AppendVarint(dst, int64(base64.StdEncoding.EncodedLen(len(b))))
		return base64.StdEncoding.AppendEncode(dst, b)
	case sink.KindBinBase64URL:
		dst = binary.AppendVarint(dst, int64(base64.URLEncoding.EncodedLen(len(b))))
		return base64.URLEncoding.AppendEncode(dst, b)
	case sink.KindBinHex:
		dst = binary.AppendVarint(dst, int64(2*len(b)))
		return hex.AppendEncode(dst, b)
	}
	return appendAvroBytes(dst, b)
}

// appendAvroGeometry writes the Geometry {wkb, srid} or Point {x, y, wkb,
// srid} record (see appendGeometry).
func appendAvroGeometry(e sink.Column, dst, b []byte) ([]byte, error) {
	if len(b) < 4 {
		return dst, fmt.Errorf("%w: geometry shorter than its SRID", sink.ErrValue)
	}
	srid := int32(binary.LittleEndian.Uint32(b))
	wkb := b[4:]
	if e.Kind() == sink.KindPoint {
		x, y, ok := sink.ParseWKBPoint(wkb)
		if !ok {
			return dst, fmt.Errorf("%w: POINT column holds a WKB that is not a 2D point", sink.ErrValue)
		}
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(y))
		dst = append(dst, 2) // wkb is optional in Point
	}
	dst = appendAvroBytes(dst, wkb)
	if srid == 0 {
		return append(dst, 0), nil
	}
	dst = append(dst, 2)
	return binary.AppendVarint(dst, int64(srid)), nil
}
