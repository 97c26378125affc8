package sink

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Planner is the record planner every format renders from: the table
// versions as the type mapping prepares them (topic, emitted columns, key
// columns), cached per *schema.Table; skipped.operations; and the record
// sequence of an event (plan.go, AppendRecordsWith). It renders nothing.
// It is safe for concurrent use.
type Planner struct {
	cfg       JSONConfig
	skip      [256]bool
	now       func() time.Time
	sourcePre []byte // `{"version":…,"connector":…,"name":…,"ts_ms":`, JSON

	tables     sync.Map // *schema.Table -> *tableEnc
	tableCount atomic.Int64
}

// maxCachedTables bounds the table cache: old table versions (after DDL) are
// dropped wholesale when it overflows, and rebuilt on demand.
const maxCachedTables = 4096

// NewPlanner returns the planner for cfg.
func NewPlanner(cfg JSONConfig) (*Planner, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.SkippedOperations = slices.Clone(cfg.SkippedOperations)
	p := &Planner{cfg: cfg, now: cfg.Now}
	for _, op := range cfg.SkippedOperations {
		p.skip[op] = true
	}
	if p.now == nil {
		p.now = time.Now
	}
	version := cfg.Version
	if version == "" {
		version = "unknown"
	}
	pre := []byte(`{"version":`)
	pre = appendJSONStr(pre, version)
	pre = append(pre, `,"connector":`...)
	pre = appendJSONStr(pre, cfg.Connector.String())
	pre = append(pre, `,"name":`...)
	pre = appendJSONStr(pre, cfg.TopicPrefix)
	pre = append(pre, `,"ts_ms":`...)
	p.sourcePre = pre
	return p, nil
}

// tableEnc is the planner's view of one table version: everything about it
// that does not change from event to event and that every format shares.
type tableEnc struct {
	topic   string
	cols    []colEnc // emitted columns (not Excluded), table order
	keyCols []colEnc // key columns in the key's order; empty: no key
	ncols   int      // len(Table.Columns), to check rows
	// colViews and keyViews are cols and keyCols as Column views, built
	// once per table version so that Table.Columns and Table.KeyColumns
	// allocate nothing on a format's hot path.
	colViews, keyViews []Column
}

// Topic returns the topic of t's change events: <prefix>.<db>.<table>,
// sanitised as Debezium's TopicNamingStrategy.sanitizedTopicName does.
func (p *Planner) Topic(t *schema.Table) (string, error) {
	te, err := p.table(t)
	if err != nil {
		return "", err
	}
	return te.topic, nil
}

// Table returns the planner's view of t (built once per table version).
func (p *Planner) Table(t *schema.Table) (Table, error) {
	te, err := p.table(t)
	if err != nil {
		return Table{}, err
	}
	return Table{te}, nil
}

// Skips reports whether events of op produce no record (skipped.operations).
func (p *Planner) Skips(op event.Op) bool { return p.skip[op] }

// DataRecords returns how many data change records ev becomes, tombstones
// not counted: what Debezium's TransactionMonitor counts per event. 0 when
// its op is in skipped.operations, 2 for an update that changes the key
// (delete and create), else 1. Transforms are the format's
// (debeziumjson.JSON.DataRecords).
func (p *Planner) DataRecords(ev *event.ChangeEvent) int {
	n, _ := p.dataRecords(ev)
	return n
}

// dataRecords is DataRecords and the table version it looked up (nil when
// it needed none).
func (p *Planner) dataRecords(ev *event.ChangeEvent) (int, *tableEnc) {
	if p.skip[ev.Op] || ev.Table == nil {
		return 0, nil
	}
	// Only an update can become other than one data record; the others
	// need no table lookup.
	if ev.Op != event.OpUpdate || ev.Before == nil || ev.After == nil {
		return 1, nil
	}
	te, err := p.table(ev.Table)
	if err != nil {
		return 1, nil
	}
	var s sequence
	if te.planRecords(&s, ev, false) != nil {
		return 1, nil
	}
	return s.n, te
}

