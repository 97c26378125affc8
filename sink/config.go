package sink

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
)

// Connector names the Debezium connector whose output is reproduced; it sets
// source.connector and the source schema name (DEBEZIUM-REFERENCE §2.1).
type Connector uint8

// Connectors. The zero value is MySQL.
const (
	ConnectorMySQL   Connector = iota // "mysql", io.debezium.connector.mysql.Source
	ConnectorMariaDB                  // "mariadb", io.debezium.connector.mariadb.Source
)

func (c Connector) String() string {
	if c == ConnectorMariaDB {
		return "mariadb"
	}
	return "mysql"
}

// DecimalMode is decimal.handling.mode. The zero value is Debezium's default.
type DecimalMode uint8

// Decimal modes.
const (
	DecimalPrecise DecimalMode = iota // "precise": bytes org.apache.kafka.connect.data.Decimal
	DecimalDouble                     // "double": float64
	DecimalString                     // "string": BigDecimal.toPlainString
)

var decimalModeNames = [...]string{DecimalPrecise: "precise", DecimalDouble: "double", DecimalString: "string"}

func (m DecimalMode) String() string { return modeName(decimalModeNames[:], int(m)) }

// ParseDecimalMode parses a decimal.handling.mode value.
func ParseDecimalMode(s string) (DecimalMode, error) {
	i, err := parseMode("decimal.handling.mode", decimalModeNames[:], s)
	return DecimalMode(i), err
}

// TimePrecisionMode is time.precision.mode. The zero value is Debezium's default.
type TimePrecisionMode uint8

// Time precision modes.
const (
	TimeAdaptiveMicroseconds TimePrecisionMode = iota // "adaptive_time_microseconds"
	TimeAdaptive                                      // "adaptive" (deprecated in Debezium)
	TimeConnect                                       // "connect"
	TimeISOString                                     // "isostring": IsoDate, IsoTime, IsoTimestamp strings
	TimeMicroseconds                                  // "microseconds": MicroTime, MicroTimestamp
	TimeNanoseconds                                   // "nanoseconds": NanoTime, NanoTimestamp
)

var timeModeNames = [...]string{
	TimeAdaptiveMicroseconds: "adaptive_time_microseconds", TimeAdaptive: "adaptive", TimeConnect: "connect",
	TimeISOString: "isostring", TimeMicroseconds: "microseconds", TimeNanoseconds: "nanoseconds",
}

func (m TimePrecisionMode) String() string { return modeName(timeModeNames[:], int(m)) }

// ParseTimePrecisionMode parses a time.precision.mode value.
func ParseTimePrecisionMode(s string) (TimePrecisionMode, error) {
	i, err := parseMode("time.precision.mode", timeModeNames[:], s)
	return TimePrecisionMode(i), err
}

// BigIntUnsignedMode is bigint.unsigned.handling.mode. The zero value is Debezium's default.
type BigIntUnsignedMode uint8

// BIGINT UNSIGNED modes.
const (
	BigIntUnsignedLong    BigIntUnsignedMode = iota // "long": int64, values above 2^63-1 wrap
	BigIntUnsignedPrecise                           // "precise": Decimal with scale 0, precision 20
)

var bigIntModeNames = [...]string{BigIntUnsignedLong: "long", BigIntUnsignedPrecise: "precise"}

func (m BigIntUnsignedMode) String() string { return modeName(bigIntModeNames[:], int(m)) }

// ParseBigIntUnsignedMode parses a bigint.unsigned.handling.mode value.
func ParseBigIntUnsignedMode(s string) (BigIntUnsignedMode, error) {
	i, err := parseMode("bigint.unsigned.handling.mode", bigIntModeNames[:], s)
	return BigIntUnsignedMode(i), err
}

// BinaryMode is binary.handling.mode. The zero value is Debezium's default.
type BinaryMode uint8

// Binary modes.
const (
	BinaryBytes         BinaryMode = iota // "bytes": Connect bytes (base64 in JSON)
	BinaryBase64                          // "base64": string
	BinaryBase64URLSafe                   // "base64-url-safe": string
	BinaryHex                             // "hex": string
)

var binaryModeNames = [...]string{
	BinaryBytes: "bytes", BinaryBase64: "base64", BinaryBase64URLSafe: "base64-url-safe", BinaryHex: "hex",
}

func (m BinaryMode) String() string { return modeName(binaryModeNames[:], int(m)) }

// ParseBinaryMode parses a binary.handling.mode value.
func ParseBinaryMode(s string) (BinaryMode, error) {
	i, err := parseMode("binary.handling.mode", binaryModeNames[:], s)
	return BinaryMode(i), err
}

