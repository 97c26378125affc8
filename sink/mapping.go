package sink

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/schema"
)

// The tables below map a column to its rendering (colKind) and its Connect
// schema. They follow Debezium's BinlogValueConverters.schemaBuilder and
// JdbcValueConverters.schemaBuilder (debezium-connector-binlog jdbc/,
// debezium-core jdbc/), summarised in DEBEZIUM-REFERENCE §3. Every
// mode-dependent choice is one row of a mode table: supporting another mode
// (decimal.handling.mode=string, time.precision.mode=isostring, …) means
// adding a row, plus a colKind if the rendering is new. A mode without a row
// is refused by JSONConfig validation. Every mode of Debezium 3.x but
// time.precision.mode=structured (3.7, not released) has its row.

// typeMappers maps a column type to its rendering under the configured modes
// (sized for every schema.Type: mapping_mariadb.go fills in MariaDB's types).
var typeMappers = [schema.TypeUUID + 1]func(cfg *JSONConfig, c *schema.Column, e *colEnc){
	// Debezium's MySQL DDL parser maps TINYINT, signed or not, to JDBC
	// SMALLINT: INT16 (the Debezium MySQL docs' "TINYINT → INT16";
	// DEBEZIUM-REFERENCE §3.1's INT8 is not what the code does). BOOLEAN /
	// BOOL from DDL is JDBC BOOLEAN.
	schema.TypeTinyInt: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		if isBoolTypeName(c.TypeName) {
			e.kind, e.schema.typ = kBool, "boolean"
			return
		}
		e.kind, e.schema.typ = kInt, "int16"
	},
	schema.TypeSmallInt:  intMapper("int16", "int32"),
	schema.TypeMediumInt: intMapper("int32", "int32"),
	schema.TypeInt:       intMapper("int32", "int64"),
	schema.TypeBigInt: func(cfg *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind, e.schema.typ = kInt, "int64"
		if c.Unsigned {
			bigIntUnsignedModes[cfg.BigIntUnsignedMode](e)
		}
	},
	schema.TypeDecimal: func(cfg *JSONConfig, c *schema.Column, e *colEnc) {
		precision := c.Length
		if precision == 0 {
			precision = 10 // DECIMAL means DECIMAL(10,0)
		}
		e.n = c.Scale
		decimalModes[cfg.DecimalMode](e, precision, c.Scale)
	},
	// FLOAT without scale and with length <= 24 is FLOAT32; FLOAT(M,D)
	// goes the JDBC FLOAT way, FLOAT64 (BinlogValueConverters.schemaBuilder).
	schema.TypeFloat: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		if c.Scale > 0 || c.Length > 24 {
			e.kind, e.schema.typ = kFloat64, "double"
			return
		}
		e.kind, e.schema.typ = kFloat32, "float"
	},
	schema.TypeDouble: fixed(kFloat64, ConnectSchema{typ: "double"}),
	// BIT(1) is BOOLEAN; BIT(n>1) io.debezium.data.Bits (JdbcValueConverters).
	schema.TypeBit: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		if c.Length <= 1 {
			e.kind, e.schema.typ = kBool, "boolean"
			return
		}
		e.kind, e.n = kBits, (c.Length+7)/8
		e.schema = ConnectSchema{typ: "bytes", name: "io.debezium.data.Bits", version: 1,
			params: [][2]string{{"length", strconv.Itoa(c.Length)}}}
	},
	schema.TypeChar:      fixed(kString, ConnectSchema{typ: "string"}),
	schema.TypeVarchar:   fixed(kString, ConnectSchema{typ: "string"}),
	schema.TypeText:      fixed(kString, ConnectSchema{typ: "string"}),
	schema.TypeBinary:    binaryMapper,
	schema.TypeVarbinary: binaryMapper,
	schema.TypeBlob:      binaryMapper,
	schema.TypeDate: func(cfg *JSONConfig, _ *schema.Column, e *colEnc) {
		m := timeModes[cfg.TimePrecisionMode]
		e.kind, e.schema = m.dateKind, m.date
	},
	schema.TypeTime: func(cfg *JSONConfig, c *schema.Column, e *colEnc) {
		m := timeModes[cfg.TimePrecisionMode]
		e.kind, e.schema = m.time(c.FSP)
		e.inDay = m.timeInDay
	},
	schema.TypeDateTime: func(cfg *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind, e.schema = timeModes[cfg.TimePrecisionMode].datetime(c.FSP)
	},
	// TIMESTAMP is ZonedTimestamp in every mode but structured (3.7).
	schema.TypeTimestamp: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind, e.n = kZoned, c.FSP
		e.schema = ConnectSchema{typ: "string", name: "io.debezium.time.ZonedTimestamp", version: 1}
	},
	schema.TypeYear: fixed(kInt, ConnectSchema{typ: "int32", name: "io.debezium.time.Year", version: 1}),
	schema.TypeEnum: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind = kString
		e.schema = ConnectSchema{typ: "string", name: "io.debezium.data.Enum", version: 1,
			params: [][2]string{{"allowed", allowedOptions(c.Values)}}}
	},
	schema.TypeSet: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind = kString
		e.schema = ConnectSchema{typ: "string", name: "io.debezium.data.EnumSet", version: 1,
			params: [][2]string{{"allowed", allowedOptions(c.Values)}}}
	},
	schema.TypeJSON: fixed(kString, ConnectSchema{typ: "string", name: "io.debezium.data.Json", version: 1}),
	schema.TypeGeometry: func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		if strings.EqualFold(c.TypeName, "POINT") {
			e.kind = kPoint
			e.schema = ConnectSchema{typ: "struct", fields: pointFields, name: "io.debezium.data.geometry.Point",
				version: 1, doc: "Geometry (POINT)"}
			return
		}
		e.kind = kGeometry
		e.schema = ConnectSchema{typ: "struct", fields: geometryFields, name: "io.debezium.data.geometry.Geometry",
			version: 1, doc: "Geometry"}
	},
}

