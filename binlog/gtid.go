package binlog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// gtidState tracks the GTIDs of all transactions done, in the server's own
// notation, so that a position can be handed out after every transaction
// without cloning go-mysql's GTID sets. MySQL's is a set of intervals per
// source uuid (and tag); MariaDB's is the last sequence number per replication
// domain, as @@gtid_binlog_pos prints it.
type gtidState struct {
	mariadb bool
	mysql   []mysqlSID // sorted by sid
	maria   []mariaGTID
	buf     []byte
}

type mysqlSID struct {
	sid string // lower-case uuid, or "uuid:tag" for tagged GTIDs
	ivs []gtidInterval
}

type gtidInterval struct{ first, last int64 } // inclusive

type mariaGTID struct {
	domain, server uint32
	seq            uint64
}

// parseGTIDState parses a GTID set as MySQL (uuid:1-5:7,uuid2:1-3) or MariaDB
// (0-1-100,1-2-7) prints it. Whitespace, including the newlines MySQL puts
// after commas, is ignored.
func parseGTIDState(s string, mariadb bool) (*gtidState, error) {
	g := &gtidState{mariadb: mariadb}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return g, nil
	}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		if mariadb {
			f := strings.Split(part, "-")
			if len(f) != 3 {
				return nil, fmt.Errorf("%w: MariaDB GTID %q is not domain-server-sequence", ErrConfig, part)
			}
			d, err1 := strconv.ParseUint(f[0], 10, 32)
			sv, err2 := strconv.ParseUint(f[1], 10, 32)
			seq, err3 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return nil, fmt.Errorf("%w: MariaDB GTID %q is not domain-server-sequence", ErrConfig, part)
			}
			g.addMaria(uint32(d), uint32(sv), seq)
			continue
		}
		f := strings.Split(part, ":")
		if len(f) < 2 {
			return nil, fmt.Errorf("%w: MySQL GTID set element %q has no intervals", ErrConfig, part)
		}
		uuid := strings.ToLower(f[0])
		if len(uuid) != 36 {
			return nil, fmt.Errorf("%w: MySQL GTID set element %q does not start with a uuid", ErrConfig, part)
		}
		sid := uuid
		for _, iv := range f[1:] {
			if iv == "" {
				return nil, fmt.Errorf("%w: empty interval in MySQL GTID set element %q", ErrConfig, part)
			}
			if c := iv[0]; c < '0' || c > '9' {
				sid = uuid + ":" + strings.ToLower(iv) // a tag applies to the intervals after it
				continue
			}
			a, b, isRange := strings.Cut(iv, "-")
			first, err := strconv.ParseInt(a, 10, 64)
			if err != nil || first < 1 {
				return nil, fmt.Errorf("%w: bad interval %q in MySQL GTID set", ErrConfig, iv)
			}
			last := first
			if isRange {
				if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
					return nil, fmt.Errorf("%w: bad interval %q in MySQL GTID set", ErrConfig, iv)
				}
			}
			g.addInterval(sid, gtidInterval{first, last})
		}
	}
	return g, nil
}

func (g *gtidState) addMaria(domain, server uint32, seq uint64) {
	for i := range g.maria {
		if g.maria[i].domain == domain {
			g.maria[i].server, g.maria[i].seq = server, seq
			return
		}
	}
	g.maria = append(g.maria, mariaGTID{domain, server, seq})
	sort.Slice(g.maria, func(i, j int) bool { return g.maria[i].domain < g.maria[j].domain })
}

// addMySQL adds one transaction sid:gno.
func (g *gtidState) addMySQL(sid string, gno int64) {
	g.addInterval(sid, gtidInterval{gno, gno})
}

func (g *gtidState) addInterval(sid string, iv gtidInterval) {
	i := sort.Search(len(g.mysql), func(i int) bool { return g.mysql[i].sid >= sid })
	if i == len(g.mysql) || g.mysql[i].sid != sid {
		g.mysql = append(g.mysql, mysqlSID{})
		copy(g.mysql[i+1:], g.mysql[i:])
		g.mysql[i] = mysqlSID{sid: sid}
	}
	e := &g.mysql[i]
	// Fast path: extends the last interval (the common case, GTIDs in order).
	if n := len(e.ivs); n > 0 && iv.first >= e.ivs[n-1].first {
		last := &e.ivs[n-1]
		if iv.first <= last.last+1 {
			if iv.last > last.last {
				last.last = iv.last
			}
			return
		}
		e.ivs = append(e.ivs, iv)
		return
	}
	e.ivs = append(e.ivs, iv)
	sort.Slice(e.ivs, func(a, b int) bool { return e.ivs[a].first < e.ivs[b].first })
	merged := e.ivs[:1]
	for _, x := range e.ivs[1:] {
		l := &merged[len(merged)-1]
		if x.first <= l.last+1 {
			if x.last > l.last {
				l.last = x.last
			}
			continue
		}
		merged = append(merged, x)
	}
	e.ivs = merged
}

// String prints the set in the server's notation.
func (g *gtidState) String() string {
	b := g.buf[:0]
	if g.mariadb {
		for i, m := range g.maria {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(m.domain), 10)
			b = append(b, '-')
			b = strconv.AppendUint(b, uint64(m.server), 10)
			b = append(b, '-')
			b = strconv.AppendUint(b, m.seq, 10)
		}
	} else {
		prevUUID := ""
		for _, e := range g.mysql {
			uuid, tag, _ := strings.Cut(e.sid, ":")
			if uuid != prevUUID {
				if prevUUID != "" {
					b = append(b, ',')
				}
				b = append(b, uuid...)
				prevUUID = uuid
			}
			if tag != "" {
				b = append(b, ':')
				b = append(b, tag...)
			}
			for _, iv := range e.ivs {
				b = append(b, ':')
				b = strconv.AppendInt(b, iv.first, 10)
				if iv.last != iv.first {
					b = append(b, '-')
					b = strconv.AppendInt(b, iv.last, 10)
				}
			}
		}
	}
	g.buf = b
	return string(b)
}

// sidString formats a 16-byte MySQL source id as a lower-case uuid.
func sidString(sid []byte) string {
	if len(sid) != 16 {
		return ""
	}
	return uuid.UUID(sid).String()
}
