package schema

import (
	"sync/atomic"
	"unicode/utf8"
)

// textDecoder converts text in a server character set to UTF-8 exactly as
// the binlog reader decodes row values (the server's own tables); the
// binlog package registers it (RegisterTextDecoder), which keeps those
// tables in one place.
var textDecoder atomic.Pointer[func(charset string, b []byte) (string, bool)]

// RegisterTextDecoder sets the converter ENUM and SET members written as
// bytes are read with: f returns the UTF-8 text of b in charset, or false
// when it has none.
func RegisterTextDecoder(f func(charset string, b []byte) (string, bool)) {
	textDecoder.Store(&f)
}

// memberText returns an ENUM/SET member of a column in charset as UTF-8
// text. A member that is not valid UTF-8 came as bytes (a hex literal,
// ENUM(0x9353) CHARACTER SET sjis, or any literal of a binary client):
// the server took them as the column's charset, so they are converted from
// it; anything else is already the text the server stores.
func memberText(charset, v string) string {
	if utf8.ValidString(v) {
		return v
	}
	switch charset {
	case "", "binary", "utf8mb3", "utf8mb4", "utf8":
		return v
	}
	f := textDecoder.Load()
	if f == nil {
		return v
	}
	if s, ok := (*f)(charset, []byte(v)); ok {
		return s
	}
	return v
}
