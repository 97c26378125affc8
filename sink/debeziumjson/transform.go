package debeziumjson

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// propagatedTypeParam is the schema parameter column.propagate.source.type
// and datatype.propagate.source.type always add.
const propagatedTypeParam = "__debezium.source.column.type"

// transformer is the compiled transform chain and column mappers.
type transformer struct {
	chain         []compiledTransform
	mappers       []columnRule
	skipUnchanged bool
	skipped       atomic.Int64
}

type compiledTransform struct {
	cfg     sink.TransformConfig
	re      *javaRegex // router: topic regex
	keyRe   *javaRegex // ByLogicalTableRouter: key.field.regex
	fields  []fieldRef // unwrap: add.fields
	headers []fieldRef // unwrap: add.headers

	fieldsNeedNow, headersNeedNow bool // a field reads ts_ms/ts_us/ts_ns
}

// newTransformer compiles cfg's transforms and column mappers; nil when
// there are none (the plain encoding path).
func newTransformer(cfg *sink.JSONConfig) (*transformer, error) {
	if len(cfg.Transforms) == 0 && len(cfg.ColumnMappers) == 0 && !cfg.SkipMessagesWithoutChange {
		return nil, nil
	}
	x := &transformer{skipUnchanged: cfg.SkipMessagesWithoutChange}
	unwraps := 0
	for _, t := range cfg.Transforms {
		ct := compiledTransform{cfg: t}
		var err error
		switch t.Kind {
		case sink.TransformUnwrap:
			unwraps++
			if unwraps > 1 {
				return nil, fmt.Errorf("%w: transforms: %s is a second ExtractNewRecordState, which is not supported yet; keep one", sink.ErrConfig, t.Name)
			}
			if ct.fields, err = parseFieldRefs(t.AddFieldsPrefix, t.AddFields); err != nil {
				return nil, fmt.Errorf("%w: transforms.%s.add.fields: %w", sink.ErrConfig, t.Name, err)
			}
			if ct.headers, err = parseFieldRefs(t.AddHeadersPrefix, t.AddHeaders); err != nil {
				return nil, fmt.Errorf("%w: transforms.%s.add.headers: %w", sink.ErrConfig, t.Name, err)
			}
			ct.fieldsNeedNow, ct.headersNeedNow = needsNow(ct.fields), needsNow(ct.headers)
		case sink.TransformRegexRouter, sink.TransformLogicalTableRouter:
			what := "regex"
			if t.Kind == sink.TransformLogicalTableRouter {
				what = "topic.regex"
			}
			if ct.re, err = compileJavaRegex(t.Regex, t.Replacement); err != nil {
				return nil, fmt.Errorf("%w: transforms.%s.%s: %w", sink.ErrConfig, t.Name, what, err)
			}
			if t.Kind == sink.TransformLogicalTableRouter && strings.TrimSpace(t.KeyFieldRegex) != "" {
				if ct.keyRe, err = compileJavaRegex(strings.TrimSpace(t.KeyFieldRegex), t.KeyFieldReplacement); err != nil {
					return nil, fmt.Errorf("%w: transforms.%s.key.field.regex: %w", sink.ErrConfig, t.Name, err)
				}
			}
		default:
			return nil, fmt.Errorf("%w: transforms: %s has unknown kind %d", sink.ErrConfig, t.Name, t.Kind)
		}
		if t.Kind == sink.TransformLogicalTableRouter {
			for _, prev := range x.chain {
				if prev.cfg.Kind == sink.TransformUnwrap && prev.cfg.RouteByField != "" {
					return nil, fmt.Errorf("%w: transforms: %s (ByLogicalTableRouter) after route.by.field of %s is not supported yet; route before the unwrap",
						sink.ErrConfig, t.Name, prev.cfg.Name)
				}
			}
		}
		x.chain = append(x.chain, ct)
	}
	var err error
	if x.mappers, err = compileColumnRules(cfg.ColumnMappers); err != nil {
		return nil, err
	}
	return x, nil
}

