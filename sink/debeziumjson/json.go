package debeziumjson

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// JSON encodes change events as Debezium 3.x does through Kafka Connect's
// JsonConverter (DEBEZIUM-REFERENCE §2, §3). It is safe for concurrent use.
//
// The key and value schema JSON of a table is built once per *schema.Table
// (a table version is immutable) and cached; encoding an event then only
// appends payload bytes.
type JSON struct {
	p         *sink.Planner // tables, topics, skipped operations, record sequences
	cfg       sink.JSONConfig
	skip      [256]bool // the planner's, beside the hot fields
	now       func() time.Time
	sourcePre []byte // `{"version":…,"connector":…,"name":…,"ts_ms":`

	tables     sync.Map // *schema.Table -> *jsonTable
	tableCount atomic.Int64
	tails      sync.Pool // *tailCache of AppendEvents

	xf *transformer // transforms, column mappers; nil: none (transform.go)
}

// NewJSON returns an encoder for cfg.
func NewJSON(cfg sink.JSONConfig) (*JSON, error) {
	planner, err := sink.NewPlanner(cfg)
	if err != nil {
		return nil, err
	}
	cfg.SkippedOperations = slices.Clone(cfg.SkippedOperations)
	j := &JSON{p: planner, cfg: cfg, now: cfg.Now}
	j.tails.New = func() any { return new(tailCache) }
	for op := range j.skip {
		j.skip[op] = planner.Skips(event.Op(op))
	}
	if j.now == nil {
		j.now = time.Now
	}
	pre := []byte(`{"version":`)
	pre = sink.AppendJSONString(pre, j.version())
	pre = append(pre, `,"connector":`...)
	pre = sink.AppendJSONString(pre, cfg.Connector.String())
	pre = append(pre, `,"name":`...)
	pre = sink.AppendJSONString(pre, cfg.TopicPrefix)
	j.sourcePre = append(pre, `,"ts_ms":`...)
	if j.xf, err = newTransformer(&cfg); err != nil {
		return nil, err
	}
	return j, nil
}

// Format returns j behind the Format interface: Debezium JSON. JSON never
// blocks, so ctx is not used. The Format also has j's UnchangedSkipped.
func (j *JSON) Format() sink.Format { return jsonFormat{j} }

type jsonFormat struct{ j *JSON }

func (f jsonFormat) AppendRecords(_ context.Context, recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	return f.j.AppendRecords(recs, buf, ev)
}

// AppendEvents is JSON.AppendEvents (sink.EventsFormat).
func (f jsonFormat) AppendEvents(_ context.Context, recs []sink.Record, buf []byte, events []event.ChangeEvent) ([]sink.Record, []byte, error) {
	return f.j.AppendEvents(recs, buf, events)
}

func (f jsonFormat) SchemaChangeRecords(_ context.Context, c *schema.Change, src event.Source) ([]sink.Record, error) {
	return f.j.SchemaChangeRecords(c, src)
}

func (f jsonFormat) AppendTransaction(_ context.Context, recs []sink.Record, buf []byte, topic string, m *event.Transaction) ([]sink.Record, []byte, error) {
	recs, buf = f.j.AppendTransaction(recs, buf, topic, m)
	return recs, buf, nil
}

func (f jsonFormat) DataRecords(ev *event.ChangeEvent) int { return f.j.DataRecords(ev) }

// UnchangedSkipped is JSON.UnchangedSkipped.
func (f jsonFormat) UnchangedSkipped() int64 { return f.j.UnchangedSkipped() }

// TableTopic is JSON.TableTopic (sink.TableTopicFormat).
func (f jsonFormat) TableTopic(t *schema.Table) (string, bool) { return f.j.TableTopic(t) }

