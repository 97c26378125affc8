package schema

import "errors"

// Sentinel errors of package schema. Errors returned by the package wrap one
// of these where a caller may need to branch; match them with errors.Is.
var (
	// ErrTableNotFound reports that the server has no table of that name
	// (dropped, renamed, or never created).
	ErrTableNotFound = errors.New("table not found")

	// ErrInvalidFilter reports a regular expression in one of the include or
	// exclude lists that does not compile. The error text names the list and
	// the pattern.
	ErrInvalidFilter = errors.New("invalid filter")

	// ErrInvalidColumnType reports a COLUMN_TYPE (or ENUM/SET value list) the
	// loader could not parse.
	ErrInvalidColumnType = errors.New("invalid column type")
)
