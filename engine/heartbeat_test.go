package engine

import (
	"encoding/json"
	"testing"
)

func TestHeartbeatRecords(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"key plain", heartbeatKey("dbserver1", false), `{"serverName":"dbserver1"}`},
		{"value plain", heartbeatValue(1700000000123, false), `{"ts_ms":1700000000123}`},
		{"key schema", heartbeatKey("dbserver1", true), `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"dbserver1"}}`},
		{"value schema", heartbeatValue(1, true), `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":{"ts_ms":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
			if !json.Valid(tt.got) {
				t.Errorf("not JSON: %s", tt.got)
			}
		})
	}
}
