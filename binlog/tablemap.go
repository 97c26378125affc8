package binlog

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// tableMap is what decoding needs from a TABLE_MAP event; it is filled from
// go-mysql's replication.TableMapEvent (or by hand in tests).
type tableMap struct {
	db, name string
	types    []byte   // binlog column types
	metas    []uint16 // binlog column metadata
	// Optional metadata (binlog_row_metadata=FULL), empty when absent.
	names    []string
	unsigned map[int]bool
}

func tableMapFrom(e *replication.TableMapEvent) *tableMap {
	tm := &tableMap{
		db:    string(e.Schema),
		name:  string(e.Table),
		types: e.ColumnType,
		metas: e.ColumnMeta,
	}
	if len(e.ColumnName) == int(e.ColumnCount) {
		tm.names = make([]string, len(e.ColumnName))
		for i, n := range e.ColumnName {
			tm.names[i] = string(n)
		}
	}
	if len(e.SignednessBitmap) > 0 {
		tm.unsigned = e.UnsignedMap()
	}
	return tm
}

// realType resolves the type of a MYSQL_TYPE_STRING column from its metadata
// (ENUM and SET are logged as STRING with the real type in the high byte) and
// returns the declared byte length (log_event.cc, Table_map_log_event).
func realType(typ byte, meta uint16) (byte, int) {
	if typ != mysql.MYSQL_TYPE_STRING {
		return typ, int(meta)
	}
	if meta < 256 {
		return typ, int(meta)
	}
	b0, b1 := byte(meta>>8), byte(meta)
	if b0&0x30 != 0x30 {
		// Lengths above 255 keep two high bits, inverted, in b0.
		return b0 | 0x30, int(b1) | int((b0&0x30)^0x30)<<4
	}
	return b0, int(b1)
}

// MariaDB's compressed column types (10.3+, VARCHAR/TEXT/BLOB ... COMPRESSED):
// MYSQL_TYPE_VARCHAR_COMPRESSED and MYSQL_TYPE_BLOB_COMPRESSED.
const (
	mariadbVarcharCompressed = 140
	mariadbBlobCompressed    = 141
)

// compatible lists the schema types each binlog type may decode into.
var compatible = map[byte][]schema.Type{
	mysql.MYSQL_TYPE_TINY:       {schema.TypeTinyInt},
	mysql.MYSQL_TYPE_SHORT:      {schema.TypeSmallInt},
	mysql.MYSQL_TYPE_INT24:      {schema.TypeMediumInt},
	mysql.MYSQL_TYPE_LONG:       {schema.TypeInt},
	mysql.MYSQL_TYPE_LONGLONG:   {schema.TypeBigInt},
	mysql.MYSQL_TYPE_NEWDECIMAL: {schema.TypeDecimal},
	mysql.MYSQL_TYPE_FLOAT:      {schema.TypeFloat},
	mysql.MYSQL_TYPE_DOUBLE:     {schema.TypeDouble, schema.TypeFloat},
	mysql.MYSQL_TYPE_BIT:        {schema.TypeBit},
	mysql.MYSQL_TYPE_YEAR:       {schema.TypeYear},
	mysql.MYSQL_TYPE_DATE:       {schema.TypeDate},
	mysql.MYSQL_TYPE_TIME:       {schema.TypeTime},
	mysql.MYSQL_TYPE_TIME2:      {schema.TypeTime},
	mysql.MYSQL_TYPE_DATETIME:   {schema.TypeDateTime},
	mysql.MYSQL_TYPE_DATETIME2:  {schema.TypeDateTime},
	mysql.MYSQL_TYPE_TIMESTAMP:  {schema.TypeTimestamp},
	mysql.MYSQL_TYPE_TIMESTAMP2: {schema.TypeTimestamp},
	mysql.MYSQL_TYPE_VARCHAR:    {schema.TypeVarchar, schema.TypeVarbinary},
	mysql.MYSQL_TYPE_VAR_STRING: {schema.TypeVarchar, schema.TypeVarbinary},
	// MariaDB logs INET4, INET6 and UUID as BINARY(4) / BINARY(16).
	mysql.MYSQL_TYPE_STRING: {schema.TypeChar, schema.TypeBinary, schema.TypeInet4, schema.TypeInet6, schema.TypeUUID},
	mysql.MYSQL_TYPE_ENUM:   {schema.TypeEnum},
	mysql.MYSQL_TYPE_SET:    {schema.TypeSet},
	// MariaDB's JSON is an alias of LONGTEXT.
	mysql.MYSQL_TYPE_BLOB:     {schema.TypeText, schema.TypeBlob, schema.TypeJSON},
	mysql.MYSQL_TYPE_JSON:     {schema.TypeJSON},
	mysql.MYSQL_TYPE_GEOMETRY: {schema.TypeGeometry},
}

