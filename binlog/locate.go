package binlog

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// Group is one transaction or standalone statement (an event group, as
// sql_slave_skip_counter counts them) found by SkipGroups.
type Group struct {
	File  string // where the group starts
	Pos   uint64
	End   uint64 // position after its last event, in the file it ends in
	GTID  string // "" without GTIDs
	TsSec int64
	What  string // "DDL: <statement>" or "transaction (N rows events)"
}

// scanner walks a server's binlog as a replica, from a position to the end
// the server had when the scan began, tracking event groups and GTIDs.
type scanner struct {
	cfg     PreflightConfig
	st      ServerState
	mariadb bool
}

func newScanner(ctx context.Context, c PreflightConfig) (*scanner, error) {
	st, err := ReadServerState(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(st.Files) == 0 {
		return nil, &Error{Kind: ErrUnsupported, Msg: "the server has no binary log", Hint: "enable log_bin"}
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.ServerID == 0 {
		c.ServerID = 5400 + rand.Uint32N(1000)
	}
	return &scanner{cfg: c, st: st, mariadb: st.Flavor == FlavorMariaDB}, nil
}

// end is the last position the scan reads to.
func (s *scanner) end() (string, uint64) {
	n := len(s.st.Files) - 1
	return s.st.Files[n], s.st.Sizes[n]
}

// event is one event handed to a scan callback.
type scanEvent struct {
	ev          *replication.BinlogEvent
	file        string
	start, next uint64
}

// scan streams from file:pos and calls fn for every event until fn returns
// true or the end position is reached.
func (s *scanner) scan(ctx context.Context, file string, pos uint64, fn func(e scanEvent) (bool, error)) error {
	endFile, endPos := s.end()
	if file == endFile && pos >= endPos {
		return nil
	}
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	user, password, tlsConfig, err := s.cfg.connector(addr).Replication(ctx)
	if err != nil {
		return mapServerError(fmt.Errorf("connect to %s: %w", addr, err), "")
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: s.cfg.ServerID, Flavor: s.st.Flavor,
		Host: s.cfg.Host, Port: uint16(s.cfg.Port), User: user, Password: password, TLSConfig: tlsConfig,
		Localhost: "rivulet-offsets", HeartbeatPeriod: time.Second, ReadTimeout: 30 * time.Second,
		DisableRetrySync: true, DiscardGTIDSet: true, FillZeroLogPos: s.mariadb,
		Logger:              slog.New(slog.DiscardHandler),
		RowsEventDecodeFunc: func(*replication.RowsEvent, []byte) error { return nil },
		Dialer: func(dctx context.Context, network, address string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(dctx, network, address)
		},
	})
	defer syncer.Close()
	st, err := syncer.StartSync(mysql.Position{Name: file, Pos: uint32(pos)})
	if err != nil {
		return mapServerError(fmt.Errorf("read the binlog from %s:%d: %w", file, pos, err), file+":"+strconv.FormatUint(pos, 10))
	}
	cur := file
	for {
		ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
		ev, err := st.GetEvent(ectx)
		cancel()
		if err != nil {
			return mapServerError(fmt.Errorf("read the binlog at %s: %w", cur, err), cur)
		}
		h := ev.Header
		if r, ok := ev.Event.(*replication.RotateEvent); ok {
			cur = string(r.NextLogName)
			continue
		}
		if _, ok := ev.Event.(*replication.HeartbeatEvent); ok {
			if cur == endFile {
				return nil // idle at the end
			}
			continue
		}
		next := uint64(h.LogPos)
		start := next - uint64(h.EventSize)
		if next < uint64(h.EventSize) {
			start = next
		}
		// The format description (and MariaDB's fake Gtid_list) sent when
		// starting mid-file carry no position of their own.
		_, fde := ev.Event.(*replication.FormatDescriptionEvent)
		fake := fde || h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 || h.LogPos == 0
		if fake && !fde {
			continue
		}
		stop, err := fn(scanEvent{ev: ev, file: cur, start: start, next: next})
		if err != nil || stop {
			return err
		}
		if !fake && cur == endFile && next >= endPos {
			return nil
		}
	}
}

// groupTracker follows event groups and the GTID state in a scan.
type groupTracker struct {
	mariadb bool
	gtids   *gtidState
	track   bool // the GTID state is known
	open    bool
	g       Group
	rows    int
	sid     string
	gno     int64
	maria   mariaGTID
	hasM    bool
}

// feed processes one event; it returns the group that ended with it, if any,
// and whether a group began with it.
func (t *groupTracker) feed(e scanEvent) (ended *Group, began bool) {
	h := e.ev.Header
	beginAt := func() {
		if !t.open {
			t.open, began = true, true
			t.g = Group{File: e.file, Pos: e.start, TsSec: int64(h.Timestamp)}
			t.rows = 0
		}
	}
	end := func(what string) {
		beginAt()
		if t.track {
			switch {
			case t.hasM:
				t.gtids.addMaria(t.maria.domain, t.maria.server, t.maria.seq)
			case t.sid != "":
				t.gtids.addMySQL(t.sid, t.gno)
			}
		}
		g := t.g
		g.End = e.next
		if what == "" {
			what = fmt.Sprintf("transaction (%d rows events)", t.rows)
		}
		g.What = what
		ended = &g
		t.open, t.hasM, t.sid = false, false, ""
	}
	switch ev := e.ev.Event.(type) {
	case *replication.PreviousGTIDsEvent:
		if !t.mariadb && ev.GTIDSets != "" {
			if g, err := parseGTIDState(ev.GTIDSets, false); err == nil {
				t.gtids, t.track = g, true
			}
		}
	case *replication.MariadbGTIDListEvent:
		if t.mariadb && t.gtids == nil {
			g := &gtidState{mariadb: true}
			for _, x := range ev.GTIDs {
				g.addMaria(x.DomainID, x.ServerID, x.SequenceNumber)
			}
			t.gtids, t.track = g, true
		}
	case *replication.GTIDEvent:
		t.open = false
		beginAt()
		if ev.GNO > 0 {
			t.sid, t.gno = sidString(ev.SID), ev.GNO
			t.g.GTID = t.sid + ":" + strconv.FormatInt(ev.GNO, 10)
		}
	case *replication.MariadbGTIDEvent:
		t.open = false
		beginAt()
		t.hasM = true
		t.maria = mariaGTID{domain: ev.GTID.DomainID, server: ev.GTID.ServerID, seq: ev.GTID.SequenceNumber}
		t.g.GTID = fmt.Sprintf("%d-%d-%d", ev.GTID.DomainID, ev.GTID.ServerID, ev.GTID.SequenceNumber)
		if ev.IsStandalone() {
			t.g.What = "standalone"
		}
	case *replication.QueryEvent:
		switch classify(ev.Query) {
		case stmtBegin:
			beginAt()
		case stmtCommit, stmtRollback, stmtXAStandalone:
			end("")
		case stmtDDL, stmtDML:
			if t.open && t.g.What != "standalone" && (t.hasM || t.sid != "" || t.rows > 0) && !t.isStandaloneMySQL() {
				return nil, began // DDL inside a transaction group (CREATE TABLE ... SELECT)
			}
			q := strings.Join(strings.Fields(string(ev.Query)), " ")
			if len(q) > 120 {
				q = q[:120] + "..."
			}
			end("statement: " + q)
		}
	case *replication.XIDEvent:
		end("")
	case *replication.TableMapEvent:
		beginAt()
	case *replication.RowsEvent:
		beginAt()
		t.rows++
	}
	return ended, began
}

// isStandaloneMySQL: a MySQL GTID group whose first statement is not BEGIN
// is a single statement (DDL).
func (t *groupTracker) isStandaloneMySQL() bool { return !t.mariadb && t.rows == 0 }

// PositionAt returns the position of the first transaction the server
// committed at or after t, found by reading binlog event timestamps: the
// oldest binlog file that starts at or before t is read forward. When no
// transaction is that late, it is the current end of the binlog; when t is
// before the oldest binlog, it is the oldest transaction available (the
// changes before it were purged). With GTIDs, the position carries the GTID
// state there.
func PositionAt(ctx context.Context, c PreflightConfig, at time.Time) (offsets.Position, error) {
	s, err := newScanner(ctx, c)
	if err != nil {
		return offsets.Position{}, err
	}
	want := at.Unix()
	start := 0
	for i := len(s.st.Files) - 1; i >= 0; i-- {
		var ts int64
		err := s.scan(ctx, s.st.Files[i], 4, func(e scanEvent) (bool, error) {
			if _, ok := e.ev.Event.(*replication.FormatDescriptionEvent); ok && e.ev.Header.Timestamp != 0 {
				ts = int64(e.ev.Header.Timestamp)
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			return offsets.Position{}, err
		}
		if ts != 0 && ts <= want {
			start = i
			break
		}
	}
	t := &groupTracker{mariadb: s.mariadb}
	var found *offsets.Position
	var stateAtStart string
	err = s.scan(ctx, s.st.Files[start], 4, func(e scanEvent) (bool, error) {
		if t.track {
			stateAtStart = t.gtids.String()
		}
		_, began := t.feed(e)
		if began && int64(e.ev.Header.Timestamp) >= want {
			p := offsets.Position{File: e.file, Pos: e.start, TsSec: int64(e.ev.Header.Timestamp)}
			if t.track {
				p.GTIDSet = stateAtStart
			}
			found = &p
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return offsets.Position{}, err
	}
	if found != nil {
		return *found, nil
	}
	f, p := s.end()
	out := offsets.Position{File: f, Pos: p}
	if t.track {
		out.GTIDSet = t.gtids.String()
	}
	return out, nil
}

// SkipGroups returns the position after the next n event groups
// (transactions or standalone statements such as DDL) from pos, and the
// groups skipped. A position inside a transaction (Event or Row set) counts
// that transaction as the first. GTID sets are carried forward so the
// skipped transactions count as done.
func SkipGroups(ctx context.Context, c PreflightConfig, pos offsets.Position, n int) (offsets.Position, []Group, error) {
	if n <= 0 {
		return pos, nil, nil
	}
	s, err := newScanner(ctx, c)
	if err != nil {
		return pos, nil, err
	}
	if pos.File == "" {
		return pos, nil, &Error{Kind: ErrConfig, Msg: "the stored position " + posString(pos) + " has no binlog file to skip from"}
	}
	t := &groupTracker{mariadb: s.mariadb}
	if pos.GTIDSet != "" {
		g, err := parseGTIDState(pos.GTIDSet, s.mariadb)
		if err != nil {
			return pos, nil, &Error{Kind: ErrConfig, Msg: "parse the GTID set of " + posString(pos), Err: err}
		}
		t.gtids, t.track = g, true
	} else if s.mariadb {
		t.gtids, t.track = &gtidState{mariadb: true}, false
	}
	track := t.track
	var skipped []Group
	var out offsets.Position
	err = s.scan(ctx, pos.File, pos.Pos, func(e scanEvent) (bool, error) {
		if !track {
			// Do not adopt the file's GTID list: the stored position has no GTIDs.
			switch e.ev.Event.(type) {
			case *replication.PreviousGTIDsEvent, *replication.MariadbGTIDListEvent:
				return false, nil
			}
		}
		g, _ := t.feed(e)
		if g == nil {
			return false, nil
		}
		skipped = append(skipped, *g)
		if len(skipped) == n {
			out = offsets.Position{File: e.file, Pos: e.next, ServerID: e.ev.Header.ServerID, TsSec: int64(e.ev.Header.Timestamp)}
			if track {
				out.GTIDSet = t.gtids.String()
			}
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return pos, skipped, err
	}
	if len(skipped) < n {
		return pos, skipped, &Error{Kind: ErrConfig,
			Msg: fmt.Sprintf("only %d event groups follow the stored position %s; cannot skip %d", len(skipped), posString(pos), n)}
	}
	return out, skipped, nil
}
