package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// columnType is information_schema.COLUMNS.COLUMN_TYPE taken apart:
// "int(10) unsigned zerofill" is base "int", args "10", unsigned, zerofill;
// "enum('a','b')" is base "enum", args "'a','b'".
type columnType struct {
	base     string // lower case, before any "(" or blank
	args     string // between the outer parentheses, as written
	hasArgs  bool
	unsigned bool
	zerofill bool
}

// parseColumnType splits a COLUMN_TYPE value. Parentheses inside quoted ENUM
// and SET members are skipped, so "enum(')','(')" parses.
func parseColumnType(s string) (columnType, error) {
	var ct columnType
	s = strings.TrimSpace(s)
	end := strings.IndexAny(s, "( ")
	if end < 0 {
		end = len(s)
	}
	ct.base = strings.ToLower(s[:end])
	if ct.base == "" {
		return ct, fmt.Errorf("%w: %q: no type name", ErrInvalidColumnType, s)
	}
	rest := s[end:]
	if strings.HasPrefix(rest, "(") {
		closeAt, err := closingParen(rest)
		if err != nil {
			return ct, fmt.Errorf("%w: %q: %w", ErrInvalidColumnType, s, err)
		}
		ct.args = rest[1:closeAt]
		ct.hasArgs = true
		rest = rest[closeAt+1:]
	}
	for _, attr := range strings.Fields(strings.ToLower(rest)) {
		switch attr {
		case "unsigned":
			ct.unsigned = true
		case "zerofill":
			ct.zerofill = true
			ct.unsigned = true // ZEROFILL implies UNSIGNED in MySQL and MariaDB
		case "signed":
		default:
			// Attributes such as MariaDB's "/* mariadb-5.3 */" comment on
			// old temporal columns carry nothing we model.
		}
	}
	return ct, nil
}

// closingParen returns the index in s (which starts with "(") of the
// parenthesis closing it, skipping quoted strings.
func closingParen(s string) (int, error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			j, err := skipQuoted(s, i)
			if err != nil {
				return 0, err
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parentheses")
}

// skipQuoted returns the index of the quote closing the string that starts
// at s[i], honouring doubled quotes and backslash escapes.
func skipQuoted(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j, nil
		}
	}
	return 0, fmt.Errorf("unterminated quoted string at offset %d", i)
}

// numbers parses "M" or "M,D" arguments. ok is false when args are not
// one or two non-negative integers.
func (ct columnType) numbers() (m, d int, n int, ok bool) {
	if !ct.hasArgs {
		return 0, 0, 0, true
	}
	first, second, two := strings.Cut(ct.args, ",")
	m, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || m < 0 {
		return 0, 0, 0, false
	}
	if !two {
		return m, 0, 1, true
	}
	d, err = strconv.Atoi(strings.TrimSpace(second))
	if err != nil || d < 0 {
		return 0, 0, 0, false
	}
	return m, d, 2, true
}

// parseValueList parses the members of an ENUM or SET as the server prints
// them in COLUMN_TYPE (and as they are written in DDL): quoted strings
// separated by commas, so the arguments of "enum('a','x,y')" give a and x,y.
// Quotes are ' or "; a doubled quote stands for one; backslash escapes follow
// MySQL string literal rules (\0 \' \" \b \n \r \t \Z \\, and \% \_ keep
// their backslash; any other \c is c).
func parseValueList(list string) ([]string, error) {
	var (
		values []string
		buf    strings.Builder
	)
	i := 0
	skipBlanks := func() {
		for i < len(list) && isBlank(list[i]) {
			i++
		}
	}
	skipBlanks()
	if i == len(list) {
		return nil, nil
	}
	for {
		skipBlanks()
		if i == len(list) {
			return nil, fmt.Errorf("%w: value list %q: missing value after comma", ErrInvalidColumnType, list)
		}
		q := list[i]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("%w: value list %q: expected a quoted value at offset %d", ErrInvalidColumnType, list, i)
		}
		i++
		buf.Reset()
		closed := false
		for i < len(list) && !closed {
			c := list[i]
			switch {
			case c == q && i+1 < len(list) && list[i+1] == q:
				buf.WriteByte(q)
				i += 2
			case c == q:
				closed = true
				i++
			case c == '\\' && i+1 < len(list):
				e := list[i+1]
				if e == '%' || e == '_' {
					buf.WriteByte('\\') // MySQL keeps the backslash of \% and \_
				}
				buf.WriteByte(unescape(e))
				i += 2
			default:
				buf.WriteByte(c)
				i++
			}
		}
		if !closed {
			return nil, fmt.Errorf("%w: value list %q: unterminated quoted value", ErrInvalidColumnType, list)
		}
		values = append(values, buf.String())
		skipBlanks()
		if i == len(list) {
			return values, nil
		}
		if list[i] != ',' {
			return nil, fmt.Errorf("%w: value list %q: expected a comma at offset %d", ErrInvalidColumnType, list, i)
		}
		i++
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// unescape returns the byte the MySQL string literal escape "\c" stands for.
func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 0x1a
	default:
		return c
	}
}
