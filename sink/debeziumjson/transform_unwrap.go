package debeziumjson

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// This file is ExtractNewRecordState (debezium-connect-plugins
// io/debezium/transforms/ExtractNewRecordState.java,
// AbstractExtractNewRecordState.java, extractnewstate/
// DefaultDeleteHandlingStrategy.java) over Rivulet's encoder: the flattened
// value is the after (or before) row, then __deleted in the rewrite modes
// (Kafka's InsertField), then add.fields; its schema keeps the row's name
// and, rebuilt by SchemaUtil.copySchemaBasics, is not optional.

// refSrc is the envelope field an add.fields / add.headers entry reads.
type refSrc uint8

const (
	refMissing refSrc = iota // not in the envelope (e.g. lsn): left out, as Debezium does
	refOp
	refTsMs
	refTsUs
	refTsNs
	refSrcVersion
	refSrcConnector
	refSrcName
	refSrcTsMs
	refSrcSnapshot
	refSrcDB
	refSrcSequence
	refSrcTsUs
	refSrcTsNs
	refSrcTable
	refSrcServerID
	refSrcGTID
	refSrcFile
	refSrcPos
	refSrcRow
	refSrcThread
	refSrcQuery
	refTxID
	refTxTotalOrder
	refTxCollectionOrder
)

// refSchemas are the field schemas of the referenced envelope fields,
// copied with SchemaUtil.copySchemaBasics(...).optional(): type, name,
// version and parameters, no default.
var refSchemas = [...]string{
	refOp: "string", refTsMs: "int64", refTsUs: "int64", refTsNs: "int64",
	refSrcVersion: "string", refSrcConnector: "string", refSrcName: "string", refSrcTsMs: "int64",
	refSrcSnapshot: `string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}`,
	refSrcDB:       "string", refSrcSequence: "string", refSrcTsUs: "int64", refSrcTsNs: "int64",
	refSrcTable: "string", refSrcServerID: "int64", refSrcGTID: "string", refSrcFile: "string",
	refSrcPos: "int64", refSrcRow: "int32", refSrcThread: "int64", refSrcQuery: "string",
	refTxID: "string", refTxTotalOrder: "int64", refTxCollectionOrder: "int64",
}

var topLevelRefs = map[string]refSrc{"op": refOp, "ts_ms": refTsMs, "ts_us": refTsUs, "ts_ns": refTsNs}

var sourceRefs = map[string]refSrc{
	"version": refSrcVersion, "connector": refSrcConnector, "name": refSrcName, "ts_ms": refSrcTsMs,
	"snapshot": refSrcSnapshot, "db": refSrcDB, "sequence": refSrcSequence, "ts_us": refSrcTsUs,
	"ts_ns": refSrcTsNs, "table": refSrcTable, "server_id": refSrcServerID, "gtid": refSrcGTID,
	"file": refSrcFile, "pos": refSrcPos, "row": refSrcRow, "thread": refSrcThread, "query": refSrcQuery,
}

var txRefs = map[string]refSrc{"id": refTxID, "total_order": refTxTotalOrder, "data_collection_order": refTxCollectionOrder}

// fieldRef is one add.fields / add.headers entry (FieldReference).
type fieldRef struct {
	src     refSrc
	newName string
	member  []byte // `,"<newName>":`
	schema  []byte // the field schema, `{"type":…,"optional":true,…,"field":"<newName>"}`
}

