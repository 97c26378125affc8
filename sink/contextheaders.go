package sink

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// ContextHeaders returns the headers Debezium 3.2+ puts on every change
// event record when extended.headers.enabled is true (its default):
// DebeziumHeaderProducer.contextHeaders, string values written by Connect's
// SimpleHeaderConverter as their UTF-8 bytes. logicalName is topic.prefix;
// Rivulet is one task, "0", as a Debezium MySQL connector always is. runID
// identifies this run of the connector (Debezium 3.6: a UUIDv7 drawn when
// the task starts, CdcSourceTaskContext.runId); see NewRunID.
func ContextHeaders(c Connector, logicalName, runID string) []Header {
	return []Header{
		{Key: "__debezium.context.connectorLogicalName", Value: []byte(logicalName)},
		{Key: "__debezium.context.taskId", Value: []byte("0")},
		{Key: "__debezium.context.connectorName", Value: []byte(c.String())},
		{Key: "__debezium.context.runId", Value: []byte(runID)},
	}
}

// NewRunID returns a new UUIDv7 (RFC 9562) for now in its text form, as
// Debezium's UUIDUtils.generateNewUUID draws the run id: 48 bits of Unix
// milliseconds, version 7, 12 random bits, variant 10, 62 random bits.
func NewRunID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails (Go 1.24+)
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16|uint64(b[6]&0x0f)<<8|uint64(b[7])|0x7000)
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}
