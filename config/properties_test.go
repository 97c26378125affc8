package config

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"equals", "a=1\nb = 2\n", map[string]string{"a": "1", "b": "2"}},
		{"colon", "a:1\nb : 2", map[string]string{"a": "1", "b": "2"}},
		{"whitespace separator", "a 1\nb\t2\nc\f3", map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"whitespace then one separator", "a  =  = 1", map[string]string{"a": "= 1"}},
		{"second separator kept", "a=b=c\nx:y:z", map[string]string{"a": "b=c", "x": "y:z"}},
		{"leading whitespace", "   a=1\n\t\tb=2", map[string]string{"a": "1", "b": "2"}},
		{"trailing whitespace kept in value", "a=1  \n", map[string]string{"a": "1  "}},
		{"comments", "# c\n! c\n  # indented\na=1 # not a comment\n", map[string]string{"a": "1 # not a comment"}},
		{"blank lines", "\n\n  \n\ta=1\n\n", map[string]string{"a": "1"}},
		{"key only", "a\nb=\nc:", map[string]string{"a": "", "b": "", "c": ""}},
		{"empty key", "=v", map[string]string{"": "v"}},
		{"continuation", "a=one,\\\n    two,\\\n\tthree\nb=2", map[string]string{"a": "one,two,three", "b": "2"}},
		{"continuation in key", "ke\\\n  y=v", map[string]string{"key": "v"}},
		{"continuation line starting with hash", "a=1\\\n#2", map[string]string{"a": "1#2"}},
		{"comment does not continue", "# c \\\na=1", map[string]string{"a": "1"}},
		{"continuation into blank line ends", "a=1\\\n\nb=2", map[string]string{"a": "1", "b": "2"}},
		{"even backslashes do not continue", "a=x\\\\\nb=2", map[string]string{"a": `x\`, "b": "2"}},
		{"backslash at end of file dropped", "a=x\\", map[string]string{"a": "x"}},
		{"crlf", "a=1\r\nb=2\\\r\n  3\r\n", map[string]string{"a": "1", "b": "23"}},
		{"cr only", "a=1\rb=2\\\r  3", map[string]string{"a": "1", "b": "23"}},
		{"escapes", `a=\t\n\r\f\\\x\"`, map[string]string{"a": "\t\n\r\f\\x\""}},
		{"escaped separators in key", `k\=1\:2\ 3=v`, map[string]string{"k=1:2 3": "v"}},
		{"escaped hash at line start", `\#a=1`, map[string]string{"#a": "1"}},
		{"unicode escape", `a=caf\u00e9 \u00E9`, map[string]string{"a": "café é"}},
		{"surrogate pair", `a=\uD83D\uDE00`, map[string]string{"a": "😀"}},
		{"lone surrogate", `a=\uD83Dx`, map[string]string{"a": "\uFFFDx"}},
		{"utf-8 text", "a=naïve ☃", map[string]string{"a": "naïve ☃"}},
		{"latin-1 text", "a=caf\xe9", map[string]string{"a": "café"}},
		{"duplicate keys last wins", "a=1\na=2", map[string]string{"a": "2"}},
		{"regex list", `table.include.list=inventory\\.orders,inventory\\.c\\,d`, map[string]string{"table.include.list": `inventory\.orders,inventory\.c\,d`}},
		{"empty", "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseProperties_Errors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short unicode escape", "a=1\nb=\\u12", `invalid configuration: properties line 2 (key "b"): malformed \uxxxx escape "\\u12": want 4 hex digits`},
		{"bad hex", "\n\nk\\u12g4=1", `invalid configuration: properties line 3: malformed \uxxxx escape "\\u12g4": want 4 hex digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProperties([]byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err does not match ErrInvalid")
			}
		})
	}
}

// escapeProperty writes s so that ParseProperties reads it back exactly
// (java.util.Properties.saveConvert).
func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case ' ':
			if key || i == 0 {
				b.WriteString(`\ `)
			} else {
				b.WriteByte(' ')
			}
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '=', ':', '#', '!', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{
		"a=1\nb : 2\n", "# c\n! c\na=1", "a=one,\\\n    two", "a=\\uD83D\\uDE00", "a=\\u12",
		"k\\=1\\:2\\ 3=v", "a=1\r\nb=2\\\r\n  3", "a=x\\", "caf\xe9=1", "\\", "\\u", "=",
	} {
		f.Add(s, "key", "value")
	}
	f.Fuzz(func(t *testing.T, doc, key, value string) {
		// Any input: no panic; errors match ErrInvalid.
		if _, err := ParseProperties([]byte(doc)); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error does not match ErrInvalid: %v", err)
		}
		// Round trip: an escaped pair reads back exactly.
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return
		}
		line := escapeProperty(key, true) + "=" + escapeProperty(value, false) + "\n"
		got, err := ParseProperties([]byte(line))
		if err != nil {
			t.Fatalf("ParseProperties(%q): %v", line, err)
		}
		if want := map[string]string{key: value}; !cmp.Equal(got, want) {
			t.Fatalf("ParseProperties(%q) = %q, want %q", line, got, want)
		}
	})
}