// jsonTable is the JSON rendering of one table version: the planner's
// view of it and what JSON adds, built once.
type jsonTable struct {
	view      sink.Table // the planner's
	topic     string     // the planner's
	cols      []jsonCol  // emitted columns (not Excluded), table order
	keyCols   []jsonCol  // key columns in the key's order; empty: no key
	keyPre    []byte     // `{"schema":…,"payload":` or nil without key schemas
	valuePre  []byte     // `{"schema":…,"payload":` or nil without value schemas
	dbPart    []byte     // `,"db":"…","sequence":null,"ts_us":`
	tablePart []byte     // `,"table":"…","server_id":`

	plan *tablePlan // what transforms make of the table (transform.go); nil: none
}

// Planner returns the record planner j renders from.
func (j *JSON) Planner() *sink.Planner { return j.p }

// Topic returns the topic of t's change events: <prefix>.<db>.<table>,
// sanitised as Debezium's TopicNamingStrategy.sanitizedTopicName does.
func (j *JSON) Topic(t *schema.Table) (string, error) { return j.p.Topic(t) }

// TableTopic implements sink.TableTopicFormat: the planner's topic after
// the routers (RegexRouter, ByLogicalTableRouter), as the records carry
// it; false with route.by.field, which picks the topic per record.
func (j *JSON) TableTopic(t *schema.Table) (string, bool) {
	te, err := j.table(t)
	switch {
	case err != nil:
		return "", false
	case te.plan == nil:
		return te.topic, true
	case te.plan.routeCol >= 0:
		return "", false
	}
	return te.plan.topic, true
}

func (j *JSON) table(t *schema.Table) (*jsonTable, error) {
	if v, ok := j.tables.Load(t); ok {
		return v.(*jsonTable), nil
	}
	te, err := j.buildTable(t)
	if err != nil {
		return nil, err
	}
	if j.tableCount.Add(1) > sink.MaxCachedTables {
		j.tables.Clear()
		j.tableCount.Store(1)
	}
	v, _ := j.tables.LoadOrStore(t, te)
	return v.(*jsonTable), nil
}

func (j *JSON) buildTable(t *schema.Table) (*jsonTable, error) {
	pt, err := j.p.Table(t)
	if err != nil {
		return nil, err
	}
	id := t.DB + "." + t.Name
	topic := pt.Topic()
	te := &jsonTable{view: pt, topic: topic, cols: jsonCols(pt.Columns()), keyCols: jsonCols(pt.KeyColumns())}
	if j.cfg.KeySchemas && len(te.keyCols) > 0 {
		p := []byte(`{"schema":`)
		p = appendRowSchema(p, te.keyCols, false, topic+".Key", "")
		te.keyPre = append(p, `,"payload":`...)
	}
	if j.cfg.ValueSchemas {
		p := []byte(`{"schema":`)
		p = j.appendEnvelopeSchema(p, te, topic)
		te.valuePre = append(p, `,"payload":`...)
	}
	te.dbPart = sink.AppendJSONString([]byte(`,"db":`), t.DB)
	te.dbPart = append(te.dbPart, `,"sequence":null,"ts_us":`...)
	te.tablePart = sink.AppendJSONString([]byte(`,"table":`), t.Name)
	te.tablePart = append(te.tablePart, `,"server_id":`...)
	if j.xf != nil {
		var err error
		if te.plan, err = j.xf.plan(j, t, te); err != nil {
			return nil, &sink.EncodeError{Table: id, Err: err}
		}
	}
	return te, nil
}

// appendRowSchema writes the struct schema of a key or a row (before/after).
func appendRowSchema(dst []byte, cols []jsonCol, optional bool, name, field string) []byte {
	dst = append(dst, `{"type":"struct","fields":[`...)
	for i := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		c := &cols[i]
		dst = c.schema.AppendJSON(dst, c.optional(), c.name)
	}
	dst = append(dst, `],"optional":`...)
	dst = strconv.AppendBool(dst, optional)
	dst = append(dst, `,"name":`...)
	dst = sink.AppendJSONString(dst, name)
	if field != "" {
		dst = append(dst, `,"field":`...)
		dst = sink.AppendJSONString(dst, field)
	}
	return append(dst, '}')
}

