package schema

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// newTestLoader returns a Loader for srv with filter f, closed at cleanup.
func newTestLoader(t *testing.T, srv *testenv.Server, f *Filter) *Loader {
	t.Helper()
	l := NewLoader(LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Filter: f})
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func TestLoader_Table_AllTypes(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE all_types (
		id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		ti TINYINT, tiu TINYINT UNSIGNED,
		si SMALLINT, siu SMALLINT UNSIGNED,
		mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
		i INT NOT NULL, iu INT UNSIGNED,
		bi BIGINT, biu BIGINT UNSIGNED,
		zf INT(8) ZEROFILL,
		flag BOOLEAN NOT NULL DEFAULT FALSE,
		dec_max DECIMAL(65,30), dec_def DECIMAL, num NUMERIC(10,2) UNSIGNED,
		f FLOAT, f73 FLOAT(7,3), f30 FLOAT(30), d DOUBLE, r REAL,
		c_latin1 CHAR(10) CHARACTER SET latin1,
		vc_utf8mb4 VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
		vc_cp1251 VARCHAR(20) CHARACTER SET cp1251,
		t_tiny TINYTEXT, t_latin1 TEXT CHARACTER SET latin1,
		t_medium MEDIUMTEXT, t_long_cp1251 LONGTEXT CHARACTER SET cp1251,
		bin BINARY(16), vbin VARBINARY(100),
		bl_tiny TINYBLOB, bl BLOB, bl_medium MEDIUMBLOB, bl_long LONGBLOB,
		dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts3 TIMESTAMP(3) NULL,
		y YEAR,
		e ENUM('small','it''s','a,b','', 'é') NOT NULL,
		s SET('r','w','x') CHARACTER SET latin1,
		b1 BIT(1), b12 BIT(12), b BIT,
		j JSON,
		ip4 INET4, ip6 INET6, u UUID,
		geo GEOMETRY, pt POINT
	) DEFAULT CHARSET=utf8mb4`)

	l := newTestLoader(t, srv, nil)
	got, err := l.Table(t.Context(), db, "all_types")
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	utf8 := "utf8mb4"
	want := &Table{
		DB:   db,
		Name: "all_types",
		Columns: []Column{
			{Name: "id", Type: TypeInt, TypeName: "INT", Length: 11},
			{Name: "ti", Type: TypeTinyInt, TypeName: "TINYINT", Length: 4, Nullable: true},
			{Name: "tiu", Type: TypeTinyInt, TypeName: "TINYINT", Length: 3, Unsigned: true, Nullable: true},
			{Name: "si", Type: TypeSmallInt, TypeName: "SMALLINT", Length: 6, Nullable: true},
			{Name: "siu", Type: TypeSmallInt, TypeName: "SMALLINT", Length: 5, Unsigned: true, Nullable: true},
			{Name: "mi", Type: TypeMediumInt, TypeName: "MEDIUMINT", Length: 9, Nullable: true},
			{Name: "miu", Type: TypeMediumInt, TypeName: "MEDIUMINT", Length: 8, Unsigned: true, Nullable: true},
			{Name: "i", Type: TypeInt, TypeName: "INT", Length: 11},
			{Name: "iu", Type: TypeInt, TypeName: "INT", Length: 10, Unsigned: true, Nullable: true},
			{Name: "bi", Type: TypeBigInt, TypeName: "BIGINT", Length: 20, Nullable: true},
			{Name: "biu", Type: TypeBigInt, TypeName: "BIGINT", Length: 20, Unsigned: true, Nullable: true},
			{Name: "zf", Type: TypeInt, TypeName: "INT", Length: 8, Unsigned: true, Nullable: true},
			{Name: "flag", Type: TypeTinyInt, TypeName: "TINYINT", Length: 1},
			{Name: "dec_max", Type: TypeDecimal, TypeName: "DECIMAL", Length: 65, Scale: 30, Nullable: true},
			{Name: "dec_def", Type: TypeDecimal, TypeName: "DECIMAL", Length: 10, Nullable: true},
			{Name: "num", Type: TypeDecimal, TypeName: "DECIMAL", Length: 10, Scale: 2, Unsigned: true, Nullable: true},
			{Name: "f", Type: TypeFloat, TypeName: "FLOAT", Nullable: true},
			{Name: "f73", Type: TypeFloat, TypeName: "FLOAT", Length: 7, Scale: 3, Nullable: true},
			{Name: "f30", Type: TypeDouble, TypeName: "DOUBLE", Nullable: true}, // FLOAT(p>24) is DOUBLE
			{Name: "d", Type: TypeDouble, TypeName: "DOUBLE", Nullable: true},
			{Name: "r", Type: TypeDouble, TypeName: "DOUBLE", Nullable: true},
			{Name: "c_latin1", Type: TypeChar, TypeName: "CHAR", Length: 10, Charset: "latin1", Nullable: true},
			{Name: "vc_utf8mb4", Type: TypeVarchar, TypeName: "VARCHAR", Length: 255, Charset: utf8},
			{Name: "vc_cp1251", Type: TypeVarchar, TypeName: "VARCHAR", Length: 20, Charset: "cp1251", Nullable: true},
			{Name: "t_tiny", Type: TypeText, TypeName: "TINYTEXT", Charset: utf8, Nullable: true},
			{Name: "t_latin1", Type: TypeText, TypeName: "TEXT", Charset: "latin1", Nullable: true},
			{Name: "t_medium", Type: TypeText, TypeName: "MEDIUMTEXT", Charset: utf8, Nullable: true},
			{Name: "t_long_cp1251", Type: TypeText, TypeName: "LONGTEXT", Charset: "cp1251", Nullable: true},
			{Name: "bin", Type: TypeBinary, TypeName: "BINARY", Length: 16, Charset: "binary", Nullable: true},
			{Name: "vbin", Type: TypeVarbinary, TypeName: "VARBINARY", Length: 100, Charset: "binary", Nullable: true},
			{Name: "bl_tiny", Type: TypeBlob, TypeName: "TINYBLOB", Charset: "binary", Nullable: true},
			{Name: "bl", Type: TypeBlob, TypeName: "BLOB", Charset: "binary", Nullable: true},
			{Name: "bl_medium", Type: TypeBlob, TypeName: "MEDIUMBLOB", Charset: "binary", Nullable: true},
			{Name: "bl_long", Type: TypeBlob, TypeName: "LONGBLOB", Charset: "binary", Nullable: true},
			{Name: "dt", Type: TypeDate, TypeName: "DATE", Nullable: true},
			{Name: "tm", Type: TypeTime, TypeName: "TIME", Nullable: true},
			{Name: "tm3", Type: TypeTime, TypeName: "TIME", FSP: 3, Nullable: true},
			{Name: "dtm", Type: TypeDateTime, TypeName: "DATETIME", Nullable: true},
			{Name: "dtm6", Type: TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true},
			{Name: "ts3", Type: TypeTimestamp, TypeName: "TIMESTAMP", FSP: 3, Nullable: true},
			{Name: "y", Type: TypeYear, TypeName: "YEAR", Nullable: true},
			{Name: "e", Type: TypeEnum, TypeName: "ENUM", Charset: utf8, Values: []string{"small", "it's", "a,b", "", "é"}},
			{Name: "s", Type: TypeSet, TypeName: "SET", Charset: "latin1", Values: []string{"r", "w", "x"}, Nullable: true},
			{Name: "b1", Type: TypeBit, TypeName: "BIT", Length: 1, Nullable: true},
			{Name: "b12", Type: TypeBit, TypeName: "BIT", Length: 12, Nullable: true},
			{Name: "b", Type: TypeBit, TypeName: "BIT", Length: 1, Nullable: true},
			{Name: "j", Type: TypeJSON, TypeName: "JSON", Charset: utf8, Nullable: true},
			{Name: "ip4", Type: TypeInet4, TypeName: "INET4", Nullable: true},
			{Name: "ip6", Type: TypeInet6, TypeName: "INET6", Nullable: true},
			{Name: "u", Type: TypeUUID, TypeName: "UUID", Nullable: true},
			{Name: "geo", Type: TypeGeometry, TypeName: "GEOMETRY", Nullable: true},
			{Name: "pt", Type: TypeGeometry, TypeName: "POINT", Nullable: true},
		},
		PrimaryKey: []int{0},
	}
	// Declared (the type text's view): TestColumn_DebeziumType.
	if diff := cmp.Diff(want, got, ignoreDefaults, cmpopts.IgnoreFields(Column{}, "Declared")); diff != "" { // defaults: TestTracker_Corpus, default_test.go
		t.Errorf("Table mismatch (-want +got):\n%s", diff)
	}

	again, err := l.Table(t.Context(), db, "all_types")
	if err != nil {
		t.Fatalf("Table (cached): %v", err)
	}
	if again != got {
		t.Error("second Table call did not return the cached version")
	}
}

func TestLoader_Table_Keys(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		"CREATE TABLE no_key (a INT, b VARCHAR(10))",
		"CREATE TABLE nullable_unique (a INT, b INT NOT NULL, UNIQUE KEY ua (a))",
		// Two qualifying unique keys: Debezium takes the first one SHOW CREATE
		// TABLE prints, here uz (defined first) although ua sorts first by name.
		"CREATE TABLE unique_only (a INT NOT NULL, b INT NOT NULL, c INT NOT NULL, x INT, "+
			"KEY plain (c), UNIQUE KEY un (x), UNIQUE KEY uz (c, b), UNIQUE KEY ua (a))",
		"CREATE TABLE composite_pk (a INT, b VARCHAR(10), c INT, PRIMARY KEY (c, a))",
		"CREATE TABLE `Mixed``Case` (`Id` INT PRIMARY KEY, `Odd``Col` INT)",
	)
	l := newTestLoader(t, srv, nil)
	tests := []struct {
		table string
		want  []int
	}{
		{"no_key", nil},
		{"nullable_unique", nil},
		{"unique_only", []int{2, 1}},
		{"composite_pk", []int{2, 0}},
		{"Mixed`Case", []int{0}},
	}
	for _, tt := range tests {
		got, err := l.Table(t.Context(), db, tt.table)
		if err != nil {
			t.Errorf("Table(%s): %v", tt.table, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.PrimaryKey); diff != "" {
			t.Errorf("Table(%s).PrimaryKey mismatch (-want +got):\n%s", tt.table, diff)
		}
	}
}

