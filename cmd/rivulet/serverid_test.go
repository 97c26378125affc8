package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_ServerIDClashRefusedNotFlapped starts a second connector (another
// name and prefix) with the server id of a running one: it must stop with a
// clear error instead of taking the id over, and the first one keeps
// streaming without a disconnect.
func TestRun_ServerIDClashRefusedNotFlapped(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	first := e.start(t, e.config(t, map[string]string{"value.converter.schemas.enable": "false"}))

	other := &e2eEnv{srv: e.srv, db: e.db, brokers: e.brokers, dir: t.TempDir(), prefix: e.prefix + "_other"}
	cfg := other.config(t, map[string]string{"offset.storage.file.filename": filepath.Join(other.dir, "offsets.json")})
	out, code := runBinary(t, "run", "--config", cfg)
	if code != 1 || !strings.Contains(out, "another replica") || !strings.Contains(out, "database.server.id") {
		t.Fatalf("second instance with the same server id: exit %d, want 1 and the clash named:\n%s", code, out)
	}

	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1)")
	consume(t, e.brokers, 1, e.prefix+"."+e.db+".t")
	if n := metricValue(t, first.metrics, "rivulet_binlog_disconnects_total"); n != 0 {
		t.Errorf("the first instance was disconnected %v times by the clash", n)
	}
	first.stop()
}