func modeName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return "mode(" + strconv.Itoa(i) + ")"
}

func parseMode(key string, names []string, s string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(n, strings.TrimSpace(s)) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: %s=%q; use one of %s", ErrConfig, key, s, strings.Join(names, ", "))
}

// ParseSkippedOperations parses skipped.operations ("c,u,d,t" or "none").
func ParseSkippedOperations(s string) ([]event.Op, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var ops []event.Op
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if len(p) != 1 || !strings.Contains("cudt", p) {
			return nil, fmt.Errorf("%w: skipped.operations=%q: %q is not one of c, u, d, t, none", ErrConfig, s, p)
		}
		ops = append(ops, event.Op(p[0]))
	}
	return ops, nil
}

// JSONConfig configures the JSON encoder. Fields mirror Debezium connector
// and JsonConverter properties; DefaultJSONConfig returns Debezium's defaults.
type JSONConfig struct {
	// TopicPrefix is topic.prefix (required): topics are <prefix>.<db>.<table>,
	// and source.name is the prefix.
	TopicPrefix string
	// Version is written as source.version (Debezium writes its own version,
	// e.g. "3.2.0.Final"). Empty means "unknown".
	Version string
	// Connector selects source.connector and the source schema name.
	Connector Connector
	// KeySchemas and ValueSchemas mirror key.converter.schemas.enable and
	// value.converter.schemas.enable: wrap as {"schema":…,"payload":…}.
	// JsonConverter's default is true for both (DefaultJSONConfig); the zero
	// value writes payloads only.
	KeySchemas   bool
	ValueSchemas bool
	// TombstonesOnDelete is tombstones.on.delete (Debezium default true):
	// a delete is followed by a record with the same key and a null value.
	TombstonesOnDelete bool
	// SkippedOperations is skipped.operations: events with these ops produce
	// no record. Debezium's default is truncate only.
	SkippedOperations []event.Op

	DecimalMode        DecimalMode
	TimePrecisionMode  TimePrecisionMode
	BigIntUnsignedMode BigIntUnsignedMode
	BinaryMode         BinaryMode

	// PropagateSourceTypeColumns is column.propagate.source.type ("db.table.column"
	// patterns) and PropagateSourceTypeDatatypes datatype.propagate.source.type
	// ("db.table.TYPENAME" patterns): comma-separated regular expressions
	// selecting the value fields that get the __debezium.source.column.*
	// schema parameters (propagate.go).
	PropagateSourceTypeColumns   string
	PropagateSourceTypeDatatypes string
	propagate                    *propagation // compiled by validate

	// Transforms are the transforms=... chain, applied in order;
	// ColumnMappers the column.truncate.* and column.mask.* keys;
	// SkipMessagesWithoutChange is skip.messages.without.change. See
	// sink/debeziumjson's transform.go and columnmask.go.
	Transforms                []TransformConfig
	ColumnMappers             []ColumnMapperConfig
	SkipMessagesWithoutChange bool

	// Now is the clock of the envelope's ts_ms/ts_us/ts_ns (Debezium's
	// processing time). nil means time.Now.
	Now func() time.Time
}

// DefaultJSONConfig returns the configuration Debezium 3.x and Kafka Connect
// use by default, for the given topic prefix.
func DefaultJSONConfig(topicPrefix string) JSONConfig {
	return JSONConfig{
		TopicPrefix:        topicPrefix,
		KeySchemas:         true,
		ValueSchemas:       true,
		TombstonesOnDelete: true,
		SkippedOperations:  []event.Op{event.OpTruncate},
	}
}

func (c *JSONConfig) validate() error {
	if c.TopicPrefix == "" {
		return fmt.Errorf("%w: topic.prefix is empty; set it to the logical server name", ErrConfig)
	}
	if err := c.unsupportedModes(); err != nil {
		return err
	}
	p, err := compilePropagation(c.PropagateSourceTypeColumns, c.PropagateSourceTypeDatatypes)
	if err != nil {
		return err
	}
	c.propagate = p
	if c.Connector > ConnectorMariaDB {
		return fmt.Errorf("%w: connector %d is unknown", ErrConfig, c.Connector)
	}
	for _, op := range c.SkippedOperations {
		switch op {
		case event.OpCreate, event.OpUpdate, event.OpDelete, event.OpTruncate:
		default:
			return fmt.Errorf("%w: skipped.operations holds %q; allowed are c, u, d, t", ErrConfig, op)
		}
	}
	return nil
}
