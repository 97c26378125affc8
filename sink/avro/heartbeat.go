package avro

import (
	"context"
	"encoding/binary"
	"fmt"
)

// The heartbeat topic's Avro schemas: AvroData of SchemaFactory's
// ServerNameKey {serverName} and Heartbeat {ts_ms}.
const (
	avroHeartbeatKeySchema = `{"type":"record","name":"ServerNameKey","namespace":"io.debezium.connector.common","fields":[` +
		`{"name":"serverName","type":"string"}],` +
		`"connect.version":1,"connect.name":"io.debezium.connector.common.ServerNameKey"}`
	avroHeartbeatValueSchema = `{"type":"record","name":"Heartbeat","namespace":"io.debezium.connector.common","fields":[` +
		`{"name":"ts_ms","type":"long"}],` +
		`"connect.version":1,"connect.name":"io.debezium.connector.common.Heartbeat"}`
)

// Heartbeat encodes a heartbeat record for topic in Avro, registering
// its schemas under <topic>-key and <topic>-value through reg (a Registry
// answers from its cache after the first call).
func Heartbeat(ctx context.Context, reg SchemaRegistrar, topic, serverName string, tsMs int64) (key, value []byte, err error) {
	keyID, err := reg.Register(ctx, topic+"-key", avroHeartbeatKeySchema)
	if err != nil {
		return nil, nil, fmt.Errorf("register key schema of %s: %w", topic, err)
	}
	valueID, err := reg.Register(ctx, topic+"-value", avroHeartbeatValueSchema)
	if err != nil {
		return nil, nil, fmt.Errorf("register value schema of %s: %w", topic, err)
	}
	kh, vh := wireHeader(keyID), wireHeader(valueID)
	key = appendAvroString(append([]byte(nil), kh[:]...), serverName)
	value = binary.AppendVarint(append([]byte(nil), vh[:]...), tsMs)
	return key, value, nil
}
