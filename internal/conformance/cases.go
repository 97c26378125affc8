package conformance

import (
	"fmt"
	"strings"
)

// group is one table of the suite: a column per type variant, a row per
// case. The first column is the INT primary key id.
type group struct {
	name    string
	checked []string // Debezium sources the expectations were checked against
	ddl     string   // column list of CREATE TABLE <name>
	rows    []string // value tuples
	// global runs before CREATE TABLE (of the table and of its DDL copy),
	// reset after it.
	global, reset []string
}

const (
	srcBinlogConv = "debezium-connector-binlog jdbc/BinlogValueConverters.java (schemaBuilder, converter)"
	srcJdbcConv   = "debezium-connector-common jdbc/JdbcValueConverters.java (schemaBuilder, converter)"
	srcRef3       = "/work/shared/DEBEZIUM-REFERENCE.md §3"
)

// largeJSON is a document of about 6 KB nested 30 levels deep (MariaDB json_valid allows 32) (MariaDB's
// JSON is LONGTEXT: a 4-byte length in the row image whatever the size).
func largeJSON() string {
	var b strings.Builder
	b.WriteString(`{"items": [`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"n": %d, "name": "item-%04d", "tags": ["a", "b"], "nested": {"deep": [[%d, null, true]], "pad": "%s"}}`,
			i, i, i*7, strings.Repeat("x", 10))
	}
	b.WriteString(`], "deep": `)
	b.WriteString(strings.Repeat(`{"a": [`, 15) + `"bottom"` + strings.Repeat(`]}`, 15))
	b.WriteString(`, "end": "ünïcode ✓"}`)
	return b.String()
}

var groups = []group{
	{
		name: "integers",
		checked: []string{srcRef3 + ".1", srcBinlogConv,
			"debezium-connector-mariadb antlr/MariaDbAntlrDdlParser.java (TINYINT → Types.SMALLINT, BOOLEAN → Types.BOOLEAN, BIT(1) → Types.BIT)",
			srcJdbcConv + " convertBits / convertBoolean (BIT(1) boolean, BIT(n) io.debezium.data.Bits little-endian)",
			"BigIntUnsignedMode.PRECISE: Decimal(20,0)"},
		ddl: `(id INT PRIMARY KEY, b BOOLEAN, t1 TINYINT(1), ti TINYINT, tiu TINYINT UNSIGNED,
			si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
			i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, zf INT(5) ZEROFILL,
			bit1 BIT(1), bit5 BIT(5), bit16 BIT(16), bit64 BIT(64))`,
		rows: []string{
			`(1, TRUE, 1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, b'0', b'00000', b'0000000000000000', 0)`,
			`(2, FALSE, 0, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 42, b'1', b'10101', b'1000000000000001', 18446744073709551615)`,
			`(3, 5, -1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 9223372036854775808, 99999, b'1', b'00001', b'0000000100000000', 1)`,
			`(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
	},
	{
		name: "decimals",
		checked: []string{srcRef3 + ".1", srcBinlogConv, srcJdbcConv + " (convertDecimal, FLOAT → FLOAT32 / FLOAT64 by precision)",
			"debezium-connector-common data/SpecialValueDecimal.java (builder: scale + connect.decimal.precision; DOUBLE/STRING modes: toPlainString)",
			"kafka connect-json JsonConverter (Decimal → base64 of the unscaled two's-complement big-endian bytes); Java Float/Double.toString"},
		ddl: `(id INT PRIMARY KEY, d10 DECIMAL(10,2), d65 DECIMAL(65,30), d65i DECIMAL(65,0), d55 DECIMAL(5,5),
			n20 NUMERIC(20,4), dd DECIMAL, du DECIMAL(10,2) UNSIGNED,
			f FLOAT, f10 FLOAT(10), f30 FLOAT(30), fms FLOAT(7,3), r REAL, db DOUBLE, dms DOUBLE(10,2))`,
		rows: []string{
			`(1, 1234.50, 12345678901234567890123456789012345.123456789012345678901234567890, 1, 0.12345, 12345678.9012, 42, 0.01,
				1.5, 3.4028235e38, 1.7976931348623157e308, 1234.567, 2.25, 0.1, 12345678.91)`,
			`(2, -99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,
				99999999999999999999999999999999999999999999999999999999999999999, -0.99999, -9999999999999999.9999, -9999999999, 99999999.99,
				-1.17549435e-38, 1e-10, 4.9e-324, -9999.999, -2.5e-5, -1.0e100, -0.5)`,
			`(3, 0, -0.000000000000000000000000000001, -99999999999999999999999999999999999999999999999999999999999999999, 0.00001, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0)`,
			`(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
			// Floats whose text the server prints must read back to the same bits.
			`(5, 0.1, 0.1, 0.5, -0.00001, 0.1, 1, 1, 0.1, 16777217, 0.30000000000000004, 0.1, 1.4e-45, 2.2250738585072014e-308, 1e15)`,
			`(6, 1, 1, 1, 0, 1, 1, 1, 3.14159265, 1.17549435e-38, 123456789.123456789, 999.999, 3.4e38, 1.7976931348623157e308, 0.01)`,
		},
	},
	{
		name: "strings",
		checked: []string{srcRef3 + ".1", srcJdbcConv + " convertString",
			"binlog text decoded with the column charset (debezium-connector-binlog BinlogValueConverters.charsetFor / convertString); snapshot via JDBC getString",
			"Jackson UTF8JsonGenerator escaping (control characters as \\u00XX, UTF-8 otherwise)"},
		ddl: `(id INT PRIMARY KEY,
			l1 VARCHAR(20) CHARACTER SET latin1, l1bin VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin,
			u3 VARCHAR(20) CHARACTER SET utf8mb3, u4 VARCHAR(20) CHARACTER SET utf8mb4, u4bin VARCHAR(20) COLLATE utf8mb4_bin,
			c1251 VARCHAR(20) CHARACTER SET cp1251, sj VARCHAR(20) CHARACTER SET sjis, gb VARCHAR(20) CHARACTER SET gbk,
			ch CHAR(10) CHARACTER SET utf8mb4, chl CHAR(10) CHARACTER SET latin1, long_ VARCHAR(300),
			tt TINYTEXT CHARACTER SET latin1, tx TEXT CHARACTER SET cp1251, mt MEDIUMTEXT CHARACTER SET sjis, lt LONGTEXT CHARACTER SET gbk)`,
		rows: []string{
			`(1, 'Gödel ÿ€', 'Gödel', 'Привет ☃', 'emoji 😀 ok', 'Bin', 'Привет', 'こんにちは', '你好世界',
				'pad', 'é', REPEAT('ab', 150), 'Ärger', 'Текст', 'カタカナ', '中文文本')`,
			`(2, 'q"uote\\back', '', 'tab\there', 'nl\nline\r', CONCAT('ctl', CHAR(1), CHAR(31), CHAR(127)), '', '', '', '  lead', '', '', '', '', '', '')`,
			`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
	},
	charsetGroup(1), charsetGroup(2), charsetGroup(3), charsetGroup(4), charsetGroup(5), charsetGroup(6), charsetGroup(7),
	{
		// CHAR(n) is stored padded and logged with the padding cut: the cut
		// must take whole space characters of wide sets (U+4E20 is 4E 20 in
		// UCS-2, U+0120 is 01 20).
		name:    "fixed_chars",
		checked: []string{srcRef3 + ".1", srcJdbcConv + " convertString"},
		ddl: `(id INT PRIMARY KEY, u2 CHAR(4) CHARACTER SET ucs2, u16 CHAR(4) CHARACTER SET utf16,
			u16le CHAR(4) CHARACTER SET utf16le, u32 CHAR(4) CHARACTER SET utf32, sj CHAR(4) CHARACTER SET sjis,
			l1 CHAR(4) CHARACTER SET latin1, u8 CHAR(4) CHARACTER SET utf8mb4)`,
		rows: []string{
			`(1, 'a丠', 'Ġ丠', '丠 ', ' 丠', '表 ', 'é  ', '丠 😀')`,
			`(2, '    ', ' ', '', ' a', ' ', ' ', ' ')`,
			`(3, 'Ġ', '😀', '😀丠', '😀', 'ｱ', 'x', '😀😀😀😀')`,
		},
	},
	{
		name: "binaries",
		checked: []string{srcRef3 + ".1", srcBinlogConv + " (BINARY(n) padded to n, DBZ-3912; normalizeBinaryData)",
			srcJdbcConv + " convertBinary (bytes / base64 / base64-url-safe / hex via HexConverter, lower case as Debezium 3.6.1 writes it, seen by internal/differential)"},
		ddl: `(id INT PRIMARY KEY, bn BINARY(4), vb VARBINARY(16), ch CHAR(4) CHARACTER SET binary,
			tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB)`,
		rows: []string{
			`(1, X'01', X'00FF10', X'FB', X'00', X'FFFEFD', X'3F3E3D', X'00000000')`,
			`(2, X'01000000', X'', X'00000000', X'', X'', X'', X'')`,
			`(3, X'FFFFFFFF', REPEAT(X'AB', 16), 'abcd', REPEAT(X'01', 255), REPEAT(X'02', 300), REPEAT(X'03', 300), REPEAT(X'04', 100))`,
			`(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
	},
	{
		name: "structured",
		checked: []string{srcRef3 + ".1", srcBinlogConv + " (JSON → io.debezium.data.Json, ENUM → io.debezium.data.Enum, SET → io.debezium.data.EnumSet with allowed)",
			"debezium-connector-mariadb: MariaDB JSON is LONGTEXT with a json_valid CHECK; the text is emitted as stored"},
		ddl: `(id INT PRIMARY KEY, j JSON, e ENUM('a','b','c d'), e2 ENUM('x','y,z') NOT NULL, s SET('x','y','z'), s0 SET('p','q'),
			el ENUM('é','ü','€') CHARACTER SET latin1, s64 SET(` + setMembers(64) + `))`,
		rows: []string{
			`(1, '{"k": [1, 2, {"x": null}], "s": "ünï \\"q\\""}', 'c d', 'y,z', 'x,z', '', '€', 'm1,m64')`,
			`(2, '` + largeJSON() + `', 'a', 'x', 'x,y,z', 'p,q', 'é', 'm8,m9,m33')`,
			`(3, '[]', 'b', '', '', 'q', 'ü', '')`,
			`(4, '"scalar"', NULL, 'x', NULL, NULL, NULL, NULL)`,
			`(5, NULL, NULL, 'x', NULL, NULL, NULL, 'm64')`,
		},
	},
	{
		name:    "compound_keys",
		checked: []string{"DEBEZIUM-REFERENCE §2.2 (key = primary key columns, in table order)", srcBinlogConv},
		ddl: `(k1 VARCHAR(10) CHARACTER SET latin1, k2 DATETIME(3), k3 DECIMAL(8,2), k4 BINARY(3), v INT,
			PRIMARY KEY (k2, k1, k3, k4))`,
		rows: []string{
			`('é', '2024-01-01 00:00:00.123', 1.50, X'01', 1)`,
			`('a', '1969-12-31 23:59:59.999', -0.01, X'FFFFFF', 2)`,
			`('', '2024-01-01 00:00:00.123', 0, X'000001', NULL)`,
		},
	},
	{
		name: "temporals",
		checked: []string{srcRef3 + ".2", srcRef3 + ".3", srcJdbcConv + " (schemaBuilder by TemporalPrecisionMode; convertDateToEpochDays, convertTimeToMicrosPastMidnight, convertTimestampToEpochMillis/Micros)",
			srcBinlogConv + " (TIMESTAMP → ZonedTimestamp in UTC, fsp digits; zero dates: null when optional, epoch when not)",
			"debezium-connector-common time/{Date,MicroTime,Time,Timestamp,MicroTimestamp,NanoTime,NanoTimestamp,ZonedTimestamp,IsoDate,IsoTime,IsoTimestamp,Year}.java"},
		ddl: `(id INT PRIMARY KEY, y YEAR, d DATE, t0 TIME, t3 TIME(3), t6 TIME(6),
			dt0 DATETIME, dt1 DATETIME(1), dt3 DATETIME(3), dt4 DATETIME(4), dt6 DATETIME(6),
			ts0 TIMESTAMP NULL, ts1 TIMESTAMP(1) NULL, ts3 TIMESTAMP(3) NULL, ts6 TIMESTAMP(6) NULL,
			dnn DATE NOT NULL, dtnn DATETIME NOT NULL, tsnn TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00')`,
		rows: []string{
			`(1, 2024, '2024-02-29', '12:34:56', '-01:02:03.456', '838:59:59.000000',
				'2018-06-20 06:37:03', '2018-06-20 06:37:03.1', '2018-06-20 06:37:03.123', '2018-06-20 06:37:03.1234', '2018-06-20 06:37:03.123456',
				'2018-06-20 06:37:03', '2018-06-20 06:37:03.5', '2018-06-20 06:37:03.123', '2018-06-20 06:37:03.123456',
				'2024-02-29', '2024-02-29 23:59:59', '2038-01-18 20:14:07')`,
			`(5, 1970, '2020-00-15', '-00:00:00.5', '-838:59:58.999', '-00:00:01.000001', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				'0000-01-01', '0000-01-01 00:00:00', '1970-01-01 00:00:00')`,
			// Two-digit years: enable.time.adjuster (default true) makes 0-69 2000-2069, 70-99 1970-1999.
			`(6, 1999, '0050-05-05', NULL, NULL, NULL, '0069-12-31 23:59:59', '0070-01-01 00:00:00.5', '0099-12-31 00:00:00', NULL, NULL,
				NULL, NULL, NULL, NULL, '0001-01-01', '0050-01-01 00:00:00', '1980-01-01 00:00:00')`,
			`(2, 1901, '1000-01-01', '-838:59:59', '-00:00:00.001', '-00:00:00.000001',
				'1000-01-01 00:00:00', '9999-12-31 23:59:59.9', '1969-12-31 23:59:59.999', '1969-12-31 23:59:59.5', '9999-12-31 23:59:59.999999',
				'1969-12-31 17:00:01', '1969-12-31 17:00:01.1', '1999-12-31 16:59:59.999', '2000-01-01 00:00:00.000001',
				'1970-01-01', '1970-01-01 00:00:00', '1969-12-31 17:00:01')`,
			`(3, 0, '0000-00-00', '00:00:00', '00:00:00', '00:00:00',
				'0000-00-00 00:00:00', '0000-00-00 00:00:00', '2020-02-30 00:00:00', '2020-00-15 00:00:00', '0000-00-00 00:00:00',
				'0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
				'0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')`,
			`(4, 2155, '0000-01-01', '23:59:59', '24:00:00', '100:00:00.5', '0000-01-01 10:00:00', '2020-00-15 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				'9999-12-31', '2020-01-01 00:00:00', '2021-03-14 01:30:00')`,
		},
	},
	fractionsGroup(),
	{
		// MariaDB 5.3 temporal formats (mysql56_temporal_format=OFF when the
		// table is created): the binlog carries MYSQL_TYPE_TIME, DATETIME
		// and TIMESTAMP instead of the *2 types.
		name:   "temporals_old",
		global: []string{"SET GLOBAL mysql56_temporal_format = OFF"},
		reset:  []string{"SET GLOBAL mysql56_temporal_format = ON"},
		checked: []string{srcRef3 + ".2",
			"debezium-connector-binlog event/RowDeserializers.java reads MYSQL_TYPE_TIME/DATETIME/TIMESTAMP as 3/8/4 bytes and cannot decode these (MariaDB sql/field.cc Field_*_hires, logged with Field::pack and no metadata); expected: the server's values (the snapshot) in the §3.2 encodings"},
		ddl: `(id INT PRIMARY KEY, t0 TIME, t3 TIME(3), t6 TIME(6), dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
			ts0 TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL, ts6 TIMESTAMP(6) NULL, dtnn DATETIME NOT NULL)`,
		rows: []string{
			`(1, '12:34:56', '-01:02:03.456', '838:59:59.999999', '2018-06-20 06:37:03', '2018-06-20 06:37:03.123', '1969-12-31 23:59:59.5',
				'2018-06-20 06:37:03', '2018-06-20 06:37:03.5', '2018-06-20 06:37:03.123456', '2024-02-29 23:59:59')`,
			`(2, '-838:59:59', '-00:00:00.001', '-00:00:00.000001', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999', '0000-01-01 00:00:00.000001',
				'1970-01-01 00:00:00', '0000-00-00 00:00:00', '2038-01-18 20:14:07.999999', '0000-00-00 00:00:00')`,
			`(3, NULL, NULL, NULL, '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, '2020-00-01 00:00:00')`,
		},
	},
	{
		name: "geometries",
		checked: []string{srcRef3 + ".1", srcBinlogConv + " (Point for POINT, Geometry otherwise)",
			"debezium-connector-common data/geometry/{Geometry,Point}.java; BinlogGeometry.fromBytes (SRID 0 → null)"},
		ddl: `(id INT PRIMARY KEY, g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT, gc GEOMETRYCOLLECTION)`,
		rows: []string{
			`(1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(-1.5 2.25)'), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
				ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))'), ST_GeomFromText('MULTIPOINT(1 1, 2 2)'),
				ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))'))`,
			`(2, ST_GeomFromText('POINT(3 4)', 4326), ST_GeomFromText('POINT(10 20)', 4326), NULL, NULL, NULL, NULL)`,
			`(3, NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
	},
	{
		name: "mariadb_types",
		checked: []string{
			"debezium-connector-mariadb jdbc/MariaDbValueConverters.java (UUID → io.debezium.data.Uuid string, UUID.toString; test UuidColumnIT: same text in snapshot and streaming)",
			"debezium-connector-common data/Uuid.java (io.debezium.data.Uuid, version 1)",
			"INET4/INET6: Debezium 3.x's MariaDB grammar (MariaDBParser.g4) has no such data types, so Debezium cannot capture them; Rivulet emits the server's text form as a plain STRING"},
		ddl: `(id INT PRIMARY KEY, i4 INET4, i6 INET6, u UUID, un UUID NOT NULL)`,
		rows: []string{
			`(1, '192.0.2.146', '2001:db8::ff00:42:8329', '01020304-0506-0708-090a-0b0c0d0e0f10', 'ceb2897c-a1cf-11ed-8dbd-040300000000')`,
			`(2, '0.0.0.0', '::ffff:192.0.2.1', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff')`,
			`(3, '255.255.255.255', '::', '123e4567-e89b-42d3-a456-426614174000', '00000000-0000-0000-0000-000000000001')`,
			`(4, NULL, NULL, NULL, '6ccd780c-baba-1026-9564-5b8c656024db')`,
			`(5, '10.0.0.1', '::192.0.2.1', '01020304-0506-0708-890a-0b0c0d0e0f10', '017f22e2-79b0-7cc3-98c4-dc0c0c07398f')`,
			`(6, '1.2.3.4', '2001:db8:0:1:1:1:1:1', '6ccd780c-baba-1026-1564-5b8c656024db', '00000000-0000-0000-0000-000000000000')`,
			`(7, '127.0.0.1', '1:0:0:2:0:0:0:3', NULL, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee')`,
			`(8, NULL, '::1', NULL, '00000000-0000-1000-8000-000000000000')`,
			`(9, NULL, 'fe80::1:0:0:0', NULL, '00000000-0000-0000-0000-000000000001')`,
			`(10, NULL, '1:0:0:2:0:0:3:4', NULL, '00000000-0000-0000-0000-000000000001')`,
		},
	},
	{
		// Keys the snapshot chunks by server-side comparison (UUID sorts
		// by its storage order, not its text) and the stream by bytes.
		name:    "uuid_keys",
		checked: []string{"debezium-connector-mariadb jdbc/MariaDbValueConverters.java (UUID → io.debezium.data.Uuid)", "DEBEZIUM-REFERENCE §2.2"},
		ddl:     `(u UUID PRIMARY KEY, i6 INET6 NOT NULL, v INT, UNIQUE KEY (i6))`,
		rows: []string{
			`('ceb2897c-a1cf-11ed-8dbd-040300000000', '::1', 1)`,
			`('123e4567-e89b-42d3-a456-426614174000', '2001:db8::1', 2)`,
			`('01020304-0506-0708-090a-0b0c0d0e0f10', '::ffff:10.0.0.1', 3)`,
			`('ffffffff-ffff-ffff-ffff-ffffffffffff', 'fe80::1', 4)`,
			`('017f22e2-79b0-7cc3-98c4-dc0c0c07398f', '::', 5)`,
		},
	},
	{
		name: "generated",
		checked: []string{"debezium-connector-binlog: generated columns are ordinary columns of the table (values from the row image / SELECT)",
			"MariaDB INVISIBLE columns: in information_schema and the row image, not in SELECT *"},
		ddl: `(id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL, s VARCHAR(20) AS (CONCAT('n', a)) PERSISTENT,
			h INT INVISIBLE DEFAULT 7, z VARCHAR(5))`,
		rows: []string{
			`(1, 21, DEFAULT, DEFAULT, 'z')`,
			`(2, NULL, DEFAULT, DEFAULT, NULL)`,
		},
	},
}

// charsetSamples holds, per MariaDB character set Rivulet converts, a text
// written in it (characters outside the set would be stored as '?').
var charsetSamples = [][2]string{
	{"latin1", "Àéîõü ÿ€‰ƒ \u0081"}, {"latin2", "Łódź Žluťoučký kůň \u0085"}, {"latin5", "İstanbul ğüşöç"},
	{"latin7", "Ąčęėįšųūž"}, {"greek", "Ελληνικά ΩΣ ʽ"}, {"hebrew", "עברית"},
	{"cp1250", "Žluťoučký „kůň“"}, {"cp1251", "Привет мир №"}, {"cp1256", "مرحبا"},
	{"cp1257", "Ąčęėįšųūž"}, {"cp850", "Àéîõü ½"}, {"cp852", "Łódź Žluťoučký"},
	{"cp866", "Привет"}, {"koi8r", "Привет мир"}, {"koi8u", "Привіт ґ"},
	{"macroman", "Àéîõü ™ π"}, {"tis620", "ภาษาไทย"}, {"sjis", "こんにちは ｶﾀｶﾅ 表 〜¢‖"},
	{"cp932", "①②Ⅰ～ 表 \ue000"}, {"ujis", "日本語テキスト 〜 \ue3ac"}, {"eucjpms", "日本語 ① ⅰ"},
	{"gbk", "中文简体 繁體"}, {"gb2312", "简体中文 ・―"}, {"big5", "繁體中文 許功蓋 •ヾ"},
	{"euckr", "한국어"}, {"ucs2", "Ж中あ"}, {"utf16", "Ж中あ😀"}, {"utf16le", "Ж中あ😀"},
	{"utf32", "Ж中あ😀"}, {"ascii", "plain ascii é"},
	{"armscii8", "Հայերեն"}, {"dec8", "Àéîõü"}, {"geostd8", "ქართული"}, {"hp8", "Àéîõü"},
	{"keybcs2", "Žluťoučký kůň"}, {"macce", "Łódź Žluťoučký"}, {"swe7", "Åsa Örn Ärlig"},
}

// charsetGroup is one VARCHAR column per character set of the n-th sixth of
// charsetSamples: the binlog holds the bytes in the column's set (decoded by
// Rivulet, as Debezium decodes them with the column's Java charset), the
// snapshot reads the server's conversion to utf8mb4; both must give the
// same text. (Six per table: the DDL parser learns at most seven unknown
// character sets per statement.)
func charsetGroup(n int) group {
	var cols, row1, row2 []string
	for _, cs := range charsetSamples[(n-1)*6 : min(n*6, len(charsetSamples))] {
		cols = append(cols, fmt.Sprintf("c_%s VARCHAR(40) CHARACTER SET %s", cs[0], cs[0]))
		row1 = append(row1, "'"+cs[1]+"'")
		row2 = append(row2, "''")
	}
	return group{
		name: fmt.Sprintf("charsets%d", n),
		checked: []string{srcRef3 + ".1", "debezium-connector-binlog BinlogValueConverters.convertString: binlog bytes decoded with the column's charset; snapshot via JDBC getString",
			"expected text: what the server prints converting each charset to utf8mb4"},
		ddl:  "(id INT PRIMARY KEY, " + strings.Join(cols, ", ") + ")",
		rows: []string{"(1, " + strings.Join(row1, ", ") + ")", "(2, " + strings.Join(row2, ", ") + ")"},
	}
}

// setMembers returns n SET members m1..mn, quoted and comma separated.
func setMembers(n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf("'m%d'", i+1)
	}
	return strings.Join(m, ",")
}

// fractionsGroup has TIME, DATETIME and TIMESTAMP at every precision 0-6,
// written from six-digit fractions the server cuts to each precision
// (time_round_fractional=OFF, the default, truncates).
func fractionsGroup() group {
	var cols []string
	for fsp := range 7 {
		cols = append(cols, fmt.Sprintf("t%d TIME(%d), dt%d DATETIME(%d), ts%d TIMESTAMP(%d) NULL", fsp, fsp, fsp, fsp, fsp, fsp))
	}
	row := func(id int, t, dt, ts string) string {
		v := []string{fmt.Sprint(id)}
		for range 7 {
			v = append(v, "'"+t+"'", "'"+dt+"'", "'"+ts+"'")
		}
		return "(" + strings.Join(v, ", ") + ")"
	}
	return group{
		name:    "fractions",
		checked: []string{srcRef3 + ".2", "MariaDB truncates a written fraction to the column's precision (time_round_fractional=OFF)"},
		ddl:     "(id INT PRIMARY KEY, " + strings.Join(cols, ", ") + ")",
		rows: []string{
			row(1, "-12:34:56.654321", "2024-05-17 10:11:12.654321", "2024-05-17 10:11:12.654321"),
			row(2, "00:00:00.000001", "1969-12-31 23:59:59.999999", "1970-01-01 00:00:00.999999"),
			row(3, "-00:00:00.100000", "2000-02-29 12:00:00.100000", "2038-01-18 20:14:07.100000"),
		},
	}
}

// Table is one table of the suite for other suites (the differential suite
// runs the same tables through Debezium): CREATE TABLE <Name> <DDL>, then
// INSERT INTO <Name> VALUES <Rows...>, with Global run before the CREATE
// TABLE (server-wide settings) and Reset after it.
type Table struct {
	Name          string
	DDL           string
	Rows          []string
	Global, Reset []string
}

// Tables returns every table of the suite.
func Tables() []Table {
	out := make([]Table, len(groups))
	for i, g := range groups {
		out[i] = Table{Name: g.name, DDL: g.ddl, Rows: g.rows, Global: g.global, Reset: g.reset}
	}
	return out
}

// ServerZone is the time zone of the server and the inserting sessions the
// tables' TIMESTAMP rows are written for.
const ServerZone = serverZone

// serverZone is the server's (and the inserting sessions') time zone:
// TIMESTAMP values are written as wall clock in this zone and must come out
// as the same instant in UTC (DEBEZIUM-REFERENCE §3.2, DZ-MY "2018-06-20
// 06:37:03 (server −07:00) → 2018-06-20T13:37:03Z").
const serverZone = "-07:00"

// SessionSetup are the statements each inserting session runs first.
func SessionSetup() []string { return sessionSetup() }

// sessionSetup makes inserting sessions write what the tables expect: UTF-8
// literals, zero dates allowed, TIMESTAMP literals in serverZone.
func sessionSetup() []string {
	return []string{"SET NAMES utf8mb4", "SET SESSION sql_mode = ''", "SET SESSION time_zone = '" + serverZone + "'"}
}