// The source struct (SchemaFactory.sourceInfoSchemaBuilder +
// BinlogSourceInfoStructMaker, DEBEZIUM-REFERENCE §2.4) without its name.
const sourceFields = `{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"version"},` +
	`{"type":"string","optional":false,"field":"connector"},` +
	`{"type":"string","optional":false,"field":"name"},` +
	`{"type":"int64","optional":false,"field":"ts_ms"},` +
	`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},` +
	`{"type":"string","optional":false,"field":"db"},` +
	`{"type":"string","optional":true,"field":"sequence"},` +
	`{"type":"int64","optional":true,"field":"ts_us"},` +
	`{"type":"int64","optional":true,"field":"ts_ns"},` +
	`{"type":"string","optional":true,"field":"table"},` +
	`{"type":"int64","optional":false,"field":"server_id"},` +
	`{"type":"string","optional":true,"field":"gtid"},` +
	`{"type":"string","optional":false,"field":"file"},` +
	`{"type":"int64","optional":false,"field":"pos"},` +
	`{"type":"int32","optional":false,"field":"row"},` +
	`{"type":"int64","optional":true,"field":"thread"},` +
	`{"type":"string","optional":true,"field":"query"}],` +
	`"optional":false,"name":`

// The transaction block and the trailing envelope fields (SchemaFactory
// datatypeEnvelopeSchema, TransactionStructMaker; DEBEZIUM-REFERENCE §2.3).
const envelopeTail = `{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"id"},` +
	`{"type":"int64","optional":false,"field":"total_order"},` +
	`{"type":"int64","optional":false,"field":"data_collection_order"}],` +
	`"optional":true,"name":"event.block","version":1,"field":"transaction"},` +
	`{"type":"string","optional":false,"field":"op"},` +
	`{"type":"int64","optional":true,"field":"ts_ms"},` +
	`{"type":"int64","optional":true,"field":"ts_us"},` +
	`{"type":"int64","optional":true,"field":"ts_ns"}],` +
	`"optional":false,"name":`

func (j *JSON) appendEnvelopeSchema(dst []byte, te *jsonTable, topic string) []byte {
	dst = append(dst, `{"type":"struct","fields":[`...)
	dst = appendRowSchema(dst, te.cols, true, topic+".Value", "before")
	dst = append(dst, ',')
	dst = appendRowSchema(dst, te.cols, true, topic+".Value", "after")
	dst = append(dst, ',')
	dst = append(dst, sourceFields...)
	dst = sink.AppendJSONString(dst, "io.debezium.connector."+j.cfg.Connector.String()+".Source")
	dst = append(dst, `,"version":1,"field":"source"},`...)
	dst = append(dst, envelopeTail...)
	dst = sink.AppendJSONString(dst, topic+".Envelope")
	return append(dst, `,"version":2}`...)
}

// AppendRecords appends the records Debezium emits for ev to recs, in order
// (DEBEZIUM-REFERENCE §2.7): one record for c, u, r and t; a delete record
// and its tombstone for d; for an update that changes the primary key, a
// delete under the old key (header __debezium.newkey), its tombstone, and a
// create under the new key (header __debezium.oldkey). Events whose op is in
// SkippedOperations produce nothing.
//
// Keys, values and header values are appended to buf and the records point
// into it (buf may be reallocated; earlier records stay valid). The caller
// must keep buf's contents unchanged while the records are in use.
func (j *JSON) AppendRecords(recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	n, start := len(recs), len(buf)
	recs, buf, err := j.appendRecords(recs, buf, ev)
	if err != nil {
		if ev.Table != nil {
			err = j.fillTable(err, ev.Table)
		}
		return recs[:n], buf[:start], err
	}
	return recs, buf, nil
}