func fixed(k colKind, s ConnectSchema) func(*JSONConfig, *schema.Column, *colEnc) {
	return func(_ *JSONConfig, _ *schema.Column, e *colEnc) { e.kind, e.schema = k, s }
}

// intMapper: signed and unsigned Connect types of an integer column
// (unsigned SMALLINT/INT widen: BinlogValueConverters.schemaBuilder).
func intMapper(signed, unsigned string) func(*JSONConfig, *schema.Column, *colEnc) {
	return func(_ *JSONConfig, c *schema.Column, e *colEnc) {
		e.kind, e.schema.typ = kInt, signed
		if c.Unsigned {
			e.schema.typ = unsigned
		}
	}
}

func binaryMapper(cfg *JSONConfig, c *schema.Column, e *colEnc) {
	if c.Type == schema.TypeBinary {
		e.n = c.Length // DBZ-254: BINARY(n) right-padded with 0x00
	}
	m := binaryModes[cfg.BinaryMode]
	e.kind, e.schema.typ = m.kind, m.typ
}

func isBoolTypeName(n string) bool {
	n = strings.ToUpper(n)
	return n == "BOOL" || n == "BOOLEAN"
}

// bigIntUnsignedModes: bigint.unsigned.handling.mode for BIGINT UNSIGNED.
var bigIntUnsignedModes = [...]func(e *colEnc){
	BigIntUnsignedLong: func(e *colEnc) {}, // int64; values above 2^63-1 wrap
	BigIntUnsignedPrecise: func(e *colEnc) { // Decimal(20, 0)
		e.kind, e.schema = kUintDecimal, decimalSchema(20, 0)
	},
}

