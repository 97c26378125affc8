package differential

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// normalisation is a field whose value may differ between Debezium and
// Rivulet for the same binlog. Both values are replaced by a placeholder
// before the records are compared byte for byte; the field must exist on
// both sides.
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
	why    string
}

// normalised is the one list of fields that are not compared. Everything
// else of every record must be equal byte for byte.
var normalised = []normalisation{
	{topic: "", path: []string{"ts_ms"}, why: "the envelope's ts_ms is the connector's clock when it processed the event"},
	{topic: "", path: []string{"ts_us"}, why: "processing time, as ts_ms"},
	{topic: "", path: []string{"ts_ns"}, why: "processing time, as ts_ms"},
	{topic: "", path: []string{"source", "version"}, why: "the connector's version: Debezium writes 3.6.1.Final, Rivulet its own"},
	{topic: "change", path: []string{"source", "ts_ms"}, when: isSnapshotRead, why: "a snapshot read's source.ts_ms is the time the row was read (Debezium: SnapshotChangeRecordEmitter clock), not a binlog time"},
	{topic: "change", path: []string{"source", "ts_us"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read"},
	{topic: "change", path: []string{"source", "ts_ns"}, when: isSnapshotRead, why: "as source.ts_ms of a snapshot read"},
	{header: "__debezium.context.runId", why: "a UUIDv7 each connector run draws when it starts (CdcSourceTaskContext.runId)"},
}

func isSnapshotRead(p *node) bool { return p.get("op").str() == "r" }

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
		if n.header != "" || n.topic != "" && n.topic != kind {
			continue
		}
		if n.when != nil && !n.when(payload) {
			continue
		}
		if replace(payload, n.path) {
			changed = true
		}
	}
	if !changed {
		return r.Value
	}
	return root.appendTo(nil)
}

func replace(n *node, path []string) bool {
	for i, p := range path {
		if n == nil || n.kind != '{' {
			return false
		}
		if i == len(path)-1 {
			for j, k := range n.keys {
				if string(k) == `"`+p+`"` {
					if n.vals[j].kind == 0 && string(n.vals[j].raw) != "null" {
						n.vals[j] = &node{raw: []byte(placeholder)}
						return true
					}
					return false
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

// compareRecords compares Debezium's records (want) with Rivulet's (got):
// the same topics, per topic the same records in the same order, each with
// equal key, value (after normalisation) and headers.
func compareRecords(prefix string, want, got []Record) []string {
	c := &comparison{prefix: prefix, seen: map[string]*finding{}}
	wm, worder := byTopic(want)
	gm, gorder := byTopic(got)
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
