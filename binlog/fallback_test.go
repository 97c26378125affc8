package binlog

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

// fallbackTracker returns a DDL tracker with the unparseable-DDL fallbacks
// on (the live table from h's server, the look-ahead over its binlog) and
// the kinds it used, by table name.
func fallbackTracker(t *testing.T, h *harness, srv *testenv.Server, db string) (*schema.Tracker, func() map[string]string) {
	t.Helper()
	f, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	kinds := map[string]string{}
	tr := schema.NewTracker(schema.TrackerConfig{Filter: f, MariaDB: true,
		OnFallback: func(d schema.DDL, kind string, id schema.TableID, _ *schema.DDLError) {
			mu.Lock()
			defer mu.Unlock()
			kinds[id.Name] += kind
		}})
	if _, err := tr.LoadFrom(t.Context(), h.loader); err != nil {
		t.Fatal(err)
	}
	pc := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 3000 + serverIDs.Add(1)}
	tr.SetReload(h.loader, func(ctx context.Context, d schema.DDL, tables []schema.TableID) ([]schema.Later, error) {
		return LookAhead(ctx, pc, d.File, d.NextPos, tables)
	})
	h.cfg.Tables, h.cfg.DDL = tr, tr
	return tr, func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(kinds)
	}
}

// TestReader_DDLFallbacks: statements the parser cannot read that change
// columns (MariaDB's REF_SYSTEM_ID column attribute, unknown to the TiDB grammar) are
// resolved, each by the fallback that holds, and rows decode after them:
// the next TABLE_MAP's full row metadata, the live table when nothing later
// names it, the last known definition when the table is dropped before any
// row of it; a TABLE_MAP of a table created outside the binlog
// (sql_log_bin=0) is resolved from its metadata.
func TestReader_DDLFallbacks(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		"CREATE TABLE t_meta (id INT PRIMARY KEY, a VARCHAR(10))",
		"CREATE TABLE t_reload (id INT PRIMARY KEY, a VARCHAR(10))",
		"CREATE TABLE t_drop (id INT PRIMARY KEY, a VARCHAR(10))")
	h := newHarness(t, srv, db)
	tr, kinds := fallbackTracker(t, h, srv, db)
	from := h.now()
	srv.Exec(t, db,
		"ALTER TABLE t_meta ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
		"INSERT INTO t_meta VALUES (1, 'x')",
		"ALTER TABLE t_reload ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
		"ALTER TABLE t_drop ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
		"DROP TABLE t_drop",
		"SET SESSION sql_log_bin = 0",
		"CREATE TABLE hidden (k BIGINT UNSIGNED PRIMARY KEY, s VARCHAR(5) CHARACTER SET latin1, e ENUM('p','q'))",
		"SET SESSION sql_log_bin = 1",
		"INSERT INTO hidden VALUES (7, 'é', 'q')",
		"INSERT INTO t_meta (id, a) VALUES (2, 'y')",
	)
	rn := h.start(from)
	evs, batches := rn.events(t, 3)
	var got []string
	for _, ev := range evs {
		var cols []string
		for _, c := range ev.Table.Columns {
			cols = append(cols, c.Name)
		}
		got = append(got, ev.Table.Name+"("+strings.Join(cols, ",")+")="+strings.Join(showRow(ev.After)[:2], ","))
	}
	want := []string{
		"t_meta(id,a,g)=int:1,str:x",
		"hidden(k,s,e)=uint:7,str:é",
		"t_meta(id,a,g)=int:2,str:y",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	wantKinds := map[string]string{"t_meta": schema.FallbackMetadata, "t_reload": schema.FallbackReload,
		"t_drop": schema.FallbackDropped, "hidden": schema.FallbackMetadata}
	if k := kinds(); !maps.Equal(k, wantKinds) {
		t.Errorf("fallbacks %v, want %v", k, wantKinds)
	}
	if d := tr.Def(db, "t_reload"); d == nil || len(d.Table.Columns) != 3 {
		t.Errorf("t_reload after the reload: %+v", d)
	}
	if tr.Def(db, "t_drop") != nil {
		t.Error("t_drop is still in the model after its DROP")
	}
	var ddl []string
	for _, b := range batches {
		for _, c := range b.Schema {
			ddl = append(ddl, c.DDL)
		}
	}
	if !slices.ContainsFunc(ddl, func(s string) bool { return strings.Contains(s, "hidden") && strings.Contains(s, "table map") }) {
		t.Errorf("the table map fallback for hidden was not recorded; schema changes %q", ddl)
	}
	rn.stop(t)
}