// planTable checks a TABLE_MAP against the schema table and builds the
// per-column decoding plan. pos names the binlog position for errors.
func planTable(tm *tableMap, t *schema.Table, pos string) ([]colPlan, error) {
	id := tm.db + "." + tm.name
	mismatch := func(format string, args ...any) error {
		return &Error{Kind: ErrSchemaMismatch,
			Msg:  fmt.Sprintf("table %s at %s: ", id, pos) + fmt.Sprintf(format, args...),
			Hint: "the table definition Rivulet holds differs from the one the binlog was written with; if the table was altered after this position, restart from a snapshot"}
	}
	// MariaDB's long unique keys add hidden BIGINT columns (DB_ROW_HASH_n)
	// after the table's last column: decoded past, never emitted. With
	// column names in the table map, the names tell how many there are.
	hidden := t.HashColumns
	if tm.names != nil && len(tm.names) == len(tm.types) {
		hidden = 0
		for i := len(tm.names) - 1; i >= len(t.Columns) && schema.IsLongUniqueHash(tm.names[i]); i-- {
			hidden++
		}
	}
	if len(tm.types) != len(t.Columns)+hidden || len(tm.metas) != len(tm.types) {
		if hidden > 0 {
			return nil, mismatch("binlog has %d columns, schema has %d and %d hidden long unique hash columns", len(tm.types), len(t.Columns), hidden)
		}
		return nil, mismatch("binlog has %d columns, schema has %d", len(tm.types), len(t.Columns))
	}
	cols := t.Columns
	if hidden > 0 {
		cols = make([]schema.Column, len(t.Columns), len(t.Columns)+hidden)
		copy(cols, t.Columns)
		for range hidden {
			cols = append(cols, schema.Column{Name: "DB_ROW_HASH", Type: schema.TypeBigInt, TypeName: "BIGINT", Unsigned: true, Nullable: true, Excluded: true})
		}
	}
	plans := make([]colPlan, len(cols))
	for i := range cols {
		col := &cols[i]
		typ, length := realType(tm.types[i], tm.metas[i])
		if tm.names != nil && i < len(t.Columns) && !strings.EqualFold(tm.names[i], col.Name) {
			return nil, mismatch("column %d is %q in the binlog but %q in the schema", i+1, tm.names[i], col.Name)
		}
		if typ == mariadbVarcharCompressed || typ == mariadbBlobCompressed {
			// go-mysql does not know these types either, so the metadata of
			// the columns after this one is unreliable: refuse the table.
			return nil, &Error{Kind: ErrUnsupported,
				Msg:  fmt.Sprintf("table %s column %s at %s: MariaDB column compression (COMPRESSED) is not supported", id, col.Name, pos),
				Hint: "exclude the table (table.exclude.list; excluding the column is not enough, its bytes must still be read), or ALTER the column without COMPRESSED"}
		}
		if col.Type != schema.TypeUnknown {
			ok := false
			for _, st := range compatible[typ] {
				if st == col.Type {
					ok = true
					break
				}
			}
			if !ok {
				return nil, mismatch("column %s has binlog type %d, incompatible with schema type %s", col.Name, typ, col.TypeName)
			}
		}
		if tm.unsigned != nil && col.Type >= schema.TypeTinyInt && col.Type <= schema.TypeBigInt {
			if u, isNum := tm.unsigned[i]; isNum && u != col.Unsigned {
				return nil, mismatch("column %s is unsigned=%v in the binlog but unsigned=%v in the schema", col.Name, u, col.Unsigned)
			}
		}
		p := colPlan{
			typ:      typ,
			meta:     tm.metas[i],
			length:   length,
			unsigned: col.Unsigned,
			nullable: col.Nullable,
			skip:     col.Excluded,
		}
		if err := planKind(&p, col); err != nil {
			return nil, &Error{Kind: ErrUnsupported, Msg: fmt.Sprintf("table %s column %s at %s", id, col.Name, pos), Err: err}
		}
		if typ == mysql.MYSQL_TYPE_NEWDECIMAL {
			p.prec, p.scale = int(tm.metas[i]>>8), int(tm.metas[i]&0xFF)
			if col.Type == schema.TypeDecimal && col.Scale != p.scale {
				return nil, mismatch("column %s has scale %d in the binlog but %d in the schema", col.Name, p.scale, col.Scale)
			}
			if p.prec < 1 || p.prec > 65 || p.scale > 38 || p.scale > p.prec { // MariaDB: scale up to 38
				return nil, mismatch("column %s has invalid DECIMAL(%d,%d) metadata", col.Name, p.prec, p.scale)
			}
		}
		switch typ {
		case mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
			p.fsp = int(tm.metas[i])
			if p.fsp > 6 {
				return nil, mismatch("column %s has fractional seconds precision %d", col.Name, p.fsp)
			}
		case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
			// MariaDB 5.3 TIME(n)/DATETIME(n)/TIMESTAMP(n) log no metadata:
			// the record size follows the table's precision.
			if col.FSP < 0 || col.FSP > 6 {
				return nil, mismatch("column %s has fractional seconds precision %d", col.Name, col.FSP)
			}
			p.fsp = col.FSP
		case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_VECTOR:
			if tm.metas[i] < 1 || tm.metas[i] > 4 {
				return nil, mismatch("column %s has blob length width %d", col.Name, tm.metas[i])
			}
		case mysql.MYSQL_TYPE_ENUM:
			if length != 1 && length != 2 {
				return nil, mismatch("column %s has ENUM pack length %d", col.Name, length)
			}
		case mysql.MYSQL_TYPE_SET:
			if length < 1 || length > 8 {
				return nil, mismatch("column %s has SET pack length %d", col.Name, length)
			}
			// MariaDB keeps a SET of more than 64 members when some are
			// duplicates (main/type_set, MDEV-32226: 65 members, 8 bytes);
			// members past the 64th have no bit and never appear in a row.
			if len(col.Values) > length*8 && length < 8 {
				return nil, mismatch("column %s has %d SET members for %d bytes", col.Name, len(col.Values), length)
			}
		}
		plans[i] = p
	}
	return plans, nil
}