// decimalModes: decimal.handling.mode for DECIMAL/NUMERIC.
var decimalModes = [...]func(e *colEnc, precision, scale int){
	DecimalPrecise: func(e *colEnc, precision, scale int) {
		e.kind, e.schema = kDecimalBytes, decimalSchema(precision, scale)
	},
	DecimalDouble: func(e *colEnc, _, _ int) { e.kind, e.schema = kDecimalDouble, ConnectSchema{typ: "double"} },
	// SpecialValueDecimal.fromLogical: BigDecimal.toPlainString at the column's scale.
	DecimalString: func(e *colEnc, _, _ int) { e.kind, e.schema = kDecimalString, ConnectSchema{typ: "string"} },
}

// binaryModes: binary.handling.mode for BINARY, VARBINARY and BLOBs.
var binaryModes = [...]struct {
	kind colKind
	typ  string
}{
	BinaryBytes:         {kBytes, "bytes"},
	BinaryBase64:        {kBinBase64, "string"},
	BinaryBase64URLSafe: {kBinBase64URL, "string"},
	BinaryHex:           {kBinHex, "string"},
}

// temporalMapping is one time.precision.mode (JdbcValueConverters.schemaBuilder,
// DEBEZIUM-REFERENCE §3.2).
type temporalMapping struct {
	date     ConnectSchema
	time     func(fsp int) (colKind, ConnectSchema)
	datetime func(fsp int) (colKind, ConnectSchema)
	// dateKind renders DATE; the zero value kInt writes the days.
	dateKind colKind
	// timeInDay: TIME outside 00:00:00-24:00:00 cannot be converted
	// (JdbcValueConverters.supportsLargeTimeValues is false for connect
	// and isostring).
	timeInDay bool
}

var (
	debeziumDate   = ConnectSchema{typ: "int32", name: "io.debezium.time.Date", version: 1}
	microTime      = ConnectSchema{typ: "int64", name: "io.debezium.time.MicroTime", version: 1}
	milliTime      = ConnectSchema{typ: "int32", name: "io.debezium.time.Time", version: 1}
	milliTimestamp = ConnectSchema{typ: "int64", name: "io.debezium.time.Timestamp", version: 1}
	microTimestamp = ConnectSchema{typ: "int64", name: "io.debezium.time.MicroTimestamp", version: 1}
)

// adaptiveDateTime: DATETIME(0-3) in ms, DATETIME(4-6) in µs.
func adaptiveDateTime(fsp int) (colKind, ConnectSchema) {
	if fsp <= 3 {
		return kDateTimeMillis, milliTimestamp
	}
	return kDateTimeMicros, microTimestamp
}

var timeModes = [...]*temporalMapping{
	TimeAdaptiveMicroseconds: {
		date:     debeziumDate,
		time:     func(int) (colKind, ConnectSchema) { return kTimeMicros, microTime },
		datetime: adaptiveDateTime,
	},
	TimeAdaptive: {
		date: debeziumDate,
		time: func(fsp int) (colKind, ConnectSchema) {
			if fsp <= 3 {
				return kTimeMillis, milliTime
			}
			return kTimeMicros, microTime
		},
		datetime: adaptiveDateTime,
	},
	TimeConnect: {
		date: ConnectSchema{typ: "int32", name: "org.apache.kafka.connect.data.Date", version: 1},
		time: func(int) (colKind, ConnectSchema) {
			return kTimeMillis, ConnectSchema{typ: "int32", name: "org.apache.kafka.connect.data.Time", version: 1}
		},
		datetime: func(int) (colKind, ConnectSchema) {
			return kDateTimeMillis, ConnectSchema{typ: "int64", name: "org.apache.kafka.connect.data.Timestamp", version: 1}
		},
		timeInDay: true,
	},
	// IsoDate (ISO_OFFSET_DATE), IsoTime (ISO_OFFSET_TIME), IsoTimestamp
	// (ISO_OFFSET_DATE_TIME): strings in UTC with 'Z', the fraction printed
	// with as many digits as it needs.
	TimeISOString: {
		date: ConnectSchema{typ: "string", name: "io.debezium.time.IsoDate", version: 1},
		time: func(int) (colKind, ConnectSchema) {
			return kTimeISO, ConnectSchema{typ: "string", name: "io.debezium.time.IsoTime", version: 1}
		},
		datetime: func(int) (colKind, ConnectSchema) {
			return kDateTimeISO, ConnectSchema{typ: "string", name: "io.debezium.time.IsoTimestamp", version: 1}
		},
		dateKind:  kDateISO,
		timeInDay: true,
	},
	TimeMicroseconds: {
		date:     debeziumDate,
		time:     func(int) (colKind, ConnectSchema) { return kTimeMicros, microTime },
		datetime: func(int) (colKind, ConnectSchema) { return kDateTimeMicros, microTimestamp },
	},
	TimeNanoseconds: {
		date: debeziumDate,
		time: func(int) (colKind, ConnectSchema) {
			return kTimeNanos, ConnectSchema{typ: "int64", name: "io.debezium.time.NanoTime", version: 1}
		},
		datetime: func(int) (colKind, ConnectSchema) {
			return kDateTimeNanos, ConnectSchema{typ: "int64", name: "io.debezium.time.NanoTimestamp", version: 1}
		},
	},
}

