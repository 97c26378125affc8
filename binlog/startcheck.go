package binlog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// ErrServerChanged matches a start refused because the server does not hold
// the stored position's history: it was reset (RESET MASTER), restored from
// a backup, replaced, or is a replica that has not caught up. Reading it from
// its start would repeat or skip changes silently.
var ErrServerChanged = errors.New("server does not hold the stored position")

// ServerState is what CheckStart learns about a server's binlogs.
type ServerState struct {
	Flavor   string   // FlavorMySQL or FlavorMariaDB
	Files    []string // SHOW BINARY LOGS, oldest first
	Sizes    []uint64 // file sizes, as Files
	GTIDMode bool     // MySQL gtid_mode=ON; always true on MariaDB
	// Executed is MySQL's gtid_executed, or MariaDB's gtid_binlog_pos
	// (the last GTID per domain in the binlogs).
	Executed string
	// Purged is MySQL's gtid_purged, or on MariaDB the GTID list at the
	// start of the oldest binlog (the state before its first transaction).
	Purged   string
	ServerID string // @@server_id
	UUID     string // @@server_uuid (MySQL)
}

// Earliest names the oldest position the server can still stream from.
func (s ServerState) Earliest() string {
	if len(s.Files) == 0 {
		return "no binlog files"
	}
	e := s.Files[0] + ":4"
	if s.Purged != "" {
		e += " (gtids purged before it: " + s.Purged + ")"
	}
	return e
}

// ReadServerState connects with c and reads the binlog state.
func ReadServerState(ctx context.Context, c PreflightConfig) (ServerState, error) {
	var st ServerState
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	conn, err := preflightDial(ctx, c.connector(addr))
	if err != nil {
		return st, mapServerError(fmt.Errorf("connect to %s: %w", addr, err), "")
	}
	defer conn.close()
	one := func(q string) (string, error) {
		rows, err := conn.query(ctx, q)
		if err != nil {
			return "", mapServerError(fmt.Errorf("%s: %w", q, err), "")
		}
		if len(rows) == 0 || len(rows[0]) == 0 {
			return "", nil
		}
		return rows[0][0], nil
	}
	v, err := one("SELECT VERSION()")
	if err != nil {
		return st, err
	}
	st.Flavor = FlavorMySQL
	if strings.Contains(strings.ToLower(v), "mariadb") {
		st.Flavor = FlavorMariaDB
	}
	rows, err := conn.query(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return st, mapServerError(fmt.Errorf("list binlog files (SHOW BINARY LOGS): %w", err), "")
	}
	for _, r := range rows {
		if len(r) < 2 {
			continue
		}
		n, _ := strconv.ParseUint(r[1], 10, 64)
		st.Files = append(st.Files, r[0])
		st.Sizes = append(st.Sizes, n)
	}
	// SHOW BINARY LOGS may report a stale size for the file being written:
	// the current end comes from the master status.
	ms, err := conn.query(ctx, "SHOW MASTER STATUS")
	if err != nil && st.Flavor == FlavorMySQL {
		ms, err = conn.query(ctx, "SHOW BINARY LOG STATUS") // MySQL 8.4 dropped the old name
	}
	if err == nil && len(ms) > 0 && len(ms[0]) > 1 && len(st.Files) > 0 && ms[0][0] == st.Files[len(st.Files)-1] {
		if n, err := strconv.ParseUint(ms[0][1], 10, 64); err == nil {
			st.Sizes[len(st.Sizes)-1] = n
		}
	}
	if st.ServerID, err = one("SELECT @@GLOBAL.server_id"); err != nil {
		return st, err
	}
	if st.Flavor == FlavorMariaDB {
		st.GTIDMode = true
		if st.Executed, err = one("SELECT @@GLOBAL.gtid_binlog_pos"); err != nil {
			return st, err
		}
		if len(st.Files) > 0 {
			// The Gtid_list event at the start of the oldest file holds the
			// last GTID per domain before it: anything at or below is purged.
			ev, err := conn.query(ctx, "SHOW BINLOG EVENTS IN '"+strings.ReplaceAll(st.Files[0], "'", "''")+"' LIMIT 4")
			if err != nil {
				return st, mapServerError(fmt.Errorf("read the GTID list of %s: %w", st.Files[0], err), "")
			}
			for _, r := range ev {
				if len(r) >= 6 && r[2] == "Gtid_list" {
					st.Purged = strings.Trim(strings.TrimSpace(r[5]), "[]")
				}
			}
		}
		return st, nil
	}
	if m, err := one("SELECT @@GLOBAL.gtid_mode"); err == nil && strings.EqualFold(m, "ON") {
		st.GTIDMode = true
	}
	st.UUID, _ = one("SELECT @@GLOBAL.server_uuid")
	if st.GTIDMode {
		if st.Executed, err = one("SELECT @@GLOBAL.gtid_executed"); err != nil {
			return st, err
		}
		if st.Purged, err = one("SELECT @@GLOBAL.gtid_purged"); err != nil {
			return st, err
		}
		st.Executed = strings.ReplaceAll(st.Executed, "\n", "")
		st.Purged = strings.ReplaceAll(st.Purged, "\n", "")
	}
	return st, nil
}

