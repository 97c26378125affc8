package binlog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

func TestServerState_Check(t *testing.T) {
	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	mysql := ServerState{Flavor: FlavorMySQL, GTIDMode: true, Files: []string{"mysql-bin.000003", "mysql-bin.000004"}, Sizes: []uint64{5000, 900},
		Executed: uuid + ":1-100", Purged: uuid + ":1-20", ServerID: "1"}
	maria := ServerState{Flavor: FlavorMariaDB, GTIDMode: true, Files: []string{"mysql-bin.000003", "mysql-bin.000004"}, Sizes: []uint64{5000, 900},
		Executed: "0-1-100,1-2-7", Purged: "0-1-20", ServerID: "1"}
	files := ServerState{Flavor: FlavorMySQL, Files: mysql.Files, Sizes: mysql.Sizes, ServerID: "1"}
	tests := []struct {
		name string
		st   ServerState
		pos  offsets.Position
		want error // nil, ErrPositionNotFound or ErrServerChanged
	}{
		{"mysql gtids ok", mysql, offsets.Position{File: "mysql-bin.000001", Pos: 4, GTIDSet: uuid + ":1-50"}, nil},
		{"mysql gtids at purge edge", mysql, offsets.Position{File: "x.1", GTIDSet: uuid + ":1-20"}, nil},
		{"mysql gtids purged", mysql, offsets.Position{File: "x.1", GTIDSet: uuid + ":1-10"}, ErrPositionNotFound},
		{"mysql gtids ahead of server", mysql, offsets.Position{File: "x.1", GTIDSet: uuid + ":1-150"}, ErrServerChanged},
		{"mysql other server uuid", mysql, offsets.Position{File: "x.1", GTIDSet: "aaaaaaaa-71ca-11e1-9e33-c80aa9429562:1-3," + uuid + ":1-50"}, ErrServerChanged},
		{"mariadb ok", maria, offsets.Position{File: "mysql-bin.000001", Pos: 4, GTIDSet: "0-1-50"}, nil},
		{"mariadb other domain ok", maria, offsets.Position{File: "f.1", GTIDSet: "0-1-50,1-2-3"}, nil},
		{"mariadb purged", maria, offsets.Position{File: "f.1", GTIDSet: "0-1-5"}, ErrPositionNotFound},
		{"mariadb domain never seen is purged", maria, offsets.Position{File: "f.1", GTIDSet: "1-2-7"}, ErrPositionNotFound},
		{"mariadb reset master", maria, offsets.Position{File: "f.1", GTIDSet: "0-1-500"}, ErrServerChanged},
		{"mariadb unknown domain", maria, offsets.Position{File: "f.1", GTIDSet: "0-1-50,5-1-2"}, ErrServerChanged},
		{"file ok", files, offsets.Position{File: "mysql-bin.000004", Pos: 900}, nil},
		{"file purged", files, offsets.Position{File: "mysql-bin.000002", Pos: 4}, ErrPositionNotFound},
		{"file after last", files, offsets.Position{File: "mysql-bin.000009", Pos: 4}, ErrServerChanged},
		{"file past end", files, offsets.Position{File: "mysql-bin.000004", Pos: 901}, ErrServerChanged},
		{"file other base name", files, offsets.Position{File: "binlog.000004", Pos: 4}, ErrServerChanged},
		{"no binlogs", ServerState{Flavor: FlavorMySQL}, offsets.Position{File: "mysql-bin.000004", Pos: 4}, ErrServerChanged},
		{"zero position", files, offsets.Position{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.st.Check(tt.pos)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if tt.pos.File != "" && !strings.Contains(err.Error(), tt.pos.File) {
				t.Errorf("error does not name the stored position: %v", err)
			}
			if !strings.Contains(err.Error(), "rivulet offsets") {
				t.Errorf("error does not name a remedy: %v", err)
			}
		})
	}
}

