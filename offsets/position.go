package offsets

import "strconv"

// Position is a restart point in the binlog, in Debezium's offset terms
// (DEBEZIUM-REFERENCE §4.2): File/Pos is where to reconnect (the BEGIN of an
// in-flight transaction, or the end of the last committed one); GTIDSet, when
// set, holds the transactions fully done and takes precedence over File/Pos;
// Event counts rows events of the in-flight transaction already emitted, Row the
// rows of the next rows event already emitted: both are skipped on restart.
type Position struct {
	File     string
	Pos      uint64
	GTIDSet  string
	ServerID uint32
	Event    int64
	Row      int32
	TsSec    int64
	Snapshot string // "INITIAL" while a snapshot runs, "" otherwise
	// SnapshotProgress is Rivulet's resume point inside a running snapshot
	// (which tables are done, the last finished chunk's key), opaque to this
	// package: snapshot.Progress encodes it. It is stored in the offset value
	// under "rivulet_snapshot", a key Debezium does not read (a Debezium
	// connector given this offset sees snapshot=INITIAL and snapshots again).
	SnapshotProgress string
	// Incremental is the state of a running ad-hoc incremental snapshot
	// (asked for by a signal): opaque to this package, stored under
	// "rivulet_incremental", a key Debezium does not read.
	Incremental string
}

// IsZero reports whether p holds no position at all.
func (p Position) IsZero() bool { return p.File == "" && p.GTIDSet == "" }

// String renders p for logs: "mysql-bin.000003:1547 gtids=<set> event=2
// row=1 snapshot=INITIAL", omitting zero parts; "none" when p is zero.
func (p Position) String() string {
	if p.IsZero() {
		return "none"
	}
	b := make([]byte, 0, 48+len(p.File)+len(p.GTIDSet))
	if p.File != "" {
		b = append(b, p.File...)
		b = append(b, ':')
		b = strconv.AppendUint(b, p.Pos, 10)
	}
	if p.GTIDSet != "" {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, "gtids="...)
		b = append(b, p.GTIDSet...)
	}
	if p.Event != 0 {
		b = append(b, " event="...)
		b = strconv.AppendInt(b, p.Event, 10)
	}
	if p.Row != 0 {
		b = append(b, " row="...)
		b = strconv.AppendInt(b, int64(p.Row), 10)
	}
	if p.Snapshot != "" {
		b = append(b, " snapshot="...)
		b = append(b, p.Snapshot...)
	}
	if p.SnapshotProgress != "" {
		b = append(b, " progress="...)
		b = append(b, p.SnapshotProgress...)
	}
	if p.Incremental != "" {
		b = append(b, " incremental="...)
		b = append(b, p.Incremental...)
	}
	return string(b)
}