// unsupportedModes refuses modes that have no row yet.
func (c *JSONConfig) unsupportedModes() error {
	switch {
	case int(c.DecimalMode) >= len(decimalModes) || decimalModes[c.DecimalMode] == nil:
		return fmt.Errorf("%w: decimal.handling.mode=%s is unknown", ErrConfig, c.DecimalMode)
	case int(c.TimePrecisionMode) >= len(timeModes) || timeModes[c.TimePrecisionMode] == nil:
		return fmt.Errorf("%w: time.precision.mode=%s is unknown", ErrConfig, c.TimePrecisionMode)
	case int(c.BigIntUnsignedMode) >= len(bigIntUnsignedModes):
		return fmt.Errorf("%w: bigint.unsigned.handling.mode=%s is unknown", ErrConfig, c.BigIntUnsignedMode)
	case int(c.BinaryMode) >= len(binaryModes):
		return fmt.Errorf("%w: binary.handling.mode=%s is unknown", ErrConfig, c.BinaryMode)
	}
	return nil
}

// newColEnc prepares one column: its payload key, rendering and schema.
func newColEnc(cfg *JSONConfig, idx int, c *schema.Column) (colEnc, error) {
	e := colEnc{idx: idx, name: c.Name, nullable: c.Nullable}
	e.key = appendJSONStr(nil, c.Name)
	e.key = append(e.key, ':')
	if isVector(c) {
		vectorMapper(cfg, c, &e)
		e.schema.def = defaultJSON(cfg, c, &e)
		return e, nil
	}
	if int(c.Type) >= len(typeMappers) || typeMappers[c.Type] == nil {
		return e, fmt.Errorf("%w: column type %q (%d) has no mapping", ErrEncode, c.TypeName, c.Type)
	}
	typeMappers[c.Type](cfg, c, &e)
	e.schema.def = defaultJSON(cfg, c, &e)
	return e, nil
}

// decimalSchema is SpecialValueDecimal.builder(PRECISE, precision, scale):
// Kafka's Decimal.builder(scale) plus connect.decimal.precision.
func decimalSchema(precision, scale int) ConnectSchema {
	return ConnectSchema{typ: "bytes", name: "org.apache.kafka.connect.data.Decimal", version: 1,
		params: [][2]string{{"scale", strconv.Itoa(scale)}, {"connect.decimal.precision", strconv.Itoa(precision)}}}
}

// allowedOptions is the "allowed" parameter of an ENUM or SET: the members
// joined by ',', a ',' inside a member escaped as "\," (the DDL parsers'
// escapeOption, MariaDbAntlrDdlParser and MySqlAntlrDdlParser; ENUM('x','y,z')
// gives "x,y\,z", seen by the differential suite).
func allowedOptions(values []string) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.ReplaceAll(v, ",", `\,`))
	}
	return b.String()
}
