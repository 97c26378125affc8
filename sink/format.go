package sink

import (
	"context"
	"fmt"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// What a record format (sink/debeziumjson, sink/avro) needs from the
// sink: the Format interface the transports call, the planner's view of a table version (Table, Column), the planned record
// sequence rendered through a Renderer (AppendRecordsWith), and the shared
// value mapping's helpers. A format renders values the way the type
// mapping does (Column.AppendJSON), so that every format applies the same
// conversions; it owns only its envelope, its schemas and its wire format.

// Format renders change events, schema changes and transaction metadata as
// records: what the transports (KafkaConfig.Format, NewStdout) write, chosen
// by their caller (sink/debeziumjson's JSON.Format, or sink/avro's
// Encoder). Implementations are safe for concurrent use; they may block (a
// schema registry) until ctx ends. Records point into buf as with
// debeziumjson.JSON.AppendRecords.
type Format interface {
	AppendRecords(ctx context.Context, recs []Record, buf []byte, ev *event.ChangeEvent) ([]Record, []byte, error)
	// SchemaChangeRecords renders the schema-change events of one
	// statement (debeziumjson.JSON.SchemaChangeRecords).
	SchemaChangeRecords(ctx context.Context, c *schema.Change, src event.Source) ([]Record, error)
	AppendTransaction(ctx context.Context, recs []Record, buf []byte, topic string, m *event.Transaction) ([]Record, []byte, error)
	// DataRecords returns how many data change records ev becomes,
	// tombstones not counted (Planner.DataRecords, and what the format's
	// transforms drop).
	DataRecords(ev *event.ChangeEvent) int
}

// EventsFormat is what a Format may also implement to render a batch of
// events in one call, sharing what their records share (Debezium JSON: one
// reading of the processing clock, the source block of consecutive
// records). The transports render a batch with it when their Format has
// it (appendEvents), else event by event.
type EventsFormat interface {
	// AppendEvents appends the records of events in order, as
	// AppendRecords does for each; on error, recs and buf are cut back to
	// what they were before the event that failed.
	AppendEvents(ctx context.Context, recs []Record, buf []byte, events []event.ChangeEvent) ([]Record, []byte, error)
}

// TableTopicFormat is what a Format may also implement to name, before
// any event, the topic of a table's change events: Kafka's
// PrepareSchemaChanges creates the topics of the tables a snapshot is
// about to read with the schema change topics, in one request.
type TableTopicFormat interface {
	// TableTopic returns the topic every record of t's change events goes
	// to (the planner's, through the transforms that route a table), or
	// false when a transform picks it per record (route.by.field) or t
	// cannot be rendered.
	TableTopic(t *schema.Table) (string, bool)
}

// appendEvents renders events with f: in one call when f is an
// EventsFormat, else event by event.
func appendEvents(ctx context.Context, f Format, recs []Record, buf []byte, events []event.ChangeEvent) ([]Record, []byte, error) {
	if ef, ok := f.(EventsFormat); ok {
		return ef.AppendEvents(ctx, recs, buf, events)
	}
	var err error
	for i := range events {
		// May block (Avro: while a new table version's schemas are registered).
		if recs, buf, err = f.AppendRecords(ctx, recs, buf, &events[i]); err != nil {
			return recs, buf, err
		}
	}
	return recs, buf, nil
}

// MaxCachedTables bounds a format's cache of table versions as it bounds
// the planner's: the cache is dropped wholesale when it overflows.
const MaxCachedTables = maxCachedTables

// Errors a format wraps for values, as the type mapping does.
var (
	// ErrValue: a value does not match its column's type (wraps ErrEncode).
	ErrValue = errValue
	// ErrOutOfRange: a temporal value out of the range of
	// time.precision.mode (wraps ErrEncode).
	ErrOutOfRange = errOutOfRange
)

// Table is one table version as the planner prepared it: its topic, its
// emitted columns and its key columns.
type Table struct{ te *tableEnc }

// Topic is the topic of the table's change events.
func (t Table) Topic() string { return t.te.topic }

// Columns returns the emitted columns (not Excluded), in table order. The
// slice is built once per table version and shared: callers must not
// modify it.
func (t Table) Columns() []Column { return t.te.colViews }

// KeyColumns returns the key columns in the key's order; none for a table
// without key. The slice is shared as Columns' is.
func (t Table) KeyColumns() []Column { return t.te.keyViews }

// AppendJSONRow appends the payload of row as a JSON object: the emitted
// columns (or, with key, the key columns) as `"name":value` members in
// order, each value rendered as Column.AppendJSON does. An error is an
// *EncodeError naming the column (not the table).
func (t Table) AppendJSONRow(dst []byte, key bool, row []event.Value) ([]byte, error) {
	cols := t.te.cols
	if key {
		cols = t.te.keyCols
	}
	dst = append(dst, '{')
	for i := range cols {
		c := &cols[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.key...)
		var err error
		if dst, err = c.appendValue(dst, &row[c.idx]); err != nil {
			return dst, &EncodeError{Column: c.name, Err: err}
		}
	}
	return append(dst, '}'), nil
}

func columnsOf(cs []colEnc) []Column {
	out := make([]Column, len(cs))
	for i := range cs {
		out[i] = Column{&cs[i]}
	}
	return out
}

// AppendRecordsWith appends the records the planner makes of ev (the
// record sequence of plan.go: tombstones when tombstones is set, the key
// change split with its headers) to recs, each key and value rendered by r
// into buf. An error is an *EncodeError naming t's table.
func AppendRecordsWith[R Renderer](t Table, r R, recs []Record, buf []byte, ev *event.ChangeEvent, tombstones bool) ([]Record, []byte, error) {
	var s sequence
	if err := t.te.planRecords(&s, ev, tombstones); err != nil {
		return recs, buf, &EncodeError{Table: ev.Table.DB + "." + ev.Table.Name, Err: fmt.Errorf("%w", err)}
	}
	return appendRecords(&s, r, recs, buf, t.te, ev, t.te.topic)
}

// Plan is the record sequence of one event (plan.go) for a format that
// emits the records itself rather than through AppendRecordsWith (Debezium
// JSON's transforms): PlanRecords fills it, AppendPlanKeys renders its keys
// and the key change's headers, Step reads each record. A Plan lives on its
// caller's stack: planning allocates nothing.
type Plan struct{ s sequence }

// PlanStep is one planned record.
type PlanStep struct {
	Op            event.Op      // the envelope's op
	Tombstone     bool          // null value; Key and Headers are the record's before it
	Before, After []event.Value // the row images the value carries
	Key           []byte        // rendered by AppendPlanKeys; nil: no key
	Headers       []Header      // a key change's __debezium.newkey or oldkey header
}

// PlanRecords plans the records of ev on t into p (tombstones when
// tombstones is set, a key change split with its headers). An error is an
// *EncodeError naming t's table.
func PlanRecords(p *Plan, t Table, ev *event.ChangeEvent, tombstones bool) error {
	if err := t.te.planRecords(&p.s, ev, tombstones); err != nil {
		return &EncodeError{Table: ev.Table.DB + "." + ev.Table.Name, Err: fmt.Errorf("%w", err)}
	}
	return nil
}

// AppendPlanKeys renders the key of every record of p with k into buf,
// then the key change's headers, as AppendRecordsWith does.
func AppendPlanKeys[K Keyer](p *Plan, t Table, k K, buf []byte, ev *event.ChangeEvent) ([]byte, error) {
	return appendKeys(&p.s, k, buf, t.te, ev)
}

// Len is the number of planned records.
func (p *Plan) Len() int { return p.s.n }

// Step sets *out to record i of p, whose event is ev. It fills the
// caller's PlanStep field by field rather than returning one: a returned
// PlanStep (112 bytes, in memory) is copied by the caller with 16-byte
// moves from the fields just stored one by one, a store-forwarding stall
// on every record.
func (p *Plan) Step(i int, ev *event.ChangeEvent, out *PlanStep) {
	st := &p.s.steps[i]
	out.Op, out.Tombstone = st.op, st.tombstone
	out.Before, out.After = st.images(ev)
	out.Key, out.Headers = p.s.keys[i], p.s.hdrs[i]
}

// TxOrders returns the transaction block's total_order and
// data_collection_order of the record of ev whose envelope op is op.
func TxOrders(ev *event.ChangeEvent, op event.Op) (total, dataCollection int64) {
	return txOrders(ev, op)
}

// WithTable names t in err when err is an *EncodeError without a table.
func WithTable(err error, t *schema.Table) error { return fillTable(err, t) }

// ColumnKind says how the type mapping renders a column; a format renders
// these kinds itself and the others from Column.AppendJSON.
type ColumnKind = colKind

// Column kinds a format renders itself (see colKind).
const (
	KindBits          = kBits          // io.debezium.data.Bits: Size() bytes
	KindFloat32       = kFloat32       // FLOAT
	KindFloat64       = kFloat64       // DOUBLE
	KindDecimalBytes  = kDecimalBytes  // Connect Decimal of scale Size()
	KindDecimalDouble = kDecimalDouble // DECIMAL as double
	KindUintDecimal   = kUintDecimal   // BIGINT UNSIGNED as Decimal(20,0)
	KindString        = kString        // text, ENUM, SET, JSON
	KindBytes         = kBytes         // binary as bytes; BINARY(Size()) padded
	KindBinBase64     = kBinBase64     // binary.handling.mode=base64
	KindBinBase64URL  = kBinBase64URL  // binary.handling.mode=base64-url-safe
	KindBinHex        = kBinHex        // binary.handling.mode=hex
	KindGeometry      = kGeometry      // io.debezium.data.geometry.Geometry
	KindPoint         = kPoint         // io.debezium.data.geometry.Point
)

// Column is one emitted column of a table version as the type mapping
// prepared it: its Connect schema and its rendering.
type Column struct{ c *colEnc }

// Name is the column's name.
func (c Column) Name() string { return c.c.name }

// Index is the column's index in a row.
func (c Column) Index() int { return c.c.idx }

// Nullable is Column.Nullable: the field is optional.
func (c Column) Nullable() bool { return c.c.nullable }

// Kind says how the value is rendered.
func (c Column) Kind() ColumnKind { return c.c.kind }

// Size is the bytes of a Bits value, the pad length of BINARY(n), the
// scale of a decimal, the fractional digits of a zoned timestamp.
func (c Column) Size() int { return c.c.n }

// Connect returns the column's Connect schema: a copy, which the caller
// may change (ConnectSchema.WithParams) without changing the column's.
func (c Column) Connect() ConnectSchema { return c.c.schema }

// ConnectType is the Connect schema type (int32, string, bytes, ...).
func (c Column) ConnectType() string { return c.c.schema.typ }

// ConnectName is the Connect schema name ("" for none).
func (c Column) ConnectName() string { return c.c.schema.name }

// ConnectFields is the raw `"fields":[…]` member of a struct's Connect
// schema (the geometry types), or "" for a column of no struct type.
func (c Column) ConnectFields() string { return c.c.schema.fields }

// KeyPrefix is the `"name":` prefix of the column's payload member, its
// name JSON-escaped. Shared: callers must not modify it.
func (c Column) KeyPrefix() []byte { return c.c.key }

// ConnectDoc is the Connect schema doc ("" for none).
func (c Column) ConnectDoc() string { return c.c.schema.doc }

// ConnectVersion is the Connect schema version (0 for none).
func (c Column) ConnectVersion() int { return c.c.schema.version }

// ConnectParams are the Connect schema parameters, in order.
func (c Column) ConnectParams() [][2]string { return c.c.schema.params }

// Default is the Connect default as JsonConverter writes it, or nil.
func (c Column) Default() []byte { return c.c.schema.def }

// AppendJSON appends *v as JsonConverter renders the column's Connect
// value ("null" for a value the mode cannot represent in a nullable
// column). v is read, neither written nor kept. A pointer (to the row's
// element), not a copy, all the way down: the formats call this once per
// column, and a copied event.Value (40 bytes, kept in memory) is moved
// 16 bytes at a time, then read 8 bytes at a time, or the other way
// round, which stalls store-to-load forwarding on every column (pprof,
// issue #14: BenchmarkEncodeAvro/wide lost ~150 ns/op to it).
func (c Column) AppendJSON(dst []byte, v *event.Value) ([]byte, error) {
	return c.c.appendValue(dst, v)
}

// AppendJSONString appends s as a JSON string, escaped as Jackson does.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONStr(dst, s) }

// AppendInt appends v in decimal, as strconv.AppendInt(dst, v, 10) does,
// without strconv's intermediate buffer.
func AppendInt(dst []byte, v int64) []byte { return appendInt(dst, v) }

// AppendJSONBytes is AppendJSONString for bytes; invalid UTF-8 becomes U+FFFD.
func AppendJSONBytes(dst, s []byte) []byte { return appendJSONString(dst, s) }

// AppendBase64 appends b as a quoted base64 string, as Jackson writes
// bytes (the standard alphabet with padding, no line feeds).
func AppendBase64(dst, b []byte) []byte { return appendBase64(dst, b) }

// DecimalUnscaled returns the big-endian two's complement unscaled value of
// the decimal text at scale (Connect Decimal bytes), in out.
func DecimalUnscaled(out *[33]byte, text []byte, scale int) ([]byte, bool) {
	return decimalUnscaled(out, text, scale)
}

// UintUnscaled is DecimalUnscaled for an unsigned 64-bit integer at scale 0.
func UintUnscaled(out *[33]byte, v uint64) []byte { return uintUnscaled(out, v) }

// ParseWKBPoint returns the coordinates of a 2D WKB point.
func ParseWKBPoint(wkb []byte) (x, y float64, ok bool) { return parseWKBPoint(wkb) }

// FloorDiv divides rounding towards negative infinity (Java's Math.floorDiv).
func FloorDiv(a, b int64) int64 { return floorDiv(a, b) }

// ModeName is the name of mode i of names, for a mode type's String.
func ModeName(names []string, i int) string { return modeName(names, i) }

// ParseMode parses s as one of names (any case) for the setting key; the
// error wraps ErrConfig and lists the names.
func ParseMode(key string, names []string, s string) (int, error) { return parseMode(key, names, s) }