// parseFieldRefs parses add.fields / add.headers as FieldReference does:
// "field" (struct found by name: op and ts_* at the top, transaction ids in
// transaction, anything else in source), "struct.field", and ":newName".
// Fields the envelope does not have are left out.
func parseFieldRefs(prefix string, list []string) ([]fieldRef, error) {
	var out []fieldRef
	for _, raw := range list {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		parts := strings.Split(raw, ":")
		if len(parts) > 2 {
			return nil, fmt.Errorf("%q is not field or field:newName", raw)
		}
		splits := strings.Split(parts[0], ".")
		for len(splits) > 1 && splits[len(splits)-1] == "" { // Java's split drops trailing empty strings
			splits = splits[:len(splits)-1]
		}
		var field, strct string
		if len(splits) == 1 {
			field = splits[0]
			switch field {
			case "id", "total_order", "data_collection_order":
				strct = "transaction"
			case "op", "ts_ms", "ts_us", "ts_ns":
			case "updateDescription":
				return nil, fmt.Errorf("%q is a MongoDB field", raw)
			default:
				strct = "source"
			}
		} else {
			strct, field = splits[0], splits[1]
		}
		r := fieldRef{}
		switch {
		case len(parts) == 2:
			r.newName = prefix + parts[1]
		case len(splits) == 1:
			r.newName = prefix + field
		default:
			r.newName = prefix + strct + "_" + field
		}
		var ok bool
		switch strct {
		case "":
			r.src, ok = topLevelRefs[field]
		case "source":
			r.src, ok = sourceRefs[field]
		case "transaction":
			r.src, ok = txRefs[field]
		case "before", "after":
			return nil, fmt.Errorf("%q reads a row column, which is not supported yet; name source, transaction or top-level fields", raw)
		default:
			return nil, fmt.Errorf("%q names struct %q, which the change event does not have (Debezium fails on it)", raw, strct)
		}
		if !ok {
			// Not in the struct: FieldReference falls back to the top level.
			switch field {
			case "before", "after", "source", "transaction":
				return nil, fmt.Errorf("%q is a struct, which is not supported yet; name one of its fields", raw)
			}
			r.src = topLevelRefs[field] // refMissing when absent there too
		}
		if r.src == refMissing {
			continue
		}
		r.member = append(sink.AppendJSONString([]byte{','}, r.newName), ':')
		r.schema = append([]byte(`{"type":"`), refSchemas[r.src]...)
		if r.src != refSrcSnapshot {
			r.schema = append(r.schema, `","optional":true`...)
		}
		r.schema = append(r.schema, `,"field":`...)
		r.schema = sink.AppendJSONString(r.schema, r.newName)
		r.schema = append(r.schema, '}')
		out = append(out, r)
	}
	return out, nil
}

// rewrites reports whether the flattened value gets __deleted.
func (u *compiledTransform) rewrites() bool {
	return u.cfg.DeleteHandling == sink.DeleteRewrite || u.cfg.DeleteHandling == sink.DeleteRewriteWithTombstone
}

const deletedField = "__deleted" // ExtractNewRecordStateConfigDefinition.DELETED_FIELD

