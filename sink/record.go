package sink

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record produced for a change event. Key is nil for a
// table without a primary key (and for truncates); Value is nil for a
// tombstone.
type Record struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
	// SMTHeaders counts the last Headers that a transform added
	// (ExtractNewRecordState add.headers): Kafka Connect puts Debezium's
	// context headers after the connector's own headers (a key change's)
	// and before those (seen by the differential suite).
	SMTHeaders int
}