// TestCheckStart_PurgedAndReset runs the checks against a live server:
// rotations and PURGE BINARY LOGS while stopped, then RESET MASTER.
func TestCheckStart_PurgedAndReset(t *testing.T) {
	srv := testenv.StartMariaDB(t)
	db := srv.Database(t)
	cfg := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 7001}
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	st, err := ReadServerState(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	stored := offsets.Position{File: st.Files[len(st.Files)-1], Pos: st.Sizes[len(st.Sizes)-1], GTIDSet: st.Executed}
	if err := CheckStart(t.Context(), cfg, stored); err != nil {
		t.Fatalf("CheckStart at the current position: %v", err)
	}
	fileOnly := offsets.Position{File: stored.File, Pos: stored.Pos}

	// Three rotations with changes, then purge everything before the last file.
	for i := 2; i <= 4; i++ {
		srv.Exec(t, db, "FLUSH BINARY LOGS", "INSERT INTO t VALUES ("+string(rune('0'+i))+")")
	}
	rows := srv.Query(t, "", "SHOW MASTER STATUS")
	purgeTo(t, srv, rows[0][0])
	for _, p := range []offsets.Position{stored, fileOnly} {
		err := CheckStart(t.Context(), cfg, p)
		if !errors.Is(err, ErrPositionNotFound) {
			t.Fatalf("CheckStart(%s) after PURGE = %v, want ErrPositionNotFound", p, err)
		}
		if !strings.Contains(err.Error(), rows[0][0]) {
			t.Errorf("error does not name the server's earliest file %s: %v", rows[0][0], err)
		}
		t.Logf("purged: %v", err)
	}
	st, err = ReadServerState(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	current := offsets.Position{File: st.Files[len(st.Files)-1], Pos: st.Sizes[len(st.Sizes)-1], GTIDSet: st.Executed}
	if err := CheckStart(t.Context(), cfg, current); err != nil {
		t.Fatalf("CheckStart at the current position after PURGE: %v", err)
	}

	srv.Exec(t, "", "RESET MASTER")
	srv.Exec(t, db, "INSERT INTO t VALUES (9)")
	err = CheckStart(t.Context(), cfg, current)
	if !errors.Is(err, ErrServerChanged) {
		t.Fatalf("CheckStart after RESET MASTER = %v, want ErrServerChanged", err)
	}
	t.Logf("reset: %v", err)
	if err := CheckStart(t.Context(), cfg, offsets.Position{File: current.File, Pos: current.Pos}); !errors.Is(err, ErrServerChanged) {
		t.Fatalf("CheckStart(file only) after RESET MASTER = %v, want ErrServerChanged", err)
	}
}

// purgeTo purges the binlogs before file. MariaDB keeps a file until InnoDB
// has checkpointed its transactions (Binlog_checkpoint), so it retries.
func purgeTo(t *testing.T, srv *testenv.Server, file string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		srv.Exec(t, "", "PURGE BINARY LOGS TO '"+file+"'")
		if logs := srv.Query(t, "", "SHOW BINARY LOGS"); logs[0][0] == file {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("binlogs before %s still there after 30s: %v", file, srv.Query(t, "", "SHOW BINARY LOGS"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestGTIDState_MissingNamesExactTransactions: the transactions a set
// lacks are named exactly (single GNOs without a range).
func TestGTIDState_MissingNamesExactTransactions(t *testing.T) {
	const u = "76f3e7be-6720-11ed-9cad-0242ac110002"
	for _, tt := range []struct{ have, want, missing string }{
		{u + ":1-10", u + ":1-13", u + ":11-13"},
		{u + ":1-12", u + ":1-13", u + ":13"},
		{u + ":1-3:5-9", u + ":1-13", u + ":4," + u + ":10-13"},
		{u + ":1-13", u + ":1-13", ""},
		{"", u + ":mytag:3", u + ":mytag:3"},
	} {
		have, err := parseGTIDState(tt.have, false)
		if err != nil {
			t.Fatal(err)
		}
		want, err := parseGTIDState(tt.want, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := have.missing(want); got != tt.missing {
			t.Errorf("%q lacks of %q: %q, want %q", tt.have, tt.want, got, tt.missing)
		}
	}
}
