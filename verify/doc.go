// Package verify compares captured tables with the state their Kafka topics
// imply: per key, the last record wins; a delete or a tombstone removes the
// key; snapshot reads and streamed changes count alike.
//
// Neither side is held in memory. The table is read in key-ordered chunks
// by the snapshot package's lock-free reader (plain SELECTs between binlog
// watermarks); each row is encoded as a snapshot read with the sink's own
// encoder, so the database side is in exactly the bytes Rivulet would
// write, masks, column filters and message.key.columns included. Both sides
// are reduced to (key, after-image) by one Codec and spread by a hash of the
// key over P partition files on local disk. Per partition, the database
// side keeps an order-independent checksum while it is written; the topic
// side is compacted (last record per key) one partition at a time and
// checksummed the same way. Only a partition whose checksums differ is
// read back on both sides and compared key by key, so memory is bounded by
// one partition (about the snapshot chunk size in keys).
//
// A live database keeps changing while it is read. Before the topic is
// read, verify waits until the running instance has acknowledged every
// change up to the last chunk's high watermark, so the topic is at least as
// new as every row read. Keys that still differ are candidates: they are
// read again by key (new watermarks), the topic is read on from where it
// ended once the instance passed the new watermark, and a candidate whose
// two sides now agree was only a change in flight. What still differs
// after the last round is reported, apart from keys the stream changed in
// that round (reported as changing, not judged).
//
// Records are keyed by the table's record key (message.key.columns when
// set); a masked column is compared masked, since the database side is
// encoded with the same masks; excluded columns are in neither side.
//
// verify imports schema, snapshot, sink, event and offsets. Main types:
// Config, Codec (JSONCodec for Kafka Connect JSON with or without schemas
// and flattened rows, AvroCodec for Confluent's Avro wire format), Result;
// Run does the work; Result.RepairCondition renders the keys to re-send as
// one SQL condition for an incremental snapshot (the signal's
// additional-conditions).
package verify
