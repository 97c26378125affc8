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

// comparison holds the differences found between two record streams.
type comparison struct {
	prefix string
	diffs  []string
}

const maxDiffs = 40

func (c *comparison) add(format string, args ...any) {
	if len(c.diffs) < maxDiffs {
		c.diffs = append(c.diffs, fmt.Sprintf(format, args...))
	}
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
	c := &comparison{prefix: prefix}
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
			c.add("topic %s: Debezium wrote %d records, Rivulet %d", tp, len(w), len(g))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			c.compareOne(fmt.Sprintf("%s[%d]", tp, i), w[i], g[i])
		}
		for i := len(g); i < len(w); i++ {
			c.add("%s[%d]: only Debezium: key %s value %s", tp, i, clip(w[i].Key), clip(w[i].Value))
		}
		for i := len(w); i < len(g); i++ {
			c.add("%s[%d]: only Rivulet: key %s value %s", tp, i, clip(g[i].Key), clip(g[i].Value))
		}
	}
	return c.diffs
}

func (c *comparison) compareOne(at string, w, g Record) {
	if w.Partition != g.Partition {
		c.add("%s: partition %d ≠ %d", at, w.Partition, g.Partition)
	}
	c.compareBytes(at+" key", w.Key, g.Key)
	c.compareBytes(at+" value", normalise(c.prefix, w), normalise(c.prefix, g))
	wh, gh := headerText(normaliseHeaders(w.Headers)), headerText(normaliseHeaders(g.Headers))
	if wh != gh {
		c.add("%s headers:\n  Debezium %s\n  Rivulet  %s", at, wh, gh)
	}
}

func (c *comparison) compareBytes(at string, w, g []byte) {
	if bytes.Equal(w, g) && (w == nil) == (g == nil) {
		return
	}
	if w == nil || g == nil {
		c.add("%s: %s ≠ %s", at, nullable(w), nullable(g))
		return
	}
	wn, err1 := parseJSON(w)
	gn, err2 := parseJSON(g)
	if err1 != nil || err2 != nil {
		c.add("%s: %s ≠ %s", at, clip(w), clip(g))
		return
	}
	d := diffs(nil, 8, "", wn, gn)
	if len(d) == 0 {
		c.add("%s: same JSON, different bytes: %s ≠ %s", at, clip(w), clip(g))
		return
	}
	c.add("%s (Debezium ≠ Rivulet):\n    %s", at, strings.Join(d, "\n    "))
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
	more := ""
	if len(d) >= maxDiffs {
		more = fmt.Sprintf("\n(stopped at %d)", maxDiffs)
	}
	t.Errorf("%s: %d differences from Debezium 3.6.1:\n%s%s", what, len(d), strings.Join(d, "\n"), more)
}