func TestLoader_Table_EnumEscapes(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE e (
		e ENUM('q''q', 'b\\s', 'c,d', '(p)', ' lead', 'nl\n', 'pct\%') CHARACTER SET utf8mb4,
		s SET('a''', '''b', 'x y') CHARACTER SET latin1
	)`)
	l := newTestLoader(t, srv, nil)
	got, err := l.Table(t.Context(), db, "e")
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	if diff := cmp.Diff([]string{"q'q", `b\s`, "c,d", "(p)", " lead", "nl\n", `pct\%`}, got.Columns[0].Values); diff != "" {
		t.Errorf("ENUM values mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a'", "'b", "x y"}, got.Columns[1].Values); diff != "" {
		t.Errorf("SET values mismatch (-want +got):\n%s", diff)
	}
	// The server's own idea of the members, for comparison.
	rows := srv.Query(t, db, "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'e' ORDER BY ORDINAL_POSITION")
	t.Logf("COLUMN_TYPE: %q", rows)
}

func TestLoader_Table_Filter(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), password VARCHAR(64))",
		"CREATE TABLE audit (id INT PRIMARY KEY)",
	)
	f, err := NewFilter(FilterConfig{
		TableExcludeList:  `.*\.audit`,
		ColumnExcludeList: `.*\.users\.password`,
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLoader(t, srv, f)

	users, err := l.Table(t.Context(), db, "users")
	if err != nil {
		t.Fatalf("Table(users): %v", err)
	}
	var excluded []string
	for _, c := range users.Columns {
		if c.Excluded {
			excluded = append(excluded, c.Name)
		}
	}
	if diff := cmp.Diff([]string{"password"}, excluded); diff != "" {
		t.Errorf("excluded columns mismatch (-want +got):\n%s", diff)
	}

	audit, err := l.Table(t.Context(), db, "audit")
	if audit != nil || err != nil {
		t.Errorf("Table(audit) = %v, %v; want nil, nil for an excluded table", audit, err)
	}
	sys, err := l.Table(t.Context(), "mysql", "user")
	if sys != nil || err != nil {
		t.Errorf("Table(mysql.user) = %v, %v; want nil, nil", sys, err)
	}

	ids, err := l.Tables(t.Context())
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	var mine []TableID
	for _, id := range ids {
		if IsSystemDatabase(id.DB) {
			t.Errorf("Tables returned system table %s", id)
		}
		if id.DB == db {
			mine = append(mine, id)
		}
	}
	if diff := cmp.Diff([]TableID{{db, "users"}}, mine); diff != "" {
		t.Errorf("Tables in %s mismatch (-want +got):\n%s", db, diff)
	}
}

func TestLoader_Tables_SkipsViewsAndSequences(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		"CREATE TABLE b (id INT PRIMARY KEY)",
		"CREATE TABLE a (id INT PRIMARY KEY) WITH SYSTEM VERSIONING",
		"CREATE VIEW v AS SELECT id FROM b",
		"CREATE SEQUENCE seq",
	)
	f, err := NewFilter(FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := newTestLoader(t, srv, f).Tables(t.Context())
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	if diff := cmp.Diff([]TableID{{db, "a"}, {db, "b"}}, ids); diff != "" {
		t.Errorf("Tables mismatch (-want +got):\n%s", diff)
	}
}

func TestLoader_Table_NotFoundAndInvalidate(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	l := newTestLoader(t, srv, nil)

	if _, err := l.Table(t.Context(), db, "missing"); !errors.Is(err, ErrTableNotFound) {
		t.Fatalf("Table(missing) error = %v, want ErrTableNotFound", err)
	}

	srv.Exec(t, db, "CREATE TABLE t (a INT PRIMARY KEY)")
	v1, err := l.Table(t.Context(), db, "t")
	if err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, db, "ALTER TABLE t ADD COLUMN b VARCHAR(5)")
	if v, _ := l.Table(t.Context(), db, "t"); v != v1 {
		t.Error("cached version replaced without Invalidate")
	}
	l.Invalidate(db, "t")
	v2, err := l.Table(t.Context(), db, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.Columns) != 2 || len(v1.Columns) != 1 {
		t.Errorf("after Invalidate: %d columns (before %d), want 2 (before 1)", len(v2.Columns), len(v1.Columns))
	}
	l.InvalidateAll()
	if v3, err := l.Table(t.Context(), db, "t"); err != nil || v3 == v2 {
		t.Errorf("after InvalidateAll: %p, %v; want a fresh load", v3, err)
	}
}

func TestLoader_Reconnect(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (a INT PRIMARY KEY)", "CREATE TABLE u (a INT PRIMARY KEY)")
	l := newTestLoader(t, srv, nil)
	if _, err := l.Table(t.Context(), db, "t"); err != nil {
		t.Fatal(err)
	}
	// Kill the loader's connection from the server side.
	l.conn.mu.Lock()
	id := l.conn.c.GetConnectionID()
	l.conn.mu.Unlock()
	srv.Exec(t, "", "KILL CONNECTION "+strconv.FormatUint(uint64(id), 10))
	if _, err := l.Table(t.Context(), db, "u"); err != nil {
		t.Fatalf("Table after the server killed the connection: %v", err)
	}
}

func TestLoader_ContextCancelled(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (a INT PRIMARY KEY)")
	l := newTestLoader(t, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Table(ctx, db, "t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Table with cancelled context: error = %v, want context.Canceled", err)
	}
	if _, err := l.Table(t.Context(), db, "t"); err != nil {
		t.Fatalf("Table after a cancelled call: %v", err)
	}
}

func TestLoader_AccessDenied(t *testing.T) {
	srv := testenv.MariaDB(t)
	l := NewLoader(LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: "wrong"})
	defer l.Close()
	_, err := l.Table(t.Context(), "any", "t")
	if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "database.password") {
		t.Fatalf("Table with a wrong password: error = %v, want access denied naming database.password", err)
	}
}