// appendUnwrapSchemaPrefix builds `{"schema":…,"payload":` of the flattened value.
func (p *tablePlan) appendUnwrapSchemaPrefix(valueName string) []byte {
	b := []byte(`{"schema":{"type":"struct","fields":[`)
	n := 0
	for i := range p.cols {
		c := &p.cols[i]
		if n > 0 {
			b = append(b, ',')
		}
		b = c.schema.AppendJSON(b, c.optional(), c.name)
		n++
	}
	if p.unwrap.rewrites() {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"string","optional":true,"field":"__deleted"}`...)
		n++
	}
	for _, r := range p.unwrap.fields {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, r.schema...)
		n++
	}
	b = append(b, `],"optional":false,"name":`...)
	b = sink.AppendJSONString(b, valueName)
	return append(b, `},"payload":`...)
}

// checkUnwrapNames refuses a flattened value with two fields of one name
// (Connect's SchemaBuilder.field throws on it).
func (p *tablePlan) checkUnwrapNames() error {
	seen := make(map[string]bool, len(p.cols)+len(p.unwrap.fields)+1)
	for i := range p.cols {
		seen[p.cols[i].name] = true
	}
	if p.unwrap.rewrites() {
		if seen[deletedField] {
			return fmt.Errorf("%w: transforms.%s: the table has a column %s, which the rewrite mode adds", sink.ErrConfig, p.unwrap.cfg.Name, deletedField)
		}
		seen[deletedField] = true
	}
	for _, r := range p.unwrap.fields {
		if seen[r.newName] {
			return fmt.Errorf("%w: transforms.%s.add.fields: field %s is already in the value; change add.fields.prefix or rename it with field:newName", sink.ErrConfig, p.unwrap.cfg.Name, r.newName)
		}
		seen[r.newName] = true
	}
	return nil
}

// appendUnwrapped writes the flattened value of row (after, or before for a
// rewritten delete).
func (j *JSON) appendUnwrapped(dst []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, row []event.Value, tc *tailCache) ([]byte, error) {
	p := te.plan
	start := len(dst)
	if p.unwrapPre != nil {
		dst = append(dst, p.unwrapPre...)
	}
	var err error
	if dst, err = p.appendValueRow(dst, row); err != nil {
		return dst[:start], j.fillTable(err, ev.Table)
	}
	dst = dst[:len(dst)-1] // reopen the row for the added fields
	first := len(p.cols) == 0
	if p.unwrap.rewrites() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if op == event.OpDelete {
			dst = append(dst, `"__deleted":"true"`...)
		} else {
			dst = append(dst, `"__deleted":"false"`...)
		}
	}
	if len(p.unwrap.fields) > 0 {
		var srcBuf, nowBuf [24]byte
		tmp := j.refValuesFor(ev, p.unwrap.fieldsNeedNow, &srcBuf, &nowBuf, tc)
		for _, r := range p.unwrap.fields {
			m := r.member
			if first {
				m = m[1:]
				first = false
			}
			dst = append(dst, m...)
			dst = tmp.appendJSON(dst, j, te, ev, op, r.src)
		}
	}
	dst = append(dst, '}')
	if p.unwrapPre != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

// refValues holds the formatted instants of one record: the change time
// and, when a field asks for it, the processing time.
type refValues struct {
	srcMs, srcUs, srcNs []byte
	nowMs, nowUs, nowNs []byte
}

func (j *JSON) refValuesFor(ev *event.ChangeEvent, needNow bool, srcBuf, nowBuf *[24]byte, tc *tailCache) refValues {
	var v refValues
	v.srcMs, v.srcUs, v.srcNs = splitTimeDigits(srcBuf, ev.Source.TsUs)
	if needNow {
		now := j.clock(tc)
		v.nowMs, v.nowUs, v.nowNs = splitTimeDigitsNs(nowBuf, now.UnixNano(), now)
	}
	return v
}

// needsNow reports whether one of refs reads the processing time.
func needsNow(refs []fieldRef) bool {
	for _, r := range refs {
		if r.src == refTsMs || r.src == refTsUs || r.src == refTsNs {
			return true
		}
	}
	return false
}

// appendJSON writes the JSON value of src for the record.
func (v *refValues) appendJSON(dst []byte, j *JSON, te *jsonTable, ev *event.ChangeEvent, op event.Op, src refSrc) []byte {
	s := &ev.Source
	str := func(x string) []byte {
		if x == "" {
			return append(dst, "null"...)
		}
		return sink.AppendJSONString(dst, x)
	}
	switch src {
	case refOp:
		return append(dst, '"', byte(op), '"')
	case refTsMs:
		return append(dst, v.nowMs...)
	case refTsUs:
		return append(dst, v.nowUs...)
	case refTsNs:
		return append(dst, v.nowNs...)
	case refSrcVersion:
		return sink.AppendJSONString(dst, j.version())
	case refSrcConnector:
		return sink.AppendJSONString(dst, j.cfg.Connector.String())
	case refSrcName:
		return sink.AppendJSONString(dst, j.cfg.TopicPrefix)
	case refSrcTsMs:
		return append(dst, v.srcMs...)
	case refSrcTsUs:
		return append(dst, v.srcUs...)
	case refSrcTsNs:
		return append(dst, v.srcNs...)
	case refSrcSnapshot:
		return str(s.Snapshot) // unset while streaming: null (the copied schema has no default)
	case refSrcDB:
		return sink.AppendJSONString(dst, ev.Table.DB)
	case refSrcTable:
		return sink.AppendJSONString(dst, ev.Table.Name)
	case refSrcServerID:
		return strconv.AppendUint(dst, uint64(s.ServerID), 10)
	case refSrcGTID:
		return str(s.GTID)
	case refSrcFile:
		return sink.AppendJSONString(dst, s.File)
	case refSrcPos:
		return strconv.AppendUint(dst, s.Pos, 10)
	case refSrcRow:
		return strconv.AppendInt(dst, int64(s.Row), 10)
	case refSrcThread:
		if s.Thread < 0 {
			return append(dst, "null"...)
		}
		return strconv.AppendInt(dst, s.Thread, 10)
	case refSrcQuery:
		return str(s.Query)
	case refTxID, refTxTotalOrder, refTxCollectionOrder:
		// The transaction block, null unless provide.transaction.metadata
		// is on (appendTxBlock: the create of a key change counts one more).
		if ev.Tx.ID == "" {
			return append(dst, "null"...)
		}
		if src == refTxID {
			return sink.AppendJSONString(dst, ev.Tx.ID)
		}
		n, dc := sink.TxOrders(ev, op)
		if src == refTxCollectionOrder {
			n = dc
		}
		return strconv.AppendInt(dst, n, 10)
	}
	return append(dst, "null"...) // sequence: always null for MySQL
}

// appendRaw writes the header form of src (SimpleHeaderConverter: the
// value's string form); ok is false for a null value.
func (v *refValues) appendRaw(dst []byte, j *JSON, te *jsonTable, ev *event.ChangeEvent, op event.Op, src refSrc) ([]byte, bool) {
	start := len(dst)
	dst = v.appendJSON(dst, j, te, ev, op, src)
	val := dst[start:]
	switch {
	case string(val) == "null":
		return dst[:start], false
	case len(val) > 0 && val[0] == '"':
		// A JSON string: header values carry the text itself.
		return appendUnquoted(dst[:start], val), true
	}
	return dst, true
}

// appendUnquoted undoes appendJSONStr for the values above (source fields
// are ASCII or UTF-8 text with rare escapes).
func appendUnquoted(dst, quoted []byte) []byte {
	s, err := strconv.Unquote(string(quoted))
	if err != nil {
		return append(dst, quoted[1:len(quoted)-1]...)
	}
	return append(dst, s...)
}

// appendHeaders adds the add.headers of one emitted record to hdrs (a new
// slice: records keep their headers).
func (p *tablePlan) appendHeaders(hdrs []sink.Header, buf []byte, te *jsonTable, ev *event.ChangeEvent, op event.Op, tc *tailCache) ([]sink.Header, []byte) {
	out := make([]sink.Header, len(hdrs), len(hdrs)+len(p.unwrap.headers))
	copy(out, hdrs)
	j := p.j
	var srcBuf, nowBuf [24]byte
	tmp := j.refValuesFor(ev, p.unwrap.headersNeedNow, &srcBuf, &nowBuf, tc)
	for _, r := range p.unwrap.headers {
		start := len(buf)
		var ok bool
		buf, ok = tmp.appendRaw(buf, j, te, ev, op, r.src)
		h := sink.Header{Key: r.newName}
		if ok {
			h.Value = buf[start:len(buf):len(buf)]
		}
		out = append(out, h)
	}
	return out, buf
}

func (j *JSON) version() string {
	if j.cfg.Version == "" {
		return "unknown"
	}
	return j.cfg.Version
}