// CheckStart verifies, before streaming, that the server can continue from
// the stored position pos exactly: nothing it needs was purged, and the
// server is the one (or a replica of the one) the position was taken on.
// It returns an *Error wrapping ErrPositionNotFound (purged) or
// ErrServerChanged (reset, replaced, or behind), naming the stored position,
// the server's earliest and the remedies. A zero pos passes.
func CheckStart(ctx context.Context, c PreflightConfig, pos offsets.Position) error {
	if pos.IsZero() {
		return nil
	}
	st, err := ReadServerState(ctx, c)
	if err != nil {
		return err
	}
	return st.Check(pos)
}

const purgedHint = "the binlogs the stored position needs were purged (raise binlog_expire_logs_seconds / expire_logs_days so this cannot recur); " +
	"to recover, take a new snapshot: run `rivulet offsets reset --config ...` and restart (snapshot.mode=initial re-reads every table), " +
	"or, accepting the loss of the purged changes, `rivulet offsets set --config ... --file <earliest> --pos 4`"

const changedHint = "if the connector was pointed at a new server on purpose and the change history is lost, reset the offsets " +
	"(`rivulet offsets reset --config ...`) to take a new snapshot; if this is a replica that is still catching up, wait and restart; " +
	"otherwise point database.hostname back at the server the offsets came from"

