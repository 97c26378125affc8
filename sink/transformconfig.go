package sink

// The settings of transforms and column mappers (JSONConfig.Transforms,
// JSONConfig.ColumnMappers): what the engine configures. The Debezium JSON
// format compiles and applies them (sink/debeziumjson: transform.go,
// columnmask.go).

// TransformKind is a built-in single message transform (SMT) class.
type TransformKind uint8

// Transform classes Rivulet applies natively.
const (
	// TransformUnwrap is io.debezium.transforms.ExtractNewRecordState.
	TransformUnwrap TransformKind = iota + 1
	// TransformLogicalTableRouter is io.debezium.transforms.ByLogicalTableRouter.
	TransformLogicalTableRouter
	// TransformRegexRouter is org.apache.kafka.connect.transforms.RegexRouter.
	TransformRegexRouter
)

// Transform class names, as configured in transforms.<name>.type.
const (
	UnwrapClass             = "io.debezium.transforms.ExtractNewRecordState"
	LogicalTableRouterClass = "io.debezium.transforms.ByLogicalTableRouter"
	RegexRouterClass        = "org.apache.kafka.connect.transforms.RegexRouter"
)

// DeleteHandling is ExtractNewRecordState's delete.tombstone.handling.mode.
// The zero value is Debezium's default, tombstone.
type DeleteHandling uint8

// Delete handling modes (ExtractNewRecordStateConfigDefinition.DeleteTombstoneHandling).
const (
	DeleteTombstone            DeleteHandling = iota // "tombstone": a delete becomes a null-valued record (with a value schema), tombstones are dropped
	DeleteDrop                                       // "drop": deletes and tombstones are dropped
	DeleteRewrite                                    // "rewrite": deletes carry the before row and __deleted=true, tombstones are dropped
	DeleteRewriteWithTombstone                       // "rewrite-with-tombstone": as rewrite, tombstones are kept
	DeleteToTombstone                                // "delete-to-tombstone": a delete becomes a true tombstone, tombstones are dropped
)

var deleteHandlingNames = [...]string{
	DeleteTombstone: "tombstone", DeleteDrop: "drop", DeleteRewrite: "rewrite",
	DeleteRewriteWithTombstone: "rewrite-with-tombstone", DeleteToTombstone: "delete-to-tombstone",
}

func (m DeleteHandling) String() string { return modeName(deleteHandlingNames[:], int(m)) }

// ParseDeleteHandling parses a delete.tombstone.handling.mode value (case-insensitive).
func ParseDeleteHandling(s string) (DeleteHandling, error) {
	i, err := parseMode("delete.tombstone.handling.mode", deleteHandlingNames[:], s)
	return DeleteHandling(i), err
}

// TransformConfig is one entry of `transforms`, with its options already
// validated (config does that, naming the keys).
type TransformConfig struct {
	Name string // the alias in transforms=...
	Kind TransformKind

	// ExtractNewRecordState.
	DeleteHandling   DeleteHandling
	AddFields        []string // add.fields: "op", "source.ts_ms", "table:tbl", ...
	AddFieldsPrefix  string   // add.fields.prefix (default "__")
	AddHeaders       []string // add.headers
	AddHeadersPrefix string   // add.headers.prefix (default "__")
	// RouteByField is route.by.field: the column whose value (of the
	// after row, the before row for deletes) becomes the topic.
	RouteByField string

	// Routers: RegexRouter regex/replacement; ByLogicalTableRouter
	// topic.regex/topic.replacement. Java regular expression and
	// replacement syntax ($1, ${name}, \$).
	Regex, Replacement string
	// ByLogicalTableRouter key options.
	KeyEnforceUniqueness bool   // key.enforce.uniqueness (default true)
	KeyFieldName         string // key.field.name (default __dbz__physicalTableIdentifier)
	KeyFieldRegex        string // key.field.regex
	KeyFieldReplacement  string // key.field.replacement
}

// DefaultTransformConfig returns a transform of kind k with Debezium's defaults.
func DefaultTransformConfig(name string, k TransformKind) TransformConfig {
	return TransformConfig{
		Name: name, Kind: k,
		AddFieldsPrefix: "__", AddHeadersPrefix: "__",
		KeyEnforceUniqueness: true, KeyFieldName: "__dbz__physicalTableIdentifier",
	}
}

// ColumnMapperKind is one family of column.* mapper keys.
type ColumnMapperKind uint8

// Column mapper kinds.
const (
	ColumnTruncate   ColumnMapperKind = iota + 1 // column.truncate.to.N.chars
	ColumnMaskChars                              // column.mask.with.N.chars
	ColumnMaskHash                               // column.mask.hash.<alg>.with.salt.<salt>
	ColumnMaskHashV2                             // column.mask.hash.v2.<alg>.with.salt.<salt>
)

// ColumnMapperConfig is one column mapper key.
type ColumnMapperConfig struct {
	Kind ColumnMapperKind
	// Columns are the key's value: regular expressions matched
	// case-insensitively against the whole "db.table.column".
	Columns []string
	// N is the length of column.truncate.to.N.chars and column.mask.with.N.chars.
	N int
	// Algorithm (a Java MessageDigest name such as SHA-256) and Salt of the hash masks.
	Algorithm, Salt string
}
