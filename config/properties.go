package config

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseProperties reads Java .properties text with the semantics of
// java.util.Properties.load: `#` and `!` comment lines; `key=value`,
// `key: value` or `key value`; leading whitespace ignored; a line ending in
// an odd number of backslashes continues on the next line (whose leading
// whitespace is dropped); escapes \t \n \r \f \uXXXX (surrogate pairs
// combined), and backslash before any other character stands for that
// character. The last of duplicate keys wins. Input that is not valid UTF-8
// is read as ISO-8859-1, Java's encoding for properties streams. Errors
// match ErrInvalid and name the line.
func ParseProperties(data []byte) (map[string]string, error) {
	r := propReader{in: decodeText(data), line: 1}
	out := make(map[string]string)
	var buf []rune
	for {
		line, start, ok := r.next(buf[:0])
		if !ok {
			return out, nil
		}
		buf = line
		keyEnd, valStart := splitKeyValue(line)
		key, err := unescapeProperty(line[:keyEnd])
		if err != nil {
			return nil, fmt.Errorf("%w: properties line %d: %w", ErrInvalid, start, err)
		}
		val, err := unescapeProperty(line[valStart:])
		if err != nil {
			return nil, fmt.Errorf("%w: properties line %d (key %q): %w", ErrInvalid, start, key, err)
		}
		out[key] = val
	}
}

// decodeText returns the characters of data: UTF-8 when valid, else ISO-8859-1.
func decodeText(data []byte) []rune {
	if utf8.Valid(data) {
		return []rune(string(data))
	}
	rs := make([]rune, len(data))
	for i, b := range data {
		rs[i] = rune(b)
	}
	return rs
}

// propReader yields logical lines, as java.util.Properties.LineReader.
type propReader struct {
	in   []rune
	pos  int
	line int // natural line number of in[pos]
}

func isPropSpace(c rune) bool { return c == ' ' || c == '\t' || c == '\f' }

// next appends the next logical line to buf (comments and blank lines
// skipped, continuations joined, the continuation backslash removed) and
// returns it with the line number where it starts; ok is false at the end.
func (r *propReader) next(buf []rune) (line []rune, start int, ok bool) {
	skipSpace := true   // dropping leading whitespace of a natural line
	continued := false  // the natural line continues a logical line
	atLineStart := true // the next character starts the logical line
	comment := false    // inside a comment line
	backslash := false  // the last character appended is an unescaped backslash
	skipLF := false     // a '\r' ended the previous natural line
	for r.pos < len(r.in) {
		c := r.in[r.pos]
		r.pos++
		if c == '\n' || (c == '\r' && (r.pos >= len(r.in) || r.in[r.pos] != '\n')) {
			r.line++
		}
		if skipLF {
			skipLF = false
			if c == '\n' {
				continue
			}
		}
		if comment {
			if c == '\n' || c == '\r' {
				comment, atLineStart, skipSpace = false, true, true
			}
			continue
		}
		if skipSpace {
			if isPropSpace(c) {
				continue
			}
			if !continued && (c == '\r' || c == '\n') {
				continue // blank line
			}
			skipSpace, continued = false, false
		}
		if atLineStart {
			atLineStart = false
			start = r.line
			if c == '#' || c == '!' {
				comment = true
				continue
			}
		}
		if c != '\n' && c != '\r' {
			buf = append(buf, c)
			backslash = c == '\\' && !backslash
			continue
		}
		if !backslash {
			return buf, start, true
		}
		// Continuation: drop the backslash, join the next natural line.
		buf = buf[:len(buf)-1]
		backslash, skipSpace, continued = false, true, true
		skipLF = c == '\r'
	}
	if comment || atLineStart {
		return nil, 0, false
	}
	if backslash {
		buf = buf[:len(buf)-1]
	}
	return buf, start, true
}

// splitKeyValue returns the end of the key and the start of the value in a
// logical line, as java.util.Properties.load0: the key ends at the first
// unescaped '=', ':' or whitespace; whitespace and at most one '=' or ':'
// separate it from the value.
func splitKeyValue(line []rune) (keyEnd, valStart int) {
	keyEnd, valStart = len(line), len(line)
	hasSep, backslash := false, false
	for i, c := range line {
		if !backslash && (c == '=' || c == ':') {
			keyEnd, valStart, hasSep = i, i+1, true
			break
		}
		if !backslash && isPropSpace(c) {
			keyEnd, valStart = i, i+1
			break
		}
		backslash = c == '\\' && !backslash
	}
	for valStart < len(line) {
		c := line[valStart]
		if !isPropSpace(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valStart++
	}
	return keyEnd, valStart
}

// unescapeProperty resolves the escapes of a key or value, as
// java.util.Properties.loadConvert.
func unescapeProperty(in []rune) (string, error) {
	if !containsRune(in, '\\') {
		return string(in), nil
	}
	units := make([]rune, 0, len(in)) // may hold UTF-16 surrogates from \u escapes
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			units = append(units, c)
			continue
		}
		i++
		if i >= len(in) {
			break // cannot happen after propReader; Java would drop it too
		}
		switch c = in[i]; c {
		case 't':
			units = append(units, '\t')
		case 'n':
			units = append(units, '\n')
		case 'r':
			units = append(units, '\r')
		case 'f':
			units = append(units, '\f')
		case 'u':
			if i+4 >= len(in) {
				return "", fmt.Errorf("malformed \\uxxxx escape %q: want 4 hex digits", string(in[i-1:]))
			}
			var v rune
			for _, h := range in[i+1 : i+5] {
				d := hexDigit(h)
				if d < 0 {
					return "", fmt.Errorf("malformed \\uxxxx escape %q: want 4 hex digits", string(in[i-1:i+5]))
				}
				v = v<<4 | d
			}
			units = append(units, v)
			i += 4
		default:
			units = append(units, c)
		}
	}
	var b strings.Builder
	b.Grow(len(units))
	for i := 0; i < len(units); i++ {
		c := units[i]
		if utf16.IsSurrogate(c) && i+1 < len(units) {
			if r := utf16.DecodeRune(c, units[i+1]); r != utf8.RuneError {
				b.WriteRune(r)
				i++
				continue
			}
		}
		b.WriteRune(c) // a lone surrogate becomes U+FFFD
	}
	return b.String(), nil
}

func containsRune(rs []rune, c rune) bool {
	for _, r := range rs {
		if r == c {
			return true
		}
	}
	return false
}

func hexDigit(c rune) rune {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return -1
}
