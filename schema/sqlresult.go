package schema

import "strings"

// cloned copies a string read from a go-mysql result: GetString aliases the
// result's buffer, which is recycled by a later query on the connection.
func cloned(s string, err error) (string, error) { return strings.Clone(s), err }
