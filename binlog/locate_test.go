package binlog

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

func currentPosition(t *testing.T, srv *testenv.Server) offsets.Position {
	t.Helper()
	rows := srv.Query(t, "", "SHOW MASTER STATUS")
	pos, _ := strconv.ParseUint(rows[0][1], 10, 64)
	g := srv.Query(t, "", "SELECT @@GLOBAL.gtid_binlog_pos")
	return offsets.Position{File: rows[0][0], Pos: pos, GTIDSet: g[0][0]}
}

func domainSeq(t *testing.T, gtids string) uint64 {
	t.Helper()
	for _, p := range strings.Split(gtids, ",") {
		f := strings.Split(p, "-")
		if len(f) == 3 && f[0] == "0" {
			n, _ := strconv.ParseUint(f[2], 10, 64)
			return n
		}
	}
	t.Fatalf("no domain 0 in %q", gtids)
	return 0
}

func TestSkipGroups(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	cfg := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 7002}
	from := currentPosition(t, srv)
	srv.Exec(t, db,
		"CREATE TABLE t (id INT PRIMARY KEY, v INT)",
		"INSERT INTO t VALUES (1, 1)",
		"BEGIN", "INSERT INTO t VALUES (2, 2)", "UPDATE t SET v = 3 WHERE id = 1", "COMMIT",
		"ALTER TABLE t ADD COLUMN w INT",
	)
	after := currentPosition(t, srv)
	seq := domainSeq(t, from.GTIDSet)

	got, groups, err := SkipGroups(t.Context(), cfg, from, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		t.Logf("skipped %s:%d-%d gtid %s: %s", g.File, g.Pos, g.End, g.GTID, g.What)
	}
	if len(groups) != 3 || !strings.Contains(groups[0].What, "CREATE TABLE") ||
		!strings.Contains(groups[1].What, "1 rows events") || !strings.Contains(groups[2].What, "2 rows events") {
		t.Fatalf("skipped groups = %+v", groups)
	}
	if n := domainSeq(t, got.GTIDSet); n != seq+3 {
		t.Errorf("GTID after skipping 3 = %s, want domain 0 at %d", got.GTIDSet, seq+3)
	}
	if groups[1].Pos != groups[0].End || groups[2].Pos != groups[1].End || got.Pos != groups[2].End {
		t.Errorf("groups are not contiguous: %+v, end %s", groups, got)
	}

	// The fourth is the ALTER; skipping it reaches the end.
	got4, groups4, err := SkipGroups(t.Context(), cfg, from, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(groups4[3].What, "ALTER TABLE") || got4.File != after.File || got4.Pos != after.Pos || got4.GTIDSet != after.GTIDSet {
		t.Errorf("skip 4 = %s (%s), want the end %s", got4, groups4[3].What, after)
	}
	if _, _, err := SkipGroups(t.Context(), cfg, after, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("skipping past the end = %v, want an error", err)
	}
}

func TestPositionAt(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	cfg := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 7003}
	// Event timestamps have second precision: insert 1 before the second
	// at, insert 2 in it.
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	at := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(at))
	srv.Exec(t, db, "INSERT INTO t VALUES (2)")
	after := currentPosition(t, srv)
	got, err := PositionAt(t.Context(), cfg, at)
	if err != nil {
		t.Fatal(err)
	}
	if got.TsSec < at.Unix() || got.File != after.File {
		t.Fatalf("PositionAt = %s ts %d, want the second insert (ts >= %d)", got, got.TsSec, at.Unix())
	}
	// Skipping one group from there reaches the end: it is the last transaction.
	end, groups, err := SkipGroups(t.Context(), cfg, got, 1)
	if err != nil || len(groups) != 1 {
		t.Fatalf("SkipGroups from PositionAt = %s %+v %v", end, groups, err)
	}
	if end.Pos != after.Pos || end.GTIDSet != after.GTIDSet {
		t.Errorf("after the second insert = %s, want %s", end, after)
	}
	if domainSeq(t, got.GTIDSet)+1 != domainSeq(t, after.GTIDSet) {
		t.Errorf("GTID state at the second insert = %s, want one before %s", got.GTIDSet, after.GTIDSet)
	}
	// A time after everything is the end.
	late, err := PositionAt(t.Context(), cfg, at.Add(time.Hour))
	if err != nil || late.File != after.File || late.Pos < after.Pos {
		t.Errorf("PositionAt(after all) = %s %v, want the end %s", late, err, after)
	}
}