// planKind sets the output kind, text decoder, padding and ENUM/SET members.
func planKind(p *colPlan, col *schema.Column) error {
	switch p.typ {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_YEAR:
		p.kind = event.KindInt
	case mysql.MYSQL_TYPE_LONGLONG:
		p.kind = event.KindInt
		if col.Unsigned {
			p.kind = event.KindUint
		}
	case mysql.MYSQL_TYPE_FLOAT:
		p.kind = event.KindFloat
	case mysql.MYSQL_TYPE_DOUBLE:
		p.kind = event.KindDouble
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		p.kind = event.KindDecimal
	case mysql.MYSQL_TYPE_BIT:
		p.kind = event.KindBits
	case mysql.MYSQL_TYPE_DATE:
		p.kind = event.KindDate
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		p.kind = event.KindTime
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		p.kind = event.KindDateTime
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		p.kind = event.KindTimestamp
	case mysql.MYSQL_TYPE_JSON:
		p.kind = event.KindJSON
	case mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR:
		p.kind = event.KindBytes
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
		p.kind = event.KindString
		p.values = make([][]byte, len(col.Values))
		for i, v := range col.Values {
			p.values[i] = []byte(v)
		}
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		if f := fixedBinFormats[col.Type]; f != 0 {
			// MariaDB INET4/INET6/UUID: the bytes, trailing zeros
			// stripped, become the text the server prints.
			p.kind, p.fbt, p.padTo = event.KindString, f, fixedBinSize(f)
			return nil
		}
		switch col.Type {
		case schema.TypeBinary, schema.TypeVarbinary, schema.TypeBlob, schema.TypeUnknown:
			p.kind = event.KindBytes
		case schema.TypeJSON:
			p.kind = event.KindJSON
		default:
			p.kind = event.KindString
		}
		if p.kind != event.KindBytes {
			dec, binary, err := charsetDecoder(col.Charset)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrUnsupported, err)
			}
			if binary && p.kind == event.KindString {
				// CHAR/VARCHAR/TEXT ... CHARACTER SET binary hold bytes.
				p.kind = event.KindBytes
			}
			p.text = dec
		}
		if col.Type == schema.TypeBinary && p.typ == mysql.MYSQL_TYPE_STRING {
			p.padTo = p.length // the binlog's declared byte length, n of BINARY(n)
		}
	case mysql.MYSQL_TYPE_NULL:
		p.kind = event.KindNull
	default:
		return fmt.Errorf("%w: binlog column type %d", ErrUnsupported, p.typ)
	}
	return nil
}