func (p *Planner) table(t *schema.Table) (*tableEnc, error) {
	if v, ok := p.tables.Load(t); ok {
		return v.(*tableEnc), nil
	}
	te, err := p.buildTable(t)
	if err != nil {
		return nil, err
	}
	if p.tableCount.Add(1) > maxCachedTables {
		p.tables.Clear()
		p.tableCount.Store(1)
	}
	v, _ := p.tables.LoadOrStore(t, te)
	return v.(*tableEnc), nil
}

func (p *Planner) buildTable(t *schema.Table) (*tableEnc, error) {
	id := t.DB + "." + t.Name
	topic := sanitizeTopic(p.cfg.TopicPrefix + "." + t.DB + "." + t.Name)
	te := &tableEnc{topic: topic, ncols: len(t.Columns)}
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.Excluded {
			continue
		}
		ce, err := newColEnc(&p.cfg, i, c)
		if err != nil {
			return nil, &EncodeError{Table: id, Column: c.Name, Err: err}
		}
		te.cols = append(te.cols, ce)
	}
	p.cfg.propagate.apply(t, te.cols) // value fields only (propagate.go)
	// Key fields are the primary key columns in the key's own order
	// (PRIMARY KEY (k2, k1) gives k2, k1: Debezium 3.6.1's key schema and
	// payload, seen by the differential suite; table order was a guess from
	// reading Table.primaryKeyColumns), or message.key.columns in the order
	// Debezium's CustomKeyMapper gives; column filters do not drop key columns.
	pk := t.Key()
	for _, i := range pk {
		if i < 0 || i >= len(t.Columns) {
			return nil, &EncodeError{Table: id, Err: fmt.Errorf("%w: primary key index %d out of range", ErrEncode, i)}
		}
		ce, err := newColEnc(&p.cfg, i, &t.Columns[i])
		if err != nil {
			return nil, &EncodeError{Table: id, Column: t.Columns[i].Name, Err: err}
		}
		te.keyCols = append(te.keyCols, ce)
	}
	te.colViews, te.keyViews = columnsOf(te.cols), columnsOf(te.keyCols)
	return te, nil
}

// sanitizeTopic replaces characters Kafka does not allow in topic names by
// '_' and truncates to 249 characters (Debezium's
// AbstractTopicNamingStrategy.sanitizedTopicName; Java works on UTF-16
// units, so a character outside the BMP becomes two underscores).
func sanitizeTopic(s string) string {
	var b []byte
	changed := false
	for _, r := range s {
		switch {
		case r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b = append(b, byte(r))
		case r > 0xFFFF:
			b = append(b, '_', '_')
			changed = true
		default:
			b = append(b, '_')
			changed = true
		}
	}
	if len(b) > 249 {
		b = b[:249]
		changed = true
	}
	switch string(b) {
	case ".":
		return "_"
	case "..":
		return "__"
	}
	if !changed {
		return s
	}
	return string(b)
}

// checkRows checks ev's row images against the table version.
func (te *tableEnc) checkRows(ev *event.ChangeEvent) error {
	if ev.Before != nil && len(ev.Before) != te.ncols {
		return fmt.Errorf("%w: before image has %d values for %d columns", ErrEncode, len(ev.Before), te.ncols)
	}
	if ev.After != nil && len(ev.After) != te.ncols {
		return fmt.Errorf("%w: after image has %d values for %d columns", ErrEncode, len(ev.After), te.ncols)
	}
	switch ev.Op {
	case event.OpCreate, event.OpRead, event.OpUpdate:
		if ev.After == nil {
			return fmt.Errorf("%w: op %q without after image", ErrEncode, ev.Op)
		}
	case event.OpDelete:
		if ev.Before == nil {
			return fmt.Errorf("%w: delete without before image", ErrEncode)
		}
	}
	return nil
}
