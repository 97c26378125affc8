package offsets

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
}

// IsZero reports whether p holds no position at all.
func (p Position) IsZero() bool { return p.File == "" && p.GTIDSet == "" }