// AppendEvents appends the records of events, in order, as AppendRecords
// does for each. The records of one call share one reading of the
// processing clock (the envelopes' ts_ms, ts_us and ts_ns, and what
// ExtractNewRecordState adds from them), where Debezium reads its clock
// per record; and a source block equal to the previous record's is copied
// rather than formatted again (tailCache). On error, recs and buf are cut
// back to what they were before the event that failed.
func (j *JSON) AppendEvents(recs []sink.Record, buf []byte, events []event.ChangeEvent) ([]sink.Record, []byte, error) {
	tc := j.tails.Get().(*tailCache)
	tc.nowLen, tc.nowRead = 0, false
	var err error
	for i := range events {
		ev := &events[i]
		n, start := len(recs), len(buf)
		if recs, buf, err = j.appendRecordsCached(recs, buf, ev, tc); err != nil {
			if ev.Table != nil {
				err = j.fillTable(err, ev.Table)
			}
			recs, buf = recs[:n], buf[:start]
			break
		}
	}
	// A pooled cache keeps no table, no query text alive.
	tc.table, tc.te, tc.headTe, tc.headLen, tc.restLen, tc.rest = nil, nil, nil, 0, 0, event.Source{}
	j.tails.Put(tc)
	return recs, buf, err
}

func (j *JSON) appendRecords(recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	return j.appendRecordsCached(recs, buf, ev, nil)
}

// appendRecordsCached is appendRecords with AppendEvents' cache (nil: none).
func (j *JSON) appendRecordsCached(recs []sink.Record, buf []byte, ev *event.ChangeEvent, tc *tailCache) ([]sink.Record, []byte, error) {
	if j.skip[ev.Op] {
		return recs, buf, nil
	}
	if ev.Table == nil {
		return recs, buf, fmt.Errorf("%w: event without table", sink.ErrEncode)
	}
	var te *jsonTable
	if tc != nil && tc.table == ev.Table {
		te = tc.te
	} else {
		var err error
		if te, err = j.table(ev.Table); err != nil {
			return recs, buf, err
		}
		if tc != nil {
			tc.table, tc.te = ev.Table, te
		}
	}
	if te.plan != nil {
		return j.appendPlanned(recs, buf, te, ev, tc)
	}
	return sink.AppendRecordsWith(te.view, jsonRender{j, te, ev, tc}, recs, buf, ev, j.cfg.TombstonesOnDelete)
}

// jsonRender renders planned records as JsonConverter does.
type jsonRender struct {
	j  *JSON
	te *jsonTable
	ev *event.ChangeEvent
	tc *tailCache // nil: none
}

func (r jsonRender) AppendKey(dst []byte, row []event.Value) ([]byte, error) {
	return r.j.appendKey(dst, r.te, row)
}

func (r jsonRender) AppendValue(dst []byte, op event.Op, before, after []event.Value) ([]byte, error) {
	return r.j.appendValueChecked(dst, r.te, r.ev, op, before, after, r.tc)
}

func (j *JSON) errorf(t *schema.Table, col, format string, args ...any) error {
	return &sink.EncodeError{Table: t.DB + "." + t.Name, Column: col, Err: fmt.Errorf(format, args...)}
}

