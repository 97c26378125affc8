package binlog

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rivulet-cdc/rivulet/event"
)

// Partial JSON updates (MySQL 8.0.3+, binlog_row_value_options=PARTIAL_JSON)
// log the after value of a JSON column changed by JSON_SET, JSON_REPLACE or
// JSON_REMOVE as a list of diffs against the before value
// (Json_diff_vector::write_binary, sql/json_diff.cc):
//
//	operation (1 byte: 0 REPLACE, 1 INSERT, 2 REMOVE)
//	path length (packed integer), path (text, "$.a[1].b", `$."x y"`)
//	unless REMOVE: value length (packed integer), value (binary JSON)
//
// repeated until the column's length is used up. With binlog_row_image=FULL
// the before image holds the whole document, so the after document is
// rebuilt here by applying the diffs, as the server did. Debezium does not
// decode these events (its documentation says such updates are lost).
//
// The document is handled as a small tree whose scalars keep the text the
// JSON renderer wrote for them, so the rebuilt document is written exactly
// as a full after image would be: object members in the order MySQL stores
// them (by key length, then bytes), which an INSERT keeps.

// JSON diff operations (enum_json_diff_operation).
const (
	jsonDiffReplace = 0
	jsonDiffInsert  = 1
	jsonDiffRemove  = 2
)

// jnode is one JSON value: an object, an array or a scalar's text.
type jnode struct {
	kind byte // 'o', 'a' or 's'
	keys []string
	vals []*jnode
	raw  []byte
}

// applyJSONDiffs applies the diffs in diff (the column's bytes) to the JSON
// text before and appends the resulting JSON text to dst.
func applyJSONDiffs(dst, before, diff []byte) ([]byte, error) {
	root, rest, err := parseJNode(before)
	if err != nil {
		return dst, corrupt("partial JSON update: before value: %v", err)
	}
	if len(skipJSONSpace(rest)) != 0 {
		return dst, corrupt("partial JSON update: trailing bytes after the before value")
	}
	for len(diff) > 0 {
		op := diff[0]
		if op > jsonDiffRemove {
			return dst, corrupt("partial JSON update: diff operation %d", op)
		}
		plen, n := lenencInt(diff[1:])
		if n == 0 || uint64(len(diff)-1-n) < plen {
			return dst, errTruncated
		}
		path := diff[1+n : 1+n+int(plen)]
		diff = diff[1+n+int(plen):]
		var val *jnode
		if op != jsonDiffRemove {
			vlen, n := lenencInt(diff)
			if n == 0 || uint64(len(diff)-n) < vlen {
				return dst, errTruncated
			}
			text, err := appendJSONText(nil, diff[n:n+int(vlen)])
			if err != nil {
				return dst, err
			}
			if val, _, err = parseJNode(text); err != nil {
				return dst, corrupt("partial JSON update: diff value: %v", err)
			}
			diff = diff[n+int(vlen):]
		}
		legs, err := parseJSONPath(path)
		if err != nil {
			return dst, corrupt("partial JSON update: %v", err)
		}
		if root, err = applyJSONDiff(root, op, legs, val); err != nil {
			return dst, corrupt("partial JSON update %s %q: %v", [...]string{"REPLACE", "INSERT", "REMOVE"}[op], path, err)
		}
	}
	return appendJNode(dst, root), nil
}

// jsonLeg is one step of a path: an object member or an array index.
type jsonLeg struct {
	key   string
	index int // -1 for a member
}

// parseJSONPath parses the paths the server writes in diffs: "$" followed
// by .member, ."quoted member" and [index] legs.
func parseJSONPath(p []byte) ([]jsonLeg, error) {
	if len(p) == 0 || p[0] != '$' {
		return nil, fmt.Errorf("path %q does not start with $", p)
	}
	var legs []jsonLeg
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			i++
			if i < len(p) && p[i] == '"' {
				j := i + 1
				for j < len(p) && p[j] != '"' {
					if p[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(p) {
					return nil, fmt.Errorf("path %q: unterminated quoted member", p)
				}
				var k string
				if err := json.Unmarshal(p[i:j+1], &k); err != nil {
					return nil, fmt.Errorf("path %q: %v", p, err)
				}
				legs = append(legs, jsonLeg{key: k, index: -1})
				i = j + 1
				continue
			}
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("path %q: empty member", p)
			}
			legs = append(legs, jsonLeg{key: string(p[i:j]), index: -1})
			i = j
		case '[':
			j := i + 1
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				return nil, fmt.Errorf("path %q: unterminated index", p)
			}
			n, err := strconv.Atoi(string(p[i+1 : j]))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: index %q", p, p[i+1:j])
			}
			legs = append(legs, jsonLeg{index: n})
			i = j + 1
		case ' ':
			i++
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at %d", p, p[i], i)
		}
	}
	return legs, nil
}

