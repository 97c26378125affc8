package schema

import "github.com/pingcap/tidb/pkg/parser/charset"

// collationIDCharset is the character set of a collation id ("" when
// unknown): the parser's table of MySQL collations, then the ids servers
// use as collation_server.
func collationIDCharset(id uint64) string {
	if c, err := charset.GetCollationByID(int(id)); err == nil && c != nil {
		return normCharset(c.CharsetName)
	}
	return collationCharset(uint16(id))
}

// CollationCharset returns the character set of a collation id, "" when
// unknown (binlog reads a Query event's character_set_client with it).
func CollationCharset(id uint64) string { return collationIDCharset(id) }
