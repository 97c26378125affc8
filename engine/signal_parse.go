package engine

import (
	"encoding/json"
	"fmt"
)

// parseKafkaSignal reads a Kafka signal value: {"id"?, "type", "data"}.
func parseKafkaSignal(v []byte) (Signal, error) {
	var m struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return Signal{}, fmt.Errorf("value is not a JSON signal: %w", err)
	}
	if m.Type == "" {
		return Signal{}, fmt.Errorf("value has no type")
	}
	data := string(m.Data)
	var str string
	if json.Unmarshal(m.Data, &str) == nil {
		data = str // data given as a JSON string, as in the signal table
	}
	return Signal{ID: m.ID, Type: m.Type, Data: data}, nil
}