// UnchangedSkipped returns how many updates skip.messages.without.change
// dropped (Debezium's NumberOfUnchangedEventsSkipped); -1 when it is off.
func (j *JSON) UnchangedSkipped() int64 {
	if j.xf == nil || !j.xf.skipUnchanged {
		return -1
	}
	return j.xf.skipped.Load()
}

// keyExtra is a string field a ByLogicalTableRouter appends to the key.
type keyExtra struct {
	member []byte // `,"name":"value"`
	schema []byte // `{"type":"string","optional":false,"field":"name"}`
}

// tablePlan is what the transforms make of one table version: decided once
// when the table's encoder is built, so that records only append bytes.
type tablePlan struct {
	j      *JSON
	x      *transformer
	topic  string
	cols   []jsonCol  // value columns, with the mappers' schema parameters
	masks  []*colRule // per value column: the mapper applied, or nil
	extras []keyExtra // key fields added by routers
	keyPre []byte     // key schema prefix, nil without key schemas or key

	// Envelope output (no unwrap).
	valuePre []byte

	// ExtractNewRecordState output.
	unwrap    *compiledTransform
	unwrapPre []byte // `{"schema":…,"payload":` of the flattened value, or nil
	// nullValue is the delete in tombstone mode: JsonConverter writes a
	// null payload with the row's schema (`null` without schemas).
	nullValue []byte

	// route.by.field: the value column naming the topic (-1: none), the
	// RegexRouters after the unwrap, and the topics seen so far.
	routeCol   int
	routeAfter []*compiledTransform
	routeMu    sync.Mutex
	routes     map[string]string // rendered field value -> topic
}