// Check is CheckStart's decision for a server state already read.
func (st ServerState) Check(pos offsets.Position) error {
	mariadb := st.Flavor == FlavorMariaDB
	stored := posString(pos)
	if pos.GTIDSet != "" && st.GTIDMode {
		have, err := parseGTIDState(pos.GTIDSet, mariadb)
		if err != nil {
			return &Error{Kind: ErrConfig, Msg: "the stored position " + stored + " has a GTID set this " + st.Flavor + " server cannot read", Err: err,
				Hint: "check connector.class (MySQL and MariaDB GTIDs differ), or set the position with `rivulet offsets set`"}
		}
		exec, err := parseGTIDState(st.Executed, mariadb)
		if err != nil {
			return fmt.Errorf("parse the server's executed GTIDs %q: %w", st.Executed, err)
		}
		if missing := exec.missing(have); missing != "" {
			return &Error{Kind: ErrServerChanged,
				Msg: fmt.Sprintf("the server has not executed transactions the stored position %s contains (%s; server has %s, server_id %s)",
					stored, missing, orNone(st.Executed), st.ServerID),
				Hint: changedHint}
		}
		if st.Purged != "" {
			purged, err := parseGTIDState(st.Purged, mariadb)
			if err != nil {
				return fmt.Errorf("parse the server's purged GTIDs %q: %w", st.Purged, err)
			}
			if lost := have.missingPurged(purged); lost != "" {
				return &Error{Kind: ErrPositionNotFound,
					Msg: fmt.Sprintf("the stored position %s is older than the server's binlogs: transactions up to %s were purged; the server's earliest is %s",
						stored, lost, st.Earliest()),
					Hint: purgedHint}
			}
		}
		return nil
	}
	if pos.File == "" {
		return nil
	}
	if len(st.Files) == 0 {
		return &Error{Kind: ErrServerChanged, Msg: "the server has no binlog files but the stored position is " + stored, Hint: changedHint}
	}
	base, num, ok := splitBinlogName(pos.File)
	fbase, first, fok := splitBinlogName(st.Files[0])
	_, last, lok := splitBinlogName(st.Files[len(st.Files)-1])
	if !ok || !fok || !lok || base != fbase {
		for i, f := range st.Files {
			if f == pos.File {
				if pos.Pos > st.Sizes[i] {
					break
				}
				return nil
			}
		}
		return &Error{Kind: ErrServerChanged,
			Msg: fmt.Sprintf("the stored binlog file of %s is not on the server (files %s to %s); a position without GTIDs belongs to one server and cannot move to a replica or a new primary (enable GTIDs: gtid_mode=ON on MySQL)",
				stored, st.Files[0], st.Files[len(st.Files)-1]),
			Hint: changedHint}
	}
	switch {
	case num < first:
		return &Error{Kind: ErrPositionNotFound,
			Msg:  fmt.Sprintf("the stored position %s is older than the server's binlogs: the server's earliest is %s", stored, st.Earliest()),
			Hint: purgedHint}
	case num > last:
		return &Error{Kind: ErrServerChanged,
			Msg: fmt.Sprintf("the stored position %s is after the server's last binlog %s: the server was reset or replaced (server_id %s)",
				stored, st.Files[len(st.Files)-1], st.ServerID),
			Hint: changedHint}
	}
	for i, f := range st.Files {
		if f == pos.File && pos.Pos > st.Sizes[i] {
			return &Error{Kind: ErrServerChanged,
				Msg: fmt.Sprintf("the stored position %s is after the end of %s (%d bytes): the server was reset or replaced (server_id %s)",
					stored, f, st.Sizes[i], st.ServerID),
				Hint: changedHint}
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// splitBinlogName splits "mysql-bin.000123" into "mysql-bin" and 123.
func splitBinlogName(f string) (string, uint64, bool) {
	i := strings.LastIndexByte(f, '.')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(f[i+1:], 10, 64)
	return f[:i], n, err == nil
}

// missing lists the GTIDs of o that g (the server's executed set) lacks,
// "" when g contains o. MariaDB states compare per domain: the server must
// have reached o's sequence number in every domain o has.
func (g *gtidState) missing(o *gtidState) string {
	var out []string
	if g.mariadb {
		for _, m := range o.maria {
			found := false
			for _, s := range g.maria {
				if s.domain == m.domain && s.seq >= m.seq {
					found = true
				}
			}
			if !found && m.seq > 0 {
				out = append(out, fmt.Sprintf("%d-%d-%d", m.domain, m.server, m.seq))
			}
		}
		return strings.Join(out, ",")
	}
	for _, e := range o.mysql {
		var have []gtidInterval
		for _, s := range g.mysql {
			if s.sid == e.sid {
				have = s.ivs
			}
		}
		for _, iv := range e.ivs {
			// Name exactly the transactions g lacks, not the whole interval.
			for _, m := range subtract(iv, have) {
				if m.first == m.last {
					out = append(out, fmt.Sprintf("%s:%d", e.sid, m.first))
				} else {
					out = append(out, fmt.Sprintf("%s:%d-%d", e.sid, m.first, m.last))
				}
			}
		}
	}
	return strings.Join(out, ",")
}

// missingPurged lists purged transactions (in p) that g, the stored set,
// never saw: they are gone from the server and were not delivered.
func (g *gtidState) missingPurged(p *gtidState) string {
	if g.mariadb {
		var out []string
		for _, m := range p.maria {
			seen := false
			for _, s := range g.maria {
				if s.domain == m.domain && s.seq >= m.seq {
					seen = true
				}
			}
			if !seen {
				out = append(out, fmt.Sprintf("%d-%d-%d", m.domain, m.server, m.seq))
			}
		}
		return strings.Join(out, ",")
	}
	return g.missing(p)
}

// subtract returns the parts of iv that no interval of have covers.
func subtract(iv gtidInterval, have []gtidInterval) []gtidInterval {
	hs := slices.Clone(have)
	slices.SortFunc(hs, func(a, b gtidInterval) int { return cmp.Compare(a.first, b.first) })
	var out []gtidInterval
	cur := iv.first
	for _, h := range hs {
		if h.last < cur || h.first > iv.last {
			continue
		}
		if h.first > cur {
			out = append(out, gtidInterval{cur, h.first - 1})
		}
		cur = max(cur, h.last+1)
		if cur > iv.last {
			return out
		}
	}
	return append(out, gtidInterval{cur, iv.last})
}
