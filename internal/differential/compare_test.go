package differential

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// normalisation is a field whose value may differ between Debezium and
// Rivulet for the same binlog. Both values are replaced by a placeholder
// before the records are compared byte for byte; the field must exist on
// both sides (its value may be null on one).
type normalisation struct {
	// topic selects the records: "change" (table topics), "schema" (the
	// schema change topic), "tx" (transaction metadata), "heartbeat", or ""
	// for all.
	topic string
	// path is the member path inside the payload (the value itself when
	// schemas are off).
	path []string
	// when limits it to some records (nil: every record).
	when func(payload *node) bool
	// header, when set, names a record header instead of a value member.
	header string
	// mysqlRef limits it to runs whose reference is the MySqlConnector
	// fallback (javaBuild.mysql).
	mysqlRef bool
	// avroSchemaText names what of Confluent's wire format is not
	// compared in the Avro runs (avroWire): the spelling of the
	// registered schema text.
	avroSchemaText bool
	why            string
}

// normalised is the one list of fields that are not compared. Everything
// else of every record must be equal byte for byte.
var normalised = []normalisation{
	{topic: "", path: []string{"ts_ms"}, why: "the envelope's ts_ms is the connector's clock when it processed the event"},
	{topic: "", path: []string{"ts_us"}, why: "processing time, as ts_ms"},
	{topic: "", path: []string{"ts_ns"}, why: "processing time, as ts_ms"},
	{topic: "heartbeat", path: []string{"ts_ms"}, why: "a heartbeat's ts_ms is the time it was sent (HeartbeatImpl: the clock when the interval elapsed); how many are sent and when is the clock's too (TestDifferential_Heartbeats compares them as a set)"},
	{topic: "", path: []string{"source", "version"}, why: "the connector's version: Debezium writes 3.6.1.Final, Rivulet its own"},
	{topic: "change", path: []string{"source", "ts_ms"}, when: isSnapshotRead, why: "a snapshot read's source.ts_ms is the time the row was read (Debezium: SnapshotChangeRecordEmitter clock), not a binlog time"},
	{topic: "change", path: []string{"source", "ts_us"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read"},
	{topic: "change", path: []string{"source", "ts_ns"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read"},
	{topic: "change", path: []string{"__source_ts_ms"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read, flattened by ExtractNewRecordState add.fields=source.ts_ms"},
	{topic: "change", path: []string{"__source_ts_us"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read, flattened"},
	{topic: "change", path: []string{"__source_ts_ns"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read, flattened"},
	{topic: "schema", path: []string{"source", "ts_ms"}, when: isSnapshotSchema, why: "a snapshot schema change's source.ts_ms is the time the connector read the schema (Debezium: the clock at each statement of readTableStructure), not a binlog time"},
	{topic: "schema", path: []string{"source", "ts_us"}, when: isSnapshotSchema, why: "as source.ts_ms of a snapshot schema change"},
	{topic: "schema", path: []string{"source", "ts_ns"}, when: isSnapshotSchema, why: "as source.ts_ms of a snapshot schema change"},
	{header: "__debezium.context.runId", why: "a UUIDv7 each connector run draws when it starts (CdcSourceTaskContext.runId)"},
	{avroSchemaText: true, why: "Avro: the registered schema is compared as JSON with each object's members sorted and every name in full (Avro's Parsing Canonical Form [FULLNAMES]: Debezium's text writes a nested record's name relative to its enclosing namespace, Rivulet's in full; the same schema). Both sides register with one registry, so where their schemas are the same they carry the same id and read the same text; this matters where an intended difference (schema: true) gives the two sides different schemas, and ids"},
	{topic: "change", path: []string{"source", "gtid"}, mysqlRef: true, why: "README known differences: MySqlConnector on MariaDB (it does not read MariaDB GTIDs)"},
	{topic: "change", path: []string{"transaction"}, mysqlRef: true, why: "README known differences: MySqlConnector on MariaDB (no MariaDB GTIDs, so no transaction blocks)"},
}

// isSnapshotRead: the envelope's op, or ExtractNewRecordState's __op
// (add.fields=op), is "r".
func isSnapshotRead(p *node) bool { return p.get("op").str() == "r" || p.get("__op").str() == "r" }

// isSnapshotSchema: a schema change of the snapshot (source.snapshot not "false").
func isSnapshotSchema(p *node) bool {
	s := p.get("source").get("snapshot").str()
	return s != "" && s != "false"
}

func isStreamed(p *node) bool { return p.get("op").str() != "r" }

// intended is the other list: columns where Rivulet differs from Debezium
// 3.6.1 on purpose. Each is a row of the README's table "Known differences
// from Debezium 3.6.1" (readme names it); the column's value in before and
// after (and, with schema, its field schema) is not compared on the tables
// table matches. Everything else of those records still is.
type intendedDiff struct {
	readme  string
	table   *regexp.Regexp // the table name (last topic segment)
	columns []string
	schema  bool // the column's field schema differs too
	when    func(payload *node) bool
}

var intended = []intendedDiff{
	{readme: "charsets", table: regexp.MustCompile(`^charsets[0-9]+(_d)?$`),
		columns: []string{"c_latin1", "c_greek", "c_koi8u", "c_cp932", "c_ujis", "c_armscii8", "c_geostd8", "c_hp8", "c_keybcs2", "c_swe7"}},
	{readme: "float snapshot", table: regexp.MustCompile(`^decimals$`), columns: []string{"f", "f10"}, when: isSnapshotRead},
	{readme: "timestamp snapshot", table: regexp.MustCompile(`^fractions$`),
		columns: []string{"ts0", "ts1", "ts2", "ts3", "ts4", "ts5", "ts6"}, when: isSnapshotRead},
	{readme: "mariadb json snapshot", table: regexp.MustCompile(`^structured$`), columns: []string{"j"}, schema: true},
	{readme: "enum comma", table: regexp.MustCompile(`^structured(_d)?$`), columns: []string{"e2"}, when: isStreamed},
	{readme: "real ddl", table: regexp.MustCompile(`^decimals_d$`), columns: []string{"r"}, schema: true},
	{readme: "binary char ddl", table: regexp.MustCompile(`^binaries_d$`), columns: []string{"ch"}, schema: true},
}

// tableOf is the table name of a change topic <prefix>.<db>.<table>.
func tableOf(topic string) string { return topic[strings.LastIndexByte(topic, '.')+1:] }

// applyIntended replaces the intended differences of one change record.
func applyIntended(topic string, root, payload *node) bool {
	changed := false
	for _, d := range intended {
		if !d.table.MatchString(tableOf(topic)) || d.when != nil && !d.when(payload) {
			continue
		}
		for _, col := range d.columns {
			for _, side := range []string{"before", "after"} {
				if replace(payload, []string{side, col}) {
					changed = true
				}
			}
			if d.schema && root != payload {
				// Avro (avroWire): the schema differs, so the
				// registry's id for it does too.
				if replace(root, []string{"id"}) {
					changed = true
				}
				for _, f := range root.get("schema").get("fields").elems() {
					for _, cf := range f.get("fields").elems() {
						if cf.get("field").str() == col {
							*cf = node{raw: []byte(placeholder)}
							changed = true
						}
					}
					// Avro (avroWire): the row record is a branch of
					// before's union; after names it.
					if n := f.get("name").str(); n != "before" && n != "after" {
						continue
					}
					for _, branch := range f.get("type").elems() {
						for _, cf := range branch.get("fields").elems() {
							if cf.get("name").str() == col {
								*cf = node{raw: []byte(placeholder)}
								changed = true
							}
						}
					}
				}
			}
		}
	}
	return changed
}

const placeholder = `"<normalised>"`

// topicKind names what a topic carries.
func topicKind(prefix, topic string) string {
	switch {
	case topic == prefix:
		return "schema"
	case topic == prefix+".transaction":
		return "tx"
	case strings.HasPrefix(topic, "__debezium-heartbeat"):
		return "heartbeat"
	}
	return "change"
}

// normalise returns the record's value with the fields of normalised
// replaced, or the value unchanged when it is not JSON or null.
func normalise(prefix string, r Record) []byte {
	if r.Value == nil {
		return nil
	}
	root, err := parseJSON(r.Value)
	if err != nil || root.kind != '{' {
		return r.Value
	}
	payload := root
	if p := root.get("payload"); p != nil && root.get("schema") != nil {
		payload = p
	}
	kind := topicKind(prefix, r.Topic)
	changed := false
	for _, n := range normalised {
		if n.header != "" || n.avroSchemaText || n.topic != "" && n.topic != kind || n.mysqlRef && !javaBuild.mysql {
			continue
		}
		if n.when != nil && !n.when(payload) {
			continue
		}
		if replace(payload, n.path) {
			changed = true
		}
	}
	if kind == "change" && applyIntended(r.Topic, root, payload) {
		changed = true
	}
	if kind == "change" && oldJDKFloats() {
		// Listed normalisation: on a reference JVM older than 19 the
		// float texts of before and after compare as float32 values
		// (Float/Double.toString changed in JDK 19; see referenceJava).
		for _, side := range []string{"before", "after"} {
			if canonFloats(payload.get(side)) {
				changed = true
			}
		}
	}
	if !changed {
		return r.Value
	}
	return root.appendTo(nil)
}

func replace(n *node, path []string) bool {
	for i, p := range path {
		if p == "*" {
			changed := false
			for _, e := range n.elems() {
				if replace(e, path[i+1:]) {
					changed = true
				}
			}
			return changed
		}
		if n == nil || n.kind != '{' {
			return false
		}
		if i == len(path)-1 {
			for j, k := range n.keys {
				if string(k) == `"`+p+`"` {
					// Any value, null included: a normalised member
					// only has to exist on both sides.
					n.vals[j] = &node{raw: []byte(placeholder)}
					return true
				}
			}
			return false
		}
		n = n.get(p)
	}
	return false
}

// comparison holds the differences found between two record streams,
// grouped by topic and place (a value path, "headers", "count"): the first
// example of each and how often it occurred.
type comparison struct {
	prefix string
	order  []string
	seen   map[string]*finding
}

type finding struct {
	example string
	n       int
}

func (c *comparison) add(topic, place, format string, args ...any) {
	k := topic + " " + place
	f := c.seen[k]
	if f == nil {
		f = &finding{example: fmt.Sprintf(format, args...)}
		c.seen[k] = f
		c.order = append(c.order, k)
	}
	f.n++
}

func (c *comparison) list() []string {
	out := make([]string, 0, len(c.order))
	for _, k := range c.order {
		f := c.seen[k]
		out = append(out, fmt.Sprintf("%s (%d×): %s", k, f.n, f.example))
	}
	return out
}

// byTopic groups records per topic in their order.
func byTopic(recs []Record) (map[string][]Record, []string) {
	m := map[string][]Record{}
	var order []string
	for _, r := range recs {
		if _, ok := m[r.Topic]; !ok {
			order = append(order, r.Topic)
		}
		m[r.Topic] = append(m[r.Topic], r)
	}
	return m, order
}

// skipped are records of Debezium's left out of the comparison, each a row
// of the README's table of known differences.
var skipped = []struct {
	readme string
	kind   string // topicKind
	when   func(payload *node) bool
	both   bool // Rivulet's matching records are left out too
}{
	// The MySqlConnector fallback writes no transaction topic on MariaDB.
	{readme: "MySqlConnector on MariaDB", kind: "tx", both: true, when: func(*node) bool { return javaBuild.mysql }},
}

// dropSkipped returns the records without those of skipped (Debezium's,
// or with rivulet Rivulet's, whose entries say both).
func dropSkipped(prefix string, recs []Record, rivulet bool) []Record {
	out := make([]Record, 0, len(recs))
next:
	for _, r := range recs {
		if r.Value != nil {
			if root, err := parseJSON(r.Value); err == nil && root.kind == '{' {
				payload := root
				if p := root.get("payload"); p != nil && root.get("schema") != nil {
					payload = p
				}
				for _, sk := range skipped {
					if (sk.both || !rivulet) && sk.kind == topicKind(prefix, r.Topic) && sk.when(payload) {
						continue next
					}
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// compareRecords compares Debezium's records (want) with Rivulet's (got):
// the same topics, per topic the same records in the same order, each with
// equal key, value (after normalisation) and headers.
func compareRecords(prefix string, want, got []Record) []string {
	c := &comparison{prefix: prefix, seen: map[string]*finding{}}
	wm, worder := byTopic(dropSkipped(prefix, want, false))
	gm, gorder := byTopic(dropSkipped(prefix, got, true))
	topics := slices.Clone(worder)
	for _, tp := range gorder {
		if _, ok := wm[tp]; !ok {
			topics = append(topics, tp)
		}
	}
	for _, tp := range topics {
		w, g := wm[tp], gm[tp]
		if len(w) != len(g) {
			c.add(tp, "count", "Debezium wrote %d records, Rivulet %d", len(w), len(g))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			c.compareOne(tp, i, w[i], g[i])
		}
		for i := len(g); i < len(w); i++ {
			c.add(tp, "only Debezium", "[%d] key %s value %s", i, clip(w[i].Key), clip(w[i].Value))
		}
		for i := len(w); i < len(g); i++ {
			c.add(tp, "only Rivulet", "[%d] key %s value %s", i, clip(g[i].Key), clip(g[i].Value))
		}
	}
	return c.list()
}

func (c *comparison) compareOne(tp string, i int, w, g Record) {
	if w.Partition != g.Partition {
		c.add(tp, "partition", "[%d] %d ≠ %d", i, w.Partition, g.Partition)
	}
	c.compareBytes(tp, i, "key", w.Key, g.Key)
	c.compareBytes(tp, i, "value", normalise(c.prefix, w), normalise(c.prefix, g))
	wh, gh := headerText(normaliseHeaders(w.Headers)), headerText(normaliseHeaders(g.Headers))
	if wh != gh {
		c.add(tp, "headers", "[%d]\n  Debezium %s\n  Rivulet  %s", i, wh, gh)
	}
}

func (c *comparison) compareBytes(tp string, i int, what string, w, g []byte) {
	if bytes.Equal(w, g) && (w == nil) == (g == nil) {
		return
	}
	if w == nil || g == nil {
		c.add(tp, what, "[%d] %s ≠ %s", i, nullable(w), nullable(g))
		return
	}
	wn, err1 := parseJSON(w)
	gn, err2 := parseJSON(g)
	if err1 != nil || err2 != nil {
		c.add(tp, what, "[%d] %s ≠ %s", i, clip(w), clip(g))
		return
	}
	d := diffs(nil, 50, "", wn, gn)
	if len(d) == 0 {
		c.add(tp, what, "[%d] same JSON, different bytes: %s ≠ %s", i, clip(w), clip(g))
		return
	}
	for _, x := range d {
		path, detail, _ := strings.Cut(x, ": ")
		c.add(tp, what+" "+path, "[%d] (Debezium ≠ Rivulet) %s", i, detail)
	}
}

func nullable(b []byte) string {
	if b == nil {
		return "null"
	}
	return clip(b)
}

// normaliseHeaders replaces the values of the headers normalised names.
func normaliseHeaders(hs []Header) []Header {
	out := slices.Clone(hs)
	for i, h := range out {
		for _, n := range normalised {
			if n.header == h.Key && h.Value != nil {
				out[i].Value = []byte(placeholder)
			}
		}
	}
	return out
}

func headerText(hs []Header) string {
	var b strings.Builder
	for i, h := range hs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", h.Key, nullable(h.Value))
	}
	return b.String()
}

// reportDiffs fails t with every difference.
func reportDiffs(t testing.TB, what string, d []string) {
	t.Helper()
	if len(d) == 0 {
		return
	}
	t.Errorf("%s: %d differences from Debezium 3.6.1:\n%s", what, len(d), strings.Join(d, "\n"))
}

// canonFloats rewrites every non-integer number member of a row as its
// float32 value's shortest text.
func canonFloats(row *node) bool {
	if row == nil || row.kind != '{' {
		return false
	}
	changed := false
	for _, v := range row.vals {
		if v.kind != 0 || len(v.raw) == 0 || !bytes.ContainsAny(v.raw, ".eE") || v.raw[0] == '"' {
			continue
		}
		f, err := strconv.ParseFloat(string(v.raw), 64)
		if err != nil {
			continue
		}
		v.raw = []byte(strconv.FormatFloat(float64(float32(f)), 'g', -1, 32))
		changed = true
	}
	return changed
}
