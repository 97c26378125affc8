package binlog

import "strings"

// cloned copies a string read from a go-mysql result: GetString aliases the
// result's buffer, which is recycled by a later query on the connection, so
// a kept value (a binlog file name in a Position!) would change under us.
func cloned(s string, err error) (string, error) { return strings.Clone(s), err }
