package schema

import "github.com/pingcap/tidb/pkg/parser/charset"

// collationIDCharset is the character set of a collation id ("" when
// unknown): the parser's table of MySQL collations, then the ids servers
// use as collation_server.
func collationIDCharset(id uint64) string {
	if id >= 2048 && id < 2048+5*256 {
		// MariaDB 10.10+'s UCA 14.0 collations carry their set in the id.
		return [...]string{"utf8mb3", "utf8mb4", "ucs2", "utf16", "utf32"}[(id-2048)/256]
	}
	if c, err := charset.GetCollationByID(int(id)); err == nil && c != nil {
		return normCharset(c.CharsetName)
	}
	return collationCharset(uint16(id))
}

// CollationCharset returns the character set of a collation id, "" when
// unknown (binlog reads a Query event's character_set_client with it).
func CollationCharset(id uint64) string { return collationIDCharset(id) }