// applyJSONDiff applies one operation; it returns the (possibly new) root.
func applyJSONDiff(root *jnode, op byte, legs []jsonLeg, val *jnode) (*jnode, error) {
	if len(legs) == 0 {
		if op != jsonDiffReplace {
			return root, fmt.Errorf("the root can only be replaced")
		}
		return val, nil
	}
	parent := root
	for _, l := range legs[:len(legs)-1] {
		next := parent.child(l)
		if next == nil {
			return root, fmt.Errorf("the path's parent does not exist in the before value")
		}
		parent = next
	}
	last := legs[len(legs)-1]
	switch {
	case last.index < 0 && parent.kind == 'o':
		k := parent.memberIndex(last.key)
		switch op {
		case jsonDiffReplace:
			if k < 0 {
				return root, fmt.Errorf("member %q does not exist", last.key)
			}
			parent.vals[k] = val
		case jsonDiffInsert:
			if k >= 0 {
				return root, fmt.Errorf("member %q exists already", last.key)
			}
			at := len(parent.keys)
			for i, key := range parent.keys {
				if keyBefore(last.key, key) {
					at = i
					break
				}
			}
			parent.keys = append(parent.keys[:at], append([]string{last.key}, parent.keys[at:]...)...)
			parent.vals = append(parent.vals[:at], append([]*jnode{val}, parent.vals[at:]...)...)
		case jsonDiffRemove:
			if k < 0 {
				return root, fmt.Errorf("member %q does not exist", last.key)
			}
			parent.keys = append(parent.keys[:k], parent.keys[k+1:]...)
			parent.vals = append(parent.vals[:k], parent.vals[k+1:]...)
		}
	case last.index >= 0 && parent.kind == 'a':
		i := last.index
		switch op {
		case jsonDiffReplace:
			if i >= len(parent.vals) {
				return root, fmt.Errorf("index %d beyond the array's %d elements", i, len(parent.vals))
			}
			parent.vals[i] = val
		case jsonDiffInsert:
			// JSON_ARRAY_INSERT: past the end appends.
			i = min(i, len(parent.vals))
			parent.vals = append(parent.vals[:i], append([]*jnode{val}, parent.vals[i:]...)...)
		case jsonDiffRemove:
			if i >= len(parent.vals) {
				return root, fmt.Errorf("index %d beyond the array's %d elements", i, len(parent.vals))
			}
			parent.vals = append(parent.vals[:i], parent.vals[i+1:]...)
		}
	default:
		return root, fmt.Errorf("the path's last step does not fit the value it reaches")
	}
	return root, nil
}

// keyBefore is MySQL's order of object keys in binary JSON: shorter first,
// then by bytes.
func keyBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (n *jnode) child(l jsonLeg) *jnode {
	switch {
	case l.index < 0 && n.kind == 'o':
		if k := n.memberIndex(l.key); k >= 0 {
			return n.vals[k]
		}
	case l.index >= 0 && n.kind == 'a':
		if l.index < len(n.vals) {
			return n.vals[l.index]
		}
	}
	return nil
}

func (n *jnode) memberIndex(key string) int {
	for i, k := range n.keys {
		if k == key {
			return i
		}
	}
	return -1
}

func skipJSONSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// parseJNode parses one JSON value of b (as appendJSONText writes them).
func parseJNode(b []byte) (*jnode, []byte, error) {
	b = skipJSONSpace(b)
	if len(b) == 0 {
		return nil, b, fmt.Errorf("unexpected end of JSON")
	}
	switch b[0] {
	case '{':
		n := &jnode{kind: 'o'}
		b = skipJSONSpace(b[1:])
		if len(b) > 0 && b[0] == '}' {
			return n, b[1:], nil
		}
		for {
			b = skipJSONSpace(b)
			end, err := jsonStringEnd(b)
			if err != nil {
				return nil, b, err
			}
			var key string
			if err := json.Unmarshal(b[:end], &key); err != nil {
				return nil, b, err
			}
			b = skipJSONSpace(b[end:])
			if len(b) == 0 || b[0] != ':' {
				return nil, b, fmt.Errorf("expected a colon")
			}
			v, rest, err := parseJNode(b[1:])
			if err != nil {
				return nil, rest, err
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
			b = skipJSONSpace(rest)
			if len(b) > 0 && b[0] == ',' {
				b = b[1:]
				continue
			}
			if len(b) > 0 && b[0] == '}' {
				return n, b[1:], nil
			}
			return nil, b, fmt.Errorf("expected , or }")
		}
	case '[':
		n := &jnode{kind: 'a'}
		b = skipJSONSpace(b[1:])
		if len(b) > 0 && b[0] == ']' {
			return n, b[1:], nil
		}
		for {
			v, rest, err := parseJNode(b)
			if err != nil {
				return nil, rest, err
			}
			n.vals = append(n.vals, v)
			b = skipJSONSpace(rest)
			if len(b) > 0 && b[0] == ',' {
				b = b[1:]
				continue
			}
			if len(b) > 0 && b[0] == ']' {
				return n, b[1:], nil
			}
			return nil, b, fmt.Errorf("expected , or ]")
		}
	case '"':
		end, err := jsonStringEnd(b)
		if err != nil {
			return nil, b, err
		}
		return &jnode{kind: 's', raw: b[:end]}, b[end:], nil
	default:
		end := 0
		for end < len(b) && b[end] != ',' && b[end] != ']' && b[end] != '}' && b[end] != ' ' {
			end++
		}
		if end == 0 {
			return nil, b, fmt.Errorf("unexpected %q", b[0])
		}
		return &jnode{kind: 's', raw: b[:end]}, b[end:], nil
	}
}

// jsonStringEnd returns the index after the closing quote of the string b starts with.
func jsonStringEnd(b []byte) (int, error) {
	if len(b) == 0 || b[0] != '"' {
		return 0, fmt.Errorf("expected a string")
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string")
}

// appendJNode writes n as the JSON renderer writes documents (no blanks).
func appendJNode(dst []byte, n *jnode) []byte {
	switch n.kind {
	case 'o':
		dst = append(dst, '{')
		for i, k := range n.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, []byte(k))
			dst = append(dst, ':')
			dst = appendJNode(dst, n.vals[i])
		}
		return append(dst, '}')
	case 'a':
		dst = append(dst, '[')
		for i, v := range n.vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJNode(dst, v)
		}
		return append(dst, ']')
	}
	return append(dst, n.raw...)
}

// partialJSON decodes the after value of JSON column i given as diffs,
// rebuilding the document from the before image of the same row.
func (d *rowDecoder) partialJSON(v *event.Value, i int, b []byte) (int, error) {
	c := &d.cols[i]
	diffs, n, err := blobPayload(b, c.meta)
	if err != nil {
		return 0, err
	}
	if c.skip {
		*v = event.Null
		return n, nil
	}
	if d.partialBefore == nil || d.partialBefore[i>>3]&(1<<(i&7)) == 0 {
		return 0, &Error{Kind: ErrUnsupported,
			Msg: fmt.Sprintf("partial JSON update of column %d without the column in the before image, so its new document cannot be rebuilt", i+1),
			Hint: "SET GLOBAL binlog_row_image=FULL (and in the server configuration) so that before images carry the whole document, " +
				"or SET GLOBAL binlog_row_value_options='' so that updates log whole JSON documents"}
	}
	before := d.beforeRow[i]
	if before.Kind != event.KindJSON {
		return 0, corrupt("partial JSON update of column %d whose before value is NULL", i+1)
	}
	d.grow(len(before.B) + len(diffs)*2 + 16)
	start := len(d.arena)
	out, err := applyJSONDiffs(d.arena, before.B, diffs)
	if err != nil {
		return 0, err
	}
	// If the arena was outgrown, out is a new array: earlier values keep
	// the old one, as with grow.
	d.arena = out
	*v = event.Value{Kind: event.KindJSON, B: d.arena[start:len(d.arena):len(d.arena)]}
	return n, nil
}
