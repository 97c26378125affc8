package engine

import (
	"testing"
)

func TestParseKafkaSignal(t *testing.T) {
	tests := []struct {
		in   string
		want Signal
		bad  bool
	}{
		{`{"type":"execute-snapshot","data":{"data-collections":["a.b"],"type":"INCREMENTAL"}}`,
			Signal{Type: "execute-snapshot", Data: `{"data-collections":["a.b"],"type":"INCREMENTAL"}`}, false},
		{`{"id":"x","type":"pause-snapshot"}`, Signal{ID: "x", Type: "pause-snapshot"}, false},
		{`{"type":"stop-snapshot","data":"{\"type\":\"incremental\"}"}`, Signal{Type: "stop-snapshot", Data: `{"type":"incremental"}`}, false},
		{`{"data":{}}`, Signal{}, true},
		{`not json`, Signal{}, true},
	}
	for _, tt := range tests {
		got, err := parseKafkaSignal([]byte(tt.in))
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("parseKafkaSignal(%s) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