// plan derives the transformed shape of table t, whose plain encoding te
// json.go has just built.
func (x *transformer) plan(j *JSON, t *schema.Table, te *jsonTable) (*tablePlan, error) {
	p := &tablePlan{j: j, x: x, topic: te.topic, routeCol: -1}
	p.cols = make([]jsonCol, len(te.cols))
	copy(p.cols, te.cols)
	for i := range p.cols {
		s := *p.cols[i].schema // the mappers change p's copy, not te's
		p.cols[i].schema = &s
	}
	p.masks = make([]*colRule, len(p.cols))
	for i := range p.cols {
		c := &p.cols[i]
		r := x.ruleFor(t, &t.Columns[c.idx])
		if r == nil {
			continue
		}
		// ColumnMappers takes the first matching rule in the order truncate,
		// mask, column/datatype.propagate.source.type, hash, hash v2.
		if i := slices.IndexFunc(c.schema.Params(), func(p [2]string) bool { return p[0] == propagatedTypeParam }); i >= 0 {
			if r.cfg.Kind == sink.ColumnMaskHash || r.cfg.Kind == sink.ColumnMaskHashV2 {
				continue // propagation wins
			}
			*c.schema = c.schema.WithParams(slices.DeleteFunc(slices.Clone(c.schema.Params()), func(p [2]string) bool {
				return strings.HasPrefix(p[0], "__debezium.source.column.")
			}))
		}
		p.masks[i] = r.forColumn(c, &t.Columns[c.idx])
	}

	keyName := te.topic + ".Key"
	valueName := te.topic + ".Value"
	envName := te.topic + ".Envelope"
	envelope := true
	for i := range x.chain {
		ct := &x.chain[i]
		switch ct.cfg.Kind {
		case sink.TransformUnwrap:
			p.unwrap = ct
			envelope = false
		case sink.TransformRegexRouter:
			if nt, ok := ct.re.route(p.topic); ok && nt != "" {
				p.topic = nt
			}
			if p.unwrap != nil {
				p.routeAfter = append(p.routeAfter, ct)
			}
		case sink.TransformLogicalTableRouter:
			old := p.topic
			nt, ok := ct.re.route(old)
			if !ok || nt == "" { // an empty result leaves the record as it is (ToLogicalTopicRouter.apply)
				continue
			}
			p.topic = nt
			if len(te.keyCols) > 0 {
				keyName = nt + ".Key"
				if ct.cfg.KeyEnforceUniqueness {
					id := old
					if ct.keyRe != nil {
						if v, ok := ct.keyRe.route(old); ok {
							id = v
						}
					}
					var e keyExtra
					e.member = append(sink.AppendJSONString([]byte{','}, ct.cfg.KeyFieldName), ':')
					e.member = sink.AppendJSONString(e.member, id)
					e.schema = append([]byte(`{"type":"string","optional":false,"field":`), sink.AppendJSONString(nil, ct.cfg.KeyFieldName)...)
					e.schema = append(e.schema, '}')
					p.extras = append(p.extras, e)
				}
			}
			if envelope {
				valueName, envName = nt+".Value", nt+".Envelope"
			}
		}
	}

	if p.unwrap != nil && p.unwrap.cfg.RouteByField != "" {
		// Struct.getString: the field must exist and be a string.
		f := p.unwrap.cfg.RouteByField
		p.routeCol = slices.IndexFunc(p.cols, func(c jsonCol) bool { return c.name == f })
		if p.routeCol < 0 || p.cols[p.routeCol].schema.Type() != "string" {
			return nil, fmt.Errorf("%w: transforms.%s.route.by.field: %s is not a string column of %s.%s (Debezium fails on it)", sink.ErrConfig, p.unwrap.cfg.Name, f, t.DB, t.Name)
		}
		p.routes = make(map[string]string)
	}
	if j.cfg.KeySchemas && len(te.keyCols) > 0 {
		b := []byte(`{"schema":{"type":"struct","fields":[`)
		for i := range te.keyCols {
			c := &te.keyCols[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = c.schema.AppendJSON(b, c.optional(), c.name)
		}
		for _, e := range p.extras {
			b = append(b, ',')
			b = append(b, e.schema...)
		}
		b = append(b, `],"optional":false,"name":`...)
		b = sink.AppendJSONString(b, keyName)
		p.keyPre = append(b, `},"payload":`...)
	}
	if j.cfg.ValueSchemas {
		if p.unwrap == nil {
			b := []byte(`{"schema":`)
			b = j.appendEnvelopeSchemaNamed(b, p.cols, valueName, envName)
			p.valuePre = append(b, `,"payload":`...)
		} else {
			if err := p.checkUnwrapNames(); err != nil {
				return nil, err
			}
			p.unwrapPre = p.appendUnwrapSchemaPrefix(valueName)
			b := []byte(`{"schema":`)
			b = appendRowSchema(b, p.cols, true, valueName, "")
			p.nullValue = append(b, `,"payload":null}`...)
		}
	} else if p.unwrap != nil {
		if err := p.checkUnwrapNames(); err != nil {
			return nil, err
		}
		p.nullValue = []byte("null")
	}
	return p, nil
}

// appendEnvelopeSchemaNamed is appendEnvelopeSchema with the row and
// envelope schema names given (routers rename them).
func (j *JSON) appendEnvelopeSchemaNamed(dst []byte, cols []jsonCol, valueName, envName string) []byte {
	dst = append(dst, `{"type":"struct","fields":[`...)
	dst = appendRowSchema(dst, cols, true, valueName, "before")
	dst = append(dst, ',')
	dst = appendRowSchema(dst, cols, true, valueName, "after")
	dst = append(dst, ',')
	dst = append(dst, sourceFields...)
	dst = sink.AppendJSONString(dst, "io.debezium.connector."+j.cfg.Connector.String()+".Source")
	dst = append(dst, `,"version":1,"field":"source"},`...)
	dst = append(dst, envelopeTail...)
	dst = sink.AppendJSONString(dst, envName)
	return append(dst, `,"version":2}`...)
}

// appendPlanned emits the records of ev for a table with transforms, column
// mappers or skip.messages.without.change. It mirrors appendRecords.
func (j *JSON) appendPlanned(recs []sink.Record, buf []byte, te *jsonTable, ev *event.ChangeEvent, tc *tailCache) ([]sink.Record, []byte, error) {
	p := te.plan
	var pl sink.Plan
	if err := sink.PlanRecords(&pl, te.view, ev, j.cfg.TombstonesOnDelete); err != nil {
		return recs, buf, err
	}
	if ev.Op == event.OpTruncate && p.unwrap != nil {
		return recs, buf, nil // AbstractExtractRecordStrategy.handleTruncateRecord drops it
	}
	// RelationalChangeRecordEmitter.emitUpdateRecord: an update whose value
	// struct equals the old one is not emitted.
	if p.skipsUnchanged(ev) {
		p.x.skipped.Add(1)
		return recs, buf, nil
	}
	var err error
	if buf, err = sink.AppendPlanKeys(&pl, te.view, plannedKey{j, te}, buf, ev); err != nil {
		return recs, buf, err
	}
	// hdrs are the headers of the record before a tombstone, a transform's
	// included: Debezium's tombstone shares the delete's ConnectHeaders.
	var hdrs []sink.Header
	var st sink.PlanStep
	for i := range pl.Len() {
		pl.Step(i, ev, &st)
		if st.Tombstone {
			recs, buf = j.emitTombstone(recs, buf, te, st.Key, hdrs, len(st.Headers))
			continue
		}
		if recs, buf, hdrs, err = j.emitChange(recs, buf, te, ev, st.Op, st.Key, st.Before, st.After, st.Headers, tc); err != nil {
			return recs, buf, err
		}
	}
	return recs, buf, nil
}

// plannedKey is the key of a table with a plan.
type plannedKey struct {
	j  *JSON
	te *jsonTable
}

func (k plannedKey) AppendKey(dst []byte, row []event.Value) ([]byte, error) {
	return k.j.appendPlannedKey(dst, k.te, row)
}

// appendPlannedKey writes the key: the key columns, then the fields routers add.
func (j *JSON) appendPlannedKey(dst []byte, te *jsonTable, row []event.Value) ([]byte, error) {
	p := te.plan
	if p.keyPre != nil {
		dst = append(dst, p.keyPre...)
	}
	var err error
	if dst, err = j.appendRow(dst, te, true, row); err != nil {
		return dst, err
	}
	if len(p.extras) > 0 {
		dst = dst[:len(dst)-1]
		for _, e := range p.extras {
			dst = append(dst, e.member...)
		}
		dst = append(dst, '}')
	}
	if p.keyPre != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

// emitChange appends the record of one change (op c, r, u or d) as the
// transform chain leaves it: an envelope, a flattened row, a null value, or
// nothing. It returns the record's headers: Debezium's tombstone shares the
// delete's ConnectHeaders, so it also carries what add.headers put there.
func (j *JSON) emitChange(recs []sink.Record, buf []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, key []byte, before, after []event.Value, hdrs []sink.Header, tc *tailCache) ([]sink.Record, []byte, []sink.Header, error) {
	p := te.plan
	var err error
	start := len(buf)
	if p.unwrap == nil {
		if buf, err = j.appendPlannedEnvelope(buf, te, ev, op, before, after, tc); err != nil {
			return recs, buf, hdrs, err
		}
		return append(recs, sink.Record{Topic: p.topic, Key: key, Value: buf[start:len(buf):len(buf)], Headers: hdrs}), buf, hdrs, nil
	}
	u := &p.unwrap.cfg
	own := len(hdrs)
	if len(p.unwrap.headers) > 0 {
		hdrs, buf = p.appendHeaders(hdrs, buf, te, ev, op, tc)
	}
	var value []byte
	if op == event.OpDelete {
		switch u.DeleteHandling {
		case sink.DeleteDrop:
			return recs, buf, hdrs, nil
		case sink.DeleteTombstone:
			value = p.nullValue
		case sink.DeleteToTombstone:
			value = nil
		default: // rewrite, rewrite-with-tombstone
			start = len(buf)
			if buf, err = j.appendUnwrapped(buf, te, ev, op, before, tc); err != nil {
				return recs, buf, hdrs, err
			}
			value = buf[start:len(buf):len(buf)]
		}
	} else {
		start = len(buf)
		if buf, err = j.appendUnwrapped(buf, te, ev, op, after, tc); err != nil {
			return recs, buf, hdrs, err
		}
		value = buf[start:len(buf):len(buf)]
	}
	topic := p.topic
	if p.routeCol >= 0 {
		row := after
		if op == event.OpDelete {
			row = before
		}
		if topic, err = p.routedTopic(row); err != nil {
			return recs, buf, hdrs, j.fillTable(err, ev.Table)
		}
	}
	return append(recs, sink.Record{Topic: topic, Key: key, Value: value, Headers: hdrs, SMTHeaders: len(hdrs) - own}), buf, hdrs, nil
}

// maxRoutes bounds the route.by.field topic cache.
const maxRoutes = 4096

// routedTopic is route.by.field: the (mapped) value of the column names the
// topic, then the RegexRouters after the unwrap apply; a null or blank value
// keeps the topic (AbstractExtractNewRecordState.setTopic).
func (p *tablePlan) routedTopic(row []event.Value) (string, error) {
	c := &p.cols[p.routeCol]
	var tmp [128]byte
	var v []byte
	var err error
	if m := p.masks[p.routeCol]; m != nil {
		v, err = m.appendValue(tmp[:0], c, &row[c.idx])
	} else {
		v, err = c.appendValue(tmp[:0], &row[c.idx])
	}
	if err != nil {
		return "", &sink.EncodeError{Column: c.name, Err: err}
	}
	p.routeMu.Lock()
	defer p.routeMu.Unlock()
	if t, ok := p.routes[string(v)]; ok {
		return t, nil
	}
	topic := p.topic
	if s, err := strconv.Unquote(string(v)); err == nil && strings.TrimSpace(s) != "" {
		topic = s
		for _, r := range p.routeAfter {
			if nt, ok := r.re.route(topic); ok && nt != "" {
				topic = nt
			}
		}
	}
	if len(p.routes) >= maxRoutes {
		clear(p.routes)
	}
	p.routes[string(v)] = topic
	return topic, nil
}

// emitTombstone appends the tombstone after a delete, unless the unwrap
// transform drops it. hdrs are the delete's headers, the first own of them
// the connector's (a key change's), the rest a transform's.
func (j *JSON) emitTombstone(recs []sink.Record, buf []byte, te *jsonTable, key []byte, hdrs []sink.Header, own int) ([]sink.Record, []byte) {
	p := te.plan
	if p.unwrap != nil {
		if p.unwrap.cfg.DeleteHandling != sink.DeleteRewriteWithTombstone {
			return recs, buf
		}
		// makeHeaders with a null value adds only the op header, as "d".
		for _, h := range p.unwrap.headers {
			if h.src == refOp {
				hdrs = append(hdrs[:len(hdrs):len(hdrs)], sink.Header{Key: h.newName, Value: opD})
			}
		}
	}
	return append(recs, sink.Record{Topic: p.topic, Key: key, Headers: hdrs, SMTHeaders: len(hdrs) - own}), buf
}

var opD = []byte("d")

// appendPlannedEnvelope is appendValueChecked with the plan's schema and
// the column mappers applied to the row images.
func (j *JSON) appendPlannedEnvelope(dst []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, before, after []event.Value, tc *tailCache) ([]byte, error) {
	p := te.plan
	start := len(dst)
	if p.valuePre != nil {
		dst = append(dst, p.valuePre...)
	}
	dst = append(dst, `{"before":`...)
	var err error
	if before == nil {
		dst = append(dst, "null"...)
	} else if dst, err = p.appendValueRow(dst, before); err != nil {
		return dst[:start], j.fillTable(err, ev.Table)
	}
	dst = append(dst, `,"after":`...)
	if after == nil {
		dst = append(dst, "null"...)
	} else if dst, err = p.appendValueRow(dst, after); err != nil {
		return dst[:start], j.fillTable(err, ev.Table)
	}
	dst = j.appendTail(dst, te, ev, op, tc)
	if p.valuePre != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

// appendValueRow writes a before/after row with the column mappers applied.
func (p *tablePlan) appendValueRow(dst []byte, row []event.Value) ([]byte, error) {
	dst = append(dst, '{')
	for i := range p.cols {
		c := &p.cols[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.key...)
		var err error
		if m := p.masks[i]; m != nil {
			dst, err = m.appendValue(dst, c, &row[c.idx])
		} else {
			dst, err = c.appendValue(dst, &row[c.idx])
		}
		if err != nil {
			return dst, &sink.EncodeError{Column: c.name, Err: err}
		}
	}
	return append(dst, '}'), nil
}

// skipsUnchanged reports whether skip.messages.without.change drops ev
// (its rows must match the table).
func (p *tablePlan) skipsUnchanged(ev *event.ChangeEvent) bool {
	return ev.Op == event.OpUpdate && p.x.skipUnchanged && ev.Before != nil && ev.After != nil && p.sameValue(ev.Before, ev.After)
}

// sameValue reports whether two row images give equal value structs, as
// Struct.equals compares them after conversion and column mapping.
func (p *tablePlan) sameValue(before, after []event.Value) bool {
	for i := range p.cols {
		c := &p.cols[i]
		a, b := &before[c.idx], &after[c.idx]
		if m := p.masks[i]; m != nil {
			if m.sameMapped(c, a, b) {
				continue
			}
			return false
		}
		if !sameRaw(a, b) {
			return false
		}
	}
	return true
}

func sameRaw(a, b *event.Value) bool {
	return a.Kind == b.Kind && a.I == b.I && string(a.B) == string(b.B)
}

// javaRegex is a java.util.regex pattern used by Matcher.matches() and
// replaceFirst: the whole input must match, then the first match is
// replaced with a Java replacement string.
type javaRegex struct {
	whole *regexp.Regexp // ^(?:re)$
	first *regexp.Regexp // re
	repl  []replPart
}

// replPart is a literal or a group reference of a replacement string.
type replPart struct {
	lit   string
	group int // -1: literal
}

func compileJavaRegex(re, replacement string) (*javaRegex, error) {
	first, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("%q is not a regular expression Rivulet can run (Go RE2 syntax: no backreferences or lookaround): %w", re, err)
	}
	whole, err := regexp.Compile(`^(?:` + re + `)$`)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", re, err)
	}
	parts, err := parseJavaReplacement(replacement, first)
	if err != nil {
		return nil, err
	}
	return &javaRegex{whole: whole, first: first, repl: parts}, nil
}

// parseJavaReplacement parses Matcher.appendReplacement's syntax: $n (the
// longest group number that exists), ${name}, and \ escaping the next
// character.
func parseJavaReplacement(s string, re *regexp.Regexp) ([]replPart, error) {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			i++
			if i >= len(s) {
				return nil, fmt.Errorf("replacement %q ends with a lone backslash", s)
			}
			lit.WriteByte(s[i])
		case '$':
			i++
			if i >= len(s) {
				return nil, fmt.Errorf("replacement %q ends with a lone $ (write \\$ for a dollar sign)", s)
			}
			if s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("replacement %q has an unclosed ${", s)
				}
				name := s[i+1 : i+end]
				g := re.SubexpIndex(name)
				if g < 0 {
					return nil, fmt.Errorf("replacement %q names group %q, which the regex does not have", s, name)
				}
				flush()
				parts = append(parts, replPart{group: g})
				i += end
				continue
			}
			if s[i] < '0' || s[i] > '9' {
				return nil, fmt.Errorf("replacement %q: $ must be followed by a group number or {name} (write \\$ for a dollar sign)", s)
			}
			g := int(s[i] - '0')
			if g > groups {
				return nil, fmt.Errorf("replacement %q refers to group %d; the regex has %d", s, g, groups)
			}
			for i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				n := g*10 + int(s[i+1]-'0')
				if n > groups {
					break
				}
				g = n
				i++
			}
			flush()
			parts = append(parts, replPart{group: g})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}

// route returns the replaced topic when the whole of s matches.
func (r *javaRegex) route(s string) (string, bool) {
	if !r.whole.MatchString(s) {
		return "", false
	}
	m := r.first.FindStringSubmatchIndex(s)
	if m == nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString(s[:m[0]])
	for _, p := range r.repl {
		if p.group < 0 {
			b.WriteString(p.lit)
			continue
		}
		if lo, hi := m[2*p.group], m[2*p.group+1]; lo >= 0 {
			b.WriteString(s[lo:hi])
		}
	}
	b.WriteString(s[m[1]:])
	return b.String(), true
}
