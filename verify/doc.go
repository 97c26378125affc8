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
// verify imports schema, snapshot, sink, event and offsets. Main types:
// Config, Codec (JSONCodec), Result; Run does the work; RepairConditions
// renders the differing keys as SQL conditions for an incremental snapshot.
package verify
