package binlog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestGTIDSourceFilter_Decision checks which transactions Config.GTIDSource
// ignores: the MySQL server UUID and MariaDB's "<domain>-<server>" are
// asked, anonymous GTIDs never are, and the GTID set still moves.
func TestGTIDSourceFilter_Decision(t *testing.T) {
	keep := "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	sid := func(s string) []byte {
		b := make([]byte, 16)
		hex := strings.ReplaceAll(s, "-", "")
		for i := range b {
			var v byte
			for _, c := range hex[2*i : 2*i+2] {
				v <<= 4
				switch {
				case c >= '0' && c <= '9':
					v |= byte(c - '0')
				default:
					v |= byte(c-'a') + 10
				}
			}
			b[i] = v
		}
		return b
	}
	var asked []string
	filter := func(src string) bool { asked = append(asked, src); return src == keep || src == "0-1" }
	tests := []struct {
		name    string
		mariadb bool
		ev      replication.Event
		ignored bool
	}{
		{"mysql kept", false, &replication.GTIDEvent{SID: sid(keep), GNO: 5}, false},
		{"mysql other source", false, &replication.GTIDEvent{SID: sid("aaaaaaaa-71ca-11e1-9e33-c80aa9429562"), GNO: 1}, true},
		{"mysql anonymous", false, &replication.GTIDEvent{SID: make([]byte, 16), GNO: 0}, false},
		{"mariadb domain 0", true, &replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 9}}, false},
		{"mariadb domain 2", true, &replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 2, ServerID: 1, SequenceNumber: 3}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{GTIDSource: filter}
			s := &stream{cfg: cfg, mariadb: tt.mariadb, track: true, obs: nopObserver{}}
			var err error
			if s.gtids, err = parseGTIDState("", tt.mariadb); err != nil {
				t.Fatal(err)
			}
			h := &replication.EventHeader{Timestamp: 1}
			if err := s.handle(context.Background(), &replication.BinlogEvent{Header: h, Event: tt.ev}, 4, 100, nil); err != nil {
				t.Fatal(err)
			}
			if s.tx.ignored != tt.ignored {
				t.Errorf("ignored = %v, want %v (asked %q)", s.tx.ignored, tt.ignored, asked)
			}
			// The commit moves the position and the GTID set either way.
			if err := s.handle(context.Background(), &replication.BinlogEvent{Header: h, Event: &replication.XIDEvent{}}, 100, 131, nil); err != nil {
				t.Fatal(err)
			}
			if s.pending == nil || s.pending.Pos != 131 {
				t.Fatalf("pending %+v after the commit", s.pending)
			}
			if anon := !tt.mariadb && tt.ev.(*replication.GTIDEvent).GNO == 0; !anon && s.pending.GTIDSet == "" {
				t.Errorf("GTID set did not move past the transaction: %+v", s.pending)
			}
		})
	}
}

// TestReader_GTIDDomainExcluded writes in two MariaDB GTID domains and
// excludes domain 2 with the "<domain>-<server>" form of
// gtid.source.excludes: its rows are not emitted, its GTID is in the
// handed-out set.
func TestReader_GTIDDomainExcluded(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	h.cfg.GTIDSource = func(src string) bool { return !strings.HasPrefix(src, "2-") }
	from := h.now()
	srv.Exec(t, db, "INSERT INTO t VALUES (1)")
	srv.Exec(t, db, "SET SESSION gtid_domain_id=2", "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)")
	srv.Exec(t, db, "INSERT INTO t VALUES (4)")
	rn := h.start(from)
	var got []string
	var last Batch
	timeout := time.After(60 * time.Second)
	for len(got) < 2 {
		select {
		case b := <-rn.out:
			for _, ev := range b.Events {
				got = append(got, show(ev.After[0]))
			}
			last = b
		case <-timeout:
			t.Fatalf("timed out with %v", got)
		}
	}
	if strings.Join(got, " ") != "int:1 int:4" {
		t.Errorf("emitted %v, want the rows of domain 0 only (1 and 4)", got)
	}
	if !strings.Contains(last.End.GTIDSet, "2-") {
		t.Errorf("GTID set %q does not cover domain 2's transactions", last.End.GTIDSet)
	}
}
