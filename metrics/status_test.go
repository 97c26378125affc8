package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStream_Status follows one instance through a snapshot into streaming:
// the phase, per-table progress (rate and ETA from the estimate), binlog,
// queue, offsets stored vs acknowledged, last DDL and last error, served as
// JSON on /status and as the two per-table series.
func TestStream_Status(t *testing.T) {
	s, reg, clk := newTest(t, Options{Name: "srv", QueueCapacity: 100})
	if got := s.Status().Phase; got != "starting" {
		t.Errorf("phase before anything = %q, want starting", got)
	}
	sn := s.Snapshot()
	sn.Started([]string{"db.a", "db.b"})
	sn.RowsEstimated("db.a", 1000)
	sn.RowsScanned("db.a", 100) // first chunk at t0
	sn.ChunkCompleted("db.a")
	clk.t = clk.t.Add(10 * time.Second)
	sn.RowsScanned("db.a", 100)
	sn.ChunkCompleted("db.a")
	st := s.Status()
	if st.Phase != "snapshot" {
		t.Errorf("phase = %q, want snapshot", st.Phase)
	}
	// 200 rows in 10 s: 20 rows/s, 800 to go: 40 s.
	want := []TableStatus{
		{Table: "db.a", Rows: 200, Estimated: 1000, Chunks: 2, RowsPerSecond: 20, ETASeconds: 40},
		{Table: "db.b", Estimated: -1, ETASeconds: -1},
	}
	if d := cmp.Diff(want, st.Snapshot.Tables); d != "" {
		t.Errorf("tables (-want +got):\n%s", d)
	}
	if v, _ := sample(t, reg, "rivulet_snapshot_table_eta_seconds", map[string]string{"table": "db.a"}); v != 40 {
		t.Errorf("eta series = %v, want 40", v)
	}
	if v, _ := sample(t, reg, "rivulet_snapshot_table_rows_estimated", map[string]string{"table": "db.a"}); v != 1000 {
		t.Errorf("estimate series = %v, want 1000", v)
	}
	if _, ok := sample(t, reg, "rivulet_snapshot_table_eta_seconds", map[string]string{"table": "db.b"}); ok {
		t.Errorf("eta of a table without estimate or rows is exported")
	}
	sn.TableCompleted("db.a")
	sn.TableCompleted("db.b")
	sn.Completed()
	s.Connected()
	s.EventsSent(3, "bin.000002", 900, "", clk.t.Add(-2*time.Second).UnixMicro(), false)
	s.PositionAcked("bin.000002", 900)
	s.OffsetCommitted("bin.000002", 500)
	s.SourceStatus(1200, 300)
	s.SchemaHistory().DDLRecorded("db", "ALTER TABLE a ADD c INT")
	s.Disconnected(errors.New("connection reset"))
	s.Connected()

	srv, err := Listen("127.0.0.1:0", reg, s.Ready)
	if err != nil {
		t.Fatal(err)
	}
	srv.ServeStatus(s)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	resp, err := http.Get("http://" + srv.Addr() + StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Status
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Phase != "streaming" || !got.Snapshot.Completed || got.Snapshot.RemainingTables != 0 {
		t.Errorf("phase %q, snapshot %+v", got.Phase, got.Snapshot)
	}
	if a := got.Snapshot.Tables[0]; !a.Done || a.ETASeconds != 0 || a.RowsPerSecond != 20 {
		t.Errorf("finished table = %+v, want done, eta 0, 20 rows/s", a)
	}
	wantBin := BinlogStatus{Connected: true, File: "bin.000002", Pos: 900, LagSeconds: 2, LagBytes: 300, ServerEndPos: 1200, Disconnects: 1}
	if d := cmp.Diff(wantBin, got.Binlog); d != "" {
		t.Errorf("binlog (-want +got):\n%s", d)
	}
	if got.Queue != (QueueStatus{Events: 3, Capacity: 100}) {
		t.Errorf("queue = %+v", got.Queue)
	}
	if got.Offsets.Stored != (Position{File: "bin.000002", Pos: 500}) || got.Offsets.Acknowledged != (Position{File: "bin.000002", Pos: 900}) || got.Offsets.StoredAt == "" {
		t.Errorf("offsets = %+v", got.Offsets)
	}
	if got.LastDDL == nil || got.LastDDL.Text != "db: ALTER TABLE a ADD c INT" {
		t.Errorf("last ddl = %+v", got.LastDDL)
	}
	if got.LastErr == nil || got.LastErr.Text != "connection reset" {
		t.Errorf("last error = %+v", got.LastErr)
	}
}
