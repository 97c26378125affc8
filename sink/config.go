package sink

import (
	"fmt"
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
	DecimalString                     // "string": not supported yet
)

// TimePrecisionMode is time.precision.mode. The zero value is Debezium's default.
type TimePrecisionMode uint8

// Time precision modes.
const (
	TimeAdaptiveMicroseconds TimePrecisionMode = iota // "adaptive_time_microseconds"
	TimeAdaptive                                      // "adaptive" (deprecated in Debezium)
	TimeConnect                                       // "connect"
	TimeISOString                                     // "isostring": not supported yet
	TimeMicroseconds                                  // "microseconds": not supported yet
	TimeNanoseconds                                   // "nanoseconds": not supported yet
)

// BigIntUnsignedMode is bigint.unsigned.handling.mode. The zero value is Debezium's default.
type BigIntUnsignedMode uint8

// BIGINT UNSIGNED modes.
const (
	BigIntUnsignedLong    BigIntUnsignedMode = iota // "long": int64, values above 2^63-1 wrap
	BigIntUnsignedPrecise                           // "precise": Decimal with scale 0, precision 20
)

// BinaryMode is binary.handling.mode. The zero value is Debezium's default.
type BinaryMode uint8

// Binary modes.
const (
	BinaryBytes         BinaryMode = iota // "bytes": Connect bytes (base64 in JSON)
	BinaryBase64                          // "base64": string
	BinaryBase64URLSafe                   // "base64-url-safe": string
	BinaryHex                             // "hex": string
)

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
	switch c.DecimalMode {
	case DecimalPrecise, DecimalDouble:
	default:
		return fmt.Errorf("%w: decimal.handling.mode %d is not supported yet; use precise or double", ErrConfig, c.DecimalMode)
	}
	switch c.TimePrecisionMode {
	case TimeAdaptiveMicroseconds, TimeAdaptive, TimeConnect:
	default:
		return fmt.Errorf("%w: time.precision.mode %d is not supported yet; use adaptive_time_microseconds, adaptive or connect", ErrConfig, c.TimePrecisionMode)
	}
	if c.BigIntUnsignedMode > BigIntUnsignedPrecise {
		return fmt.Errorf("%w: bigint.unsigned.handling.mode %d is unknown", ErrConfig, c.BigIntUnsignedMode)
	}
	if c.BinaryMode > BinaryHex {
		return fmt.Errorf("%w: binary.handling.mode %d is unknown", ErrConfig, c.BinaryMode)
	}
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
