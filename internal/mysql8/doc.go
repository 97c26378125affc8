// Package mysql8 tests Rivulet on MySQL 8.0.22–9.6.0 binlog bytes written by
// real servers (binlog/testdata/mysql8, provenance in its README), which no
// test on this machine can produce: every file is read end to end through
// binlog.Reader.ReadArchive (the archived-binlog source, which feeds events
// to the same decoding as the server stream) and encoded into Debezium JSON
// envelopes, and every row is compared with go-mysql v1.16.0's generic row
// decoder, an independent reading of the same bytes.
package mysql8