func (j *JSON) appendKey(dst []byte, te *jsonTable, row []event.Value) ([]byte, error) {
	if te.keyPre != nil {
		dst = append(dst, te.keyPre...)
	}
	var err error
	if dst, err = j.appendRow(dst, te, true, row); err != nil {
		return dst, err
	}
	if te.keyPre != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

// appendRow appends the payload of a key (key) or row image: the planner's
// columns rendered in place (sink.Table.AppendJSONRow), no column mapper.
func (j *JSON) appendRow(dst []byte, te *jsonTable, key bool, row []event.Value) ([]byte, error) {
	return te.view.AppendJSONRow(dst, key, row)
}

func (j *JSON) appendValueChecked(dst []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, before, after []event.Value, tc *tailCache) ([]byte, error) {
	start := len(dst)
	if te.valuePre != nil {
		dst = append(dst, te.valuePre...)
	}
	dst = append(dst, `{"before":`...)
	var err error
	if before == nil {
		dst = append(dst, "null"...)
	} else if dst, err = j.appendRow(dst, te, false, before); err != nil {
		return dst[:start], j.fillTable(err, ev.Table)
	}
	dst = append(dst, `,"after":`...)
	if after == nil {
		dst = append(dst, "null"...)
	} else if dst, err = j.appendRow(dst, te, false, after); err != nil {
		return dst[:start], j.fillTable(err, ev.Table)
	}
	dst = j.appendTail(dst, te, ev, op, tc)
	if te.valuePre != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

func (j *JSON) fillTable(err error, t *schema.Table) error { return sink.WithTable(err, t) }

// appendTail writes source, transaction, op and the envelope timestamps.
// With a tailCache (AppendEvents), the source block is copied from the
// previous record's when what it depends on is equal, and the envelope
// timestamps are the batch's one clock reading.
func (j *JSON) appendTail(dst []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, tc *tailCache) []byte {
	s := &ev.Source
	if tc == nil {
		dst = j.appendSourceHead(dst, te, s)
		dst = appendSourceRest(dst, s)
	} else {
		dst = tc.appendSource(dst, j, te, s)
	}
	dst = append(dst, `},"transaction":`...)
	dst = appendTxBlock(dst, ev, op)
	dst = append(dst, `,"op":"`...)
	dst = append(dst, byte(op))
	if tc == nil {
		return appendNow(dst, j.now())
	}
	if tc.nowLen == 0 {
		tc.nowLen = len(appendNow(tc.now[:0], j.clock(tc)))
	}
	return append(dst, tc.now[:tc.nowLen]...)
}

// appendSourceHead writes the source block up to its server_id: the part
// that depends on the table, the change time and the snapshot marker.
func (j *JSON) appendSourceHead(dst []byte, te *jsonTable, s *event.Source) []byte {
	dst = append(dst, `,"source":`...)
	dst = append(dst, j.sourcePre...)
	// ts_ms, ts_us and ts_ns are one instant: format it once (the hot path
	// formats two such triples per record).
	var srcDigits [24]byte
	srcMs, srcUs, srcNs := splitTimeDigits(&srcDigits, s.TsUs)
	dst = append(dst, srcMs...)
	dst = append(dst, `,"snapshot":`...)
	if s.Snapshot == "" {
		dst = append(dst, `"false"`...)
	} else {
		dst = sink.AppendJSONString(dst, s.Snapshot)
	}
	dst = append(dst, te.dbPart...)
	dst = append(dst, srcUs...)
	dst = append(dst, `,"ts_ns":`...)
	dst = append(dst, srcNs...)
	return append(dst, te.tablePart...)
}

// appendSourceRest writes the source block from its server_id value to
// its query, without the closing brace: the binlog position.
func appendSourceRest(dst []byte, s *event.Source) []byte {
	dst = sink.AppendInt(dst, int64(s.ServerID))
	dst = append(dst, `,"gtid":`...)
	if s.GTID == "" {
		dst = append(dst, "null"...)
	} else {
		dst = sink.AppendJSONString(dst, s.GTID)
	}
	dst = append(dst, `,"file":`...)
	dst = sink.AppendJSONString(dst, s.File)
	dst = append(dst, `,"pos":`...)
	dst = sink.AppendInt(dst, int64(s.Pos))
	dst = append(dst, `,"row":`...)
	dst = sink.AppendInt(dst, int64(s.Row))
	dst = append(dst, `,"thread":`...)
	if s.Thread < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = sink.AppendInt(dst, s.Thread)
	}
	dst = append(dst, `,"query":`...)
	if s.Query == "" {
		return append(dst, "null"...)
	}
	return sink.AppendJSONString(dst, s.Query)
}

// clock reads the processing time: once per AppendEvents call (tc), else
// at every call.
func (j *JSON) clock(tc *tailCache) time.Time {
	if tc == nil {
		return j.now()
	}
	if !tc.nowRead {
		tc.nowT, tc.nowRead = j.now(), true
	}
	return tc.nowT
}

// appendNow writes the envelope's processing time now:
// `","ts_ms":…,"ts_us":…,"ts_ns":…}` (the op's closing quote first).
func appendNow(dst []byte, now time.Time) []byte {
	var nowDigits [24]byte
	nowMs, nowUs, nowNs := splitTimeDigitsNs(&nowDigits, now.UnixNano(), now)
	dst = append(dst, `","ts_ms":`...)
	dst = append(dst, nowMs...)
	dst = append(dst, `,"ts_us":`...)
	dst = append(dst, nowUs...)
	dst = append(dst, `,"ts_ns":`...)
	dst = append(dst, nowNs...)
	return append(dst, '}')
}

// tailCache is what the records of one AppendEvents call share: the
// processing time, read once and formatted once, and the last source
// block rendered, in two parts keyed by what each depends on. In a
// snapshot every record of a batch has the same source block but for the
// first and last markers; while streaming, the head (change time, table)
// repeats within a transaction and the rest (position, row) changes.
// Parts longer than their buffer (a long query, long names) are not kept.
type tailCache struct {
	nowT    time.Time // the batch's processing time
	nowRead bool      // nowT is set
	now     [96]byte  // appendNow's output for nowT (89 bytes at most)
	nowLen  int       // 0: not formatted yet

	// The last event's table and its rendering (saves j.table's lookup).
	table *schema.Table
	te    *jsonTable

	headTe  *jsonTable
	headTs  int64
	headSn  string
	headLen int // 0: none
	head    [384]byte

	rest    event.Source // TsUs and Snapshot unused
	restLen int          // 0: none
	restBuf [192]byte
}

// appendSource writes the source block (without its closing brace) from
// the cache, rendering and keeping each part that differs.
func (tc *tailCache) appendSource(dst []byte, j *JSON, te *jsonTable, s *event.Source) []byte {
	if tc.headLen > 0 && tc.headTe == te && tc.headTs == s.TsUs && tc.headSn == s.Snapshot {
		dst = append(dst, tc.head[:tc.headLen]...)
	} else {
		start := len(dst)
		dst = j.appendSourceHead(dst, te, s)
		if n := len(dst) - start; n <= len(tc.head) {
			tc.headLen = copy(tc.head[:], dst[start:])
			tc.headTe, tc.headTs, tc.headSn = te, s.TsUs, s.Snapshot
		} else {
			tc.headLen = 0
		}
	}
	r := &tc.rest
	if tc.restLen > 0 && r.Pos == s.Pos && r.Row == s.Row && r.File == s.File && r.ServerID == s.ServerID &&
		r.GTID == s.GTID && r.Thread == s.Thread && r.Query == s.Query {
		return append(dst, tc.restBuf[:tc.restLen]...)
	}
	start := len(dst)
	dst = appendSourceRest(dst, s)
	if n := len(dst) - start; n <= len(tc.restBuf) {
		tc.restLen = copy(tc.restBuf[:], dst[start:])
		*r = *s
	} else {
		tc.restLen = 0
	}
	return dst
}

// splitTimeDigits formats the instant us (microseconds since the epoch) as
// milliseconds, microseconds and nanoseconds, sharing one digit string: for
// instants after 1970-01-01T00:00:01 the three are prefixes of each other.
func splitTimeDigits(buf *[24]byte, us int64) (ms, usDigits, ns []byte) {
	if us < 1_000_000 || us > math.MaxInt64/1000 {
		return strconv.AppendInt(buf[:0:8], sink.FloorDiv(us, 1000), 10),
			strconv.AppendInt(buf[8:8:16], us, 10),
			strconv.AppendInt(nil, us*1000, 10)
	}
	d := append(strconv.AppendInt(buf[:0], us, 10), '0', '0', '0')
	return d[:len(d)-6], d[:len(d)-3], d
}

// splitTimeDigitsNs is splitTimeDigits for a clock reading in nanoseconds.
func splitTimeDigitsNs(buf *[24]byte, ns int64, t time.Time) (ms, us, nsDigits []byte) {
	if ns < 1_000_000_000 {
		return strconv.AppendInt(nil, t.UnixMilli(), 10), strconv.AppendInt(nil, t.UnixMicro(), 10), strconv.AppendInt(nil, ns, 10)
	}
	d := strconv.AppendInt(buf[:0], ns, 10)
	return d[:len(d)-6], d[:len(d)-3], d
}
