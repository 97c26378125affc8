package differential

import (
	"bytes"
	"fmt"
	"strconv"
)

// node is a JSON value parsed without losing its bytes: leaves keep their
// raw text, objects their members in order, so a value can be rewritten at
// a path and written back byte for byte otherwise.
type node struct {
	raw  []byte // scalar: its text; object/array: nil
	kind byte   // '{', '[' or 0 for a scalar
	keys [][]byte
	vals []*node
}

// parseJSON parses one JSON value (Kafka Connect and Rivulet write compact JSON).
func parseJSON(b []byte) (*node, error) {
	p := &jsonParser{b: b}
	p.space()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("trailing bytes at %d", p.i)
	}
	return n, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) value() (*node, error) {
	if p.i >= len(p.b) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.b[p.i]; c {
	case '{', '[':
		n := &node{kind: c}
		p.i++
		p.space()
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		if p.i < len(p.b) && p.b[p.i] == closing {
			p.i++
			return n, nil
		}
		for {
			p.space()
			if c == '{' {
				start := p.i
				if err := p.str(); err != nil {
					return nil, err
				}
				n.keys = append(n.keys, p.b[start:p.i])
				p.space()
				if p.i >= len(p.b) || p.b[p.i] != ':' {
					return nil, fmt.Errorf("want ':' at %d", p.i)
				}
				p.i++
				p.space()
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
			p.space()
			if p.i >= len(p.b) {
				return nil, fmt.Errorf("unexpected end")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == closing {
				p.i++
				return n, nil
			}
			return nil, fmt.Errorf("unexpected %q at %d", p.b[p.i], p.i)
		}
	case '"':
		start := p.i
		if err := p.str(); err != nil {
			return nil, err
		}
		return &node{raw: p.b[start:p.i]}, nil
	default:
		start := p.i
		for p.i < len(p.b) && bytes.IndexByte([]byte(",]} \n\t\r"), p.b[p.i]) < 0 {
			p.i++
		}
		if p.i == start {
			return nil, fmt.Errorf("unexpected %q at %d", c, p.i)
		}
		return &node{raw: p.b[start:p.i]}, nil
	}
}

func (p *jsonParser) str() error {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return fmt.Errorf("want string at %d", p.i)
	}
	for p.i++; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '\\':
			p.i++
		case '"':
			p.i++
			return nil
		}
	}
	return fmt.Errorf("unterminated string")
}

// get returns the member named name of an object, or nil.
func (n *node) get(name string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	q := strconv.Quote(name)
	for i, k := range n.keys {
		if string(k) == q {
			return n.vals[i]
		}
	}
	return nil
}

// str returns a string scalar's value, or "" for anything else.
func (n *node) str() string {
	if n == nil || len(n.raw) == 0 || n.raw[0] != '"' {
		return ""
	}
	s, err := strconv.Unquote(string(n.raw))
	if err != nil {
		return ""
	}
	return s
}

// elems returns an array's elements, or nil.
func (n *node) elems() []*node {
	if n == nil || n.kind != '[' {
		return nil
	}
	return n.vals
}

// isNull reports a JSON null (or a missing member).
func (n *node) isNull() bool { return n == nil || string(n.raw) == "null" }

// appendTo writes n as compact JSON.
func (n *node) appendTo(dst []byte) []byte {
	switch n.kind {
	case '{':
		dst = append(dst, '{')
		for i := range n.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, n.keys[i]...)
			dst = append(dst, ':')
			dst = n.vals[i].appendTo(dst)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		for i, v := range n.vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.appendTo(dst)
		}
		return append(dst, ']')
	}
	return append(dst, n.raw...)
}

// diffs appends the places a and b differ, as "path: a ≠ b", stopping at max.
func diffs(out []string, max int, path string, a, b *node) []string {
	if len(out) >= max {
		return out
	}
	if a.kind != b.kind {
		return append(out, fmt.Sprintf("%s: %s ≠ %s", path, clip(a.appendTo(nil)), clip(b.appendTo(nil))))
	}
	switch a.kind {
	case 0:
		if !bytes.Equal(a.raw, b.raw) {
			out = append(out, fmt.Sprintf("%s: %s ≠ %s", path, clip(a.raw), clip(b.raw)))
		}
	case '{':
		if len(a.keys) != len(b.keys) || !sameKeys(a, b) {
			return append(out, fmt.Sprintf("%s members: %s ≠ %s", path, keyList(a), keyList(b)))
		}
		for i := range a.keys {
			name, _ := strconv.Unquote(string(a.keys[i]))
			out = diffs(out, max, path+"."+name, a.vals[i], b.vals[i])
		}
	case '[':
		if len(a.vals) != len(b.vals) {
			return append(out, fmt.Sprintf("%s: %d elements ≠ %d: %s ≠ %s", path, len(a.vals), len(b.vals), clip(a.appendTo(nil)), clip(b.appendTo(nil))))
		}
		for i := range a.vals {
			out = diffs(out, max, fmt.Sprintf("%s[%d]", path, i), a.vals[i], b.vals[i])
		}
	}
	return out
}

func sameKeys(a, b *node) bool {
	for i := range a.keys {
		if !bytes.Equal(a.keys[i], b.keys[i]) {
			return false
		}
	}
	return true
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func keyList(n *node) string {
	var b []byte
	for i, k := range n.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
	}
	return string(b)
}
