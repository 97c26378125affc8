package schema

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseValueList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`'a'`, []string{"a"}},
		{`'a','b','c'`, []string{"a", "b", "c"}},
		{` 'a' , 'b' `, []string{"a", "b"}},
		{`''`, []string{""}},
		{`'','x'`, []string{"", "x"}},
		{`'it''s'`, []string{"it's"}},
		{`''''`, []string{"'"}},
		{`'a,b','c'`, []string{"a,b", "c"}},
		{`'(',')'`, []string{"(", ")"}},
		{`'x'',''y'`, []string{"x','y"}},
		{`'back\\slash'`, []string{`back\slash`}},
		{`'q\'q'`, []string{"q'q"}},
		{`'nl\n','nul\0','tab\t','cr\r','sub\Z','bs\b'`, []string{"nl\n", "nul\x00", "tab\t", "cr\r", "sub\x1a", "bs\b"}},
		{`'pct\%','us\_'`, []string{`pct\%`, `us\_`}},
		{`"dq","it""s",'mix"ed'`, []string{"dq", `it"s`, `mix"ed`}},
		{`'été','日本'`, []string{"été", "日本"}},
		{"'\xe9t\xe9'", []string{"\xe9t\xe9"}}, // bytes pass through untouched
		{`'\é'`, []string{"é"}},
	}
	for _, tt := range tests {
		got, err := parseValueList(tt.in)
		if err != nil {
			t.Errorf("parseValueList(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseValueList(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseValueList_Invalid(t *testing.T) {
	for _, in := range []string{
		`a`,
		`'a`,
		`'a',`,
		`'a' 'b'`,
		`'a',b`,
		`'a'x`,
		`'it''`,
		`'\`,
		`,'a'`,
	} {
		got, err := parseValueList(in)
		if err == nil {
			t.Errorf("parseValueList(%q) = %q, want error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidColumnType) {
			t.Errorf("parseValueList(%q) error %v does not wrap ErrInvalidColumnType", in, err)
		}
	}
}

func TestParseColumnType(t *testing.T) {
	tests := []struct {
		in   string
		want columnType
	}{
		{"int", columnType{base: "int"}},
		{"int(11)", columnType{base: "int", args: "11", hasArgs: true}},
		{"INT(10) UNSIGNED", columnType{base: "int", args: "10", hasArgs: true, unsigned: true}},
		{"bigint(20) unsigned zerofill", columnType{base: "bigint", args: "20", hasArgs: true, unsigned: true, zerofill: true}},
		{"int zerofill", columnType{base: "int", unsigned: true, zerofill: true}},
		{"decimal(65,30)", columnType{base: "decimal", args: "65,30", hasArgs: true}},
		{"double unsigned", columnType{base: "double", unsigned: true}},
		{"enum('a)','(b')", columnType{base: "enum", args: "'a)','(b'", hasArgs: true}},
		{"set('x''y')", columnType{base: "set", args: "'x''y'", hasArgs: true}},
		{"datetime /* mariadb-5.3 */", columnType{base: "datetime"}},
		{"  varchar(255)  ", columnType{base: "varchar", args: "255", hasArgs: true}},
	}
	for _, tt := range tests {
		got, err := parseColumnType(tt.in)
		if err != nil {
			t.Errorf("parseColumnType(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(columnType{})); diff != "" {
			t.Errorf("parseColumnType(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, in := range []string{"", "   ", "int(11", "enum('a)", "enum('a'"} {
		if got, err := parseColumnType(in); !errors.Is(err, ErrInvalidColumnType) {
			t.Errorf("parseColumnType(%q) = %+v, %v; want ErrInvalidColumnType", in, got, err)
		}
	}
}

func TestBuildColumn(t *testing.T) {
	tests := []struct {
		name string
		in   columnInfo
		want Column
	}{
		{
			name: "mariadb int display width",
			in:   columnInfo{Name: "a", DataType: "int", ColumnType: "int(11)", Nullable: true, Precision: 10},
			want: Column{Name: "a", Type: TypeInt, TypeName: "INT", Nullable: true, Length: 11},
		},
		{
			name: "mysql 8 int without width",
			in:   columnInfo{Name: "a", DataType: "int", ColumnType: "int unsigned", Precision: 10},
			want: Column{Name: "a", Type: TypeInt, TypeName: "INT", Unsigned: true},
		},
		{
			name: "boolean is tinyint(1)",
			in:   columnInfo{Name: "b", DataType: "tinyint", ColumnType: "tinyint(1)", Precision: 3},
			want: Column{Name: "b", Type: TypeTinyInt, TypeName: "TINYINT", Length: 1},
		},
		{
			name: "zerofill is unsigned",
			in:   columnInfo{Name: "z", DataType: "smallint", ColumnType: "smallint(5) unsigned zerofill"},
			want: Column{Name: "z", Type: TypeSmallInt, TypeName: "SMALLINT", Unsigned: true, Length: 5},
		},
		{
			name: "mediumint and bigint",
			in:   columnInfo{Name: "m", DataType: "bigint", ColumnType: "bigint(20) unsigned"},
			want: Column{Name: "m", Type: TypeBigInt, TypeName: "BIGINT", Unsigned: true, Length: 20},
		},
		{
			name: "decimal",
			in:   columnInfo{Name: "d", DataType: "decimal", ColumnType: "decimal(65,30)", Precision: 65, Scale: 30},
			want: Column{Name: "d", Type: TypeDecimal, TypeName: "DECIMAL", Length: 65, Scale: 30},
		},
		{
			name: "float plain",
			in:   columnInfo{Name: "f", DataType: "float", ColumnType: "float", Precision: 12},
			want: Column{Name: "f", Type: TypeFloat, TypeName: "FLOAT"},
		},
		{
			name: "float(m,d)",
			in:   columnInfo{Name: "f", DataType: "float", ColumnType: "float(7,3) unsigned", Precision: 7, Scale: 3},
			want: Column{Name: "f", Type: TypeFloat, TypeName: "FLOAT", Unsigned: true, Length: 7, Scale: 3},
		},
		{
			name: "double",
			in:   columnInfo{Name: "g", DataType: "double", ColumnType: "double", Precision: 22},
			want: Column{Name: "g", Type: TypeDouble, TypeName: "DOUBLE"},
		},
		{
			name: "bit(1)",
			in:   columnInfo{Name: "b", DataType: "bit", ColumnType: "bit(1)", Precision: 1},
			want: Column{Name: "b", Type: TypeBit, TypeName: "BIT", Length: 1},
		},
		{
			name: "bit(12)",
			in:   columnInfo{Name: "b", DataType: "bit", ColumnType: "bit(12)", Precision: 12},
			want: Column{Name: "b", Type: TypeBit, TypeName: "BIT", Length: 12},
		},
		{
			name: "char utf8mb4",
			in:   columnInfo{Name: "c", DataType: "char", ColumnType: "char(10)", Charset: "utf8mb4", MaxLength: 10},
			want: Column{Name: "c", Type: TypeChar, TypeName: "CHAR", Length: 10, Charset: "utf8mb4"},
		},
		{
			name: "varchar cp1251",
			in:   columnInfo{Name: "v", DataType: "varchar", ColumnType: "varchar(255)", Charset: "cp1251", MaxLength: 255, Nullable: true},
			want: Column{Name: "v", Type: TypeVarchar, TypeName: "VARCHAR", Length: 255, Charset: "cp1251", Nullable: true},
		},
		{
			name: "text latin1",
			in:   columnInfo{Name: "t", DataType: "mediumtext", ColumnType: "mediumtext", Charset: "latin1", MaxLength: 16777215},
			want: Column{Name: "t", Type: TypeText, TypeName: "MEDIUMTEXT", Charset: "latin1"},
		},
		{
			name: "binary",
			in:   columnInfo{Name: "b", DataType: "binary", ColumnType: "binary(16)", MaxLength: 16},
			want: Column{Name: "b", Type: TypeBinary, TypeName: "BINARY", Length: 16, Charset: "binary"},
		},
		{
			name: "varbinary",
			in:   columnInfo{Name: "b", DataType: "varbinary", ColumnType: "varbinary(100)", MaxLength: 100},
			want: Column{Name: "b", Type: TypeVarbinary, TypeName: "VARBINARY", Length: 100, Charset: "binary"},
		},
		{
			name: "longblob",
			in:   columnInfo{Name: "b", DataType: "longblob", ColumnType: "longblob", MaxLength: 4294967295},
			want: Column{Name: "b", Type: TypeBlob, TypeName: "LONGBLOB", Charset: "binary"},
		},
		{
			name: "date",
			in:   columnInfo{Name: "d", DataType: "date", ColumnType: "date"},
			want: Column{Name: "d", Type: TypeDate, TypeName: "DATE"},
		},
		{
			name: "time(3) from datetime precision",
			in:   columnInfo{Name: "t", DataType: "time", ColumnType: "time(3)", DatetimePrec: 3},
			want: Column{Name: "t", Type: TypeTime, TypeName: "TIME", FSP: 3},
		},
		{
			name: "datetime(6)",
			in:   columnInfo{Name: "t", DataType: "datetime", ColumnType: "datetime(6)", DatetimePrec: 6},
			want: Column{Name: "t", Type: TypeDateTime, TypeName: "DATETIME", FSP: 6},
		},
		{
			name: "timestamp(3)",
			in:   columnInfo{Name: "t", DataType: "timestamp", ColumnType: "timestamp(3)", DatetimePrec: 3},
			want: Column{Name: "t", Type: TypeTimestamp, TypeName: "TIMESTAMP", FSP: 3},
		},
		{
			name: "old mariadb temporal",
			in:   columnInfo{Name: "t", DataType: "datetime", ColumnType: "datetime /* mariadb-5.3 */"},
			want: Column{Name: "t", Type: TypeDateTime, TypeName: "DATETIME"},
		},
		{
			name: "year(4) mariadb",
			in:   columnInfo{Name: "y", DataType: "year", ColumnType: "year(4)"},
			want: Column{Name: "y", Type: TypeYear, TypeName: "YEAR"},
		},
		{
			name: "enum",
			in:   columnInfo{Name: "e", DataType: "enum", ColumnType: "enum('small','it''s','a,b')", Charset: "utf8mb4", MaxLength: 5},
			want: Column{Name: "e", Type: TypeEnum, TypeName: "ENUM", Charset: "utf8mb4", Values: []string{"small", "it's", "a,b"}},
		},
		{
			name: "set",
			in:   columnInfo{Name: "s", DataType: "set", ColumnType: "set('r','w','x')", Charset: "latin1"},
			want: Column{Name: "s", Type: TypeSet, TypeName: "SET", Charset: "latin1", Values: []string{"r", "w", "x"}},
		},
		{
			name: "mysql json",
			in:   columnInfo{Name: "j", DataType: "json", ColumnType: "json"},
			want: Column{Name: "j", Type: TypeJSON, TypeName: "JSON"},
		},
		{
			name: "mariadb json",
			in:   columnInfo{Name: "j", DataType: "longtext", ColumnType: "longtext", Charset: "utf8mb4", JSONCheck: true},
			want: Column{Name: "j", Type: TypeJSON, TypeName: "JSON", Charset: "utf8mb4"},
		},
		{
			name: "point",
			in:   columnInfo{Name: "p", DataType: "point", ColumnType: "point"},
			want: Column{Name: "p", Type: TypeGeometry, TypeName: "POINT"},
		},
		{
			name: "mariadb inet6",
			in:   columnInfo{Name: "ip", DataType: "inet6", ColumnType: "inet6"},
			want: Column{Name: "ip", Type: TypeInet6, TypeName: "INET6"},
		},
		{
			name: "mariadb uuid",
			in:   columnInfo{Name: "u", DataType: "uuid", ColumnType: "uuid", Nullable: true},
			want: Column{Name: "u", Type: TypeUUID, TypeName: "UUID", Nullable: true},
		},
		{
			name: "vector",
			in:   columnInfo{Name: "v", DataType: "vector", ColumnType: "vector(3)"},
			want: Column{Name: "v", Type: TypeUnknown, TypeName: "VECTOR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildColumn(tt.in)
			if err != nil {
				t.Fatalf("buildColumn: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildColumn_Invalid(t *testing.T) {
	for _, in := range []columnInfo{
		{Name: "e", DataType: "enum", ColumnType: "enum('a"},
		{Name: "e", DataType: "set", ColumnType: "set(a,b)"},
		{Name: "t", DataType: "datetime", ColumnType: "datetime(7)", DatetimePrec: 7},
		{Name: "x", DataType: "", ColumnType: ""},
	} {
		if _, err := buildColumn(in); !errors.Is(err, ErrInvalidColumnType) {
			t.Errorf("buildColumn(%+v) error = %v, want ErrInvalidColumnType", in, err)
		}
	}
}

func TestJSONValidColumn(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"json_valid(`j`)", "j", true},
		{"JSON_VALID( `doc` )", "doc", true},
		{"(json_valid(`a``b`))", "a`b", true},
		{"json_valid(j)", "j", true},
		{"json_valid(`j`) and `j` <> ''", "", false},
		{"`j` > 0", "", false},
		{"json_valid(concat(`a`,`b`))", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := jsonValidColumn(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("jsonValidColumn(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPrimaryKey(t *testing.T) {
	table := &Table{Columns: []Column{
		{Name: "a"},
		{Name: "b", Nullable: true},
		{Name: "c"},
		{Name: "d"},
	}}
	tests := []struct {
		name string
		idx  []index
		want []int
	}{
		{"none", nil, nil},
		{"primary", []index{{name: "PRIMARY", unique: true, columns: []string{"c", "a"}}}, []int{2, 0}},
		{"primary before unique", []index{
			{name: "PRIMARY", unique: true, columns: []string{"d"}},
			{name: "u", unique: true, columns: []string{"a"}},
		}, []int{3}},
		{"nullable unique skipped", []index{
			{name: "u1", unique: true, columns: []string{"a", "b"}},
			{name: "u2", unique: true, columns: []string{"d", "c"}},
		}, []int{3, 2}},
		{"first qualifying unique in key order", []index{
			{name: "z", unique: true, columns: []string{"c"}},
			{name: "a", unique: true, columns: []string{"a"}},
		}, []int{2}},
		{"non-unique ignored", []index{{name: "k", columns: []string{"a"}}}, nil},
		{"expression part skipped", []index{
			{name: "f", unique: true, columns: []string{""}},
			{name: "g", unique: true, columns: []string{"A"}},
		}, []int{0}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, primaryKey(table, tt.idx)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func FuzzParseValueList(f *testing.F) {
	for _, s := range []string{
		``, `'a'`, `'a','b'`, `'it''s'`, `'a,b','c'`, `'\\'`, `'\''`, `"x",'y'`, `'a`, `'a',`, `'é'`,
		`'(',')'`, "'\xff'", `'\0\n\r\Z'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		values, err := parseValueList(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidColumnType) {
				t.Fatalf("error %v does not wrap ErrInvalidColumnType", err)
			}
			return
		}
		// Round trip: quoting the values the way the server prints them
		// must give the same values back.
		again, err := parseValueList(quoteValues(values))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", quoteValues(values), err)
		}
		if diff := cmp.Diff(values, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}

// quoteValues prints values as the server does in COLUMN_TYPE (MySQL's
// append_unescaped: ' doubled, \ NUL LF CR escaped).
func quoteValues(values []string) string {
	var b []byte
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\'')
		for j := 0; j < len(v); j++ {
			switch c := v[j]; c {
			case '\'':
				b = append(b, '\'', '\'')
			case '\\':
				if j+1 < len(v) && (v[j+1] == '%' || v[j+1] == '_') {
					b = append(b, '\\') // "\%" is read back as "\%", so write it as is
					continue
				}
				b = append(b, '\\', '\\')
			case 0:
				b = append(b, '\\', '0')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, c)
			}
		}
		b = append(b, '\'')
	}
	return string(b)
}

func FuzzParseColumnType(f *testing.F) {
	for _, s := range []string{
		"int(11)", "int(10) unsigned zerofill", "decimal(65,30)", "enum('a)','(b')", "set('x''y')",
		"datetime /* mariadb-5.3 */", "varchar(", "enum('a", "", "bit(12)", "float(7,3) unsigned",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ct, err := parseColumnType(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidColumnType) {
				t.Fatalf("error %v does not wrap ErrInvalidColumnType", err)
			}
			return
		}
		ct.numbers()
		for _, dt := range []string{ct.base, "enum", "decimal", "datetime", "varchar"} {
			if _, err := buildColumn(columnInfo{Name: "c", DataType: dt, ColumnType: in}); err != nil && !errors.Is(err, ErrInvalidColumnType) {
				t.Fatalf("buildColumn(%q, %q): error %v does not wrap ErrInvalidColumnType", dt, in, err)
			}
		}
	})
}
