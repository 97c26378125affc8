package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/event"
)

func TestIncState_RoundTrip(t *testing.T) {
	for _, st := range []incState{
		{},
		{Kafka: 7},
		{Tables: []string{"db.a", "db.b"}, Next: []string{"db.c"}, Conds: map[string]string{"db.a": "id > 1"},
			Progress: `{"db":"db","table":"a","after":["i:5"]}`, Paused: true, Kafka: 3},
	} {
		got, err := decodeIncState(st.encode())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	if (&incState{}).encode() != "" {
		t.Errorf("idle state is not empty")
	}
	if _, err := decodeIncState("{"); err == nil {
		t.Errorf("corrupt state accepted")
	}
}

func TestSignalRow(t *testing.T) {
	s := func(v string) event.Value { return event.Value{Kind: event.KindString, B: []byte(v)} }
	tests := []struct {
		name string
		row  []event.Value
		want Signal
		ok   bool
	}{
		{"full", []event.Value{s("1"), s("execute-snapshot"), s(`{"data-collections":["a.b"]}`)},
			Signal{ID: "1", Type: "execute-snapshot", Data: `{"data-collections":["a.b"]}`, KafkaOffset: -1}, true},
		{"null data", []event.Value{s("2"), s("pause-snapshot"), {Kind: event.KindNull}},
			Signal{ID: "2", Type: "pause-snapshot", KafkaOffset: -1}, true},
		{"no type", []event.Value{s("3"), s("")}, Signal{ID: "3", KafkaOffset: -1}, false},
		{"short", []event.Value{s("4")}, Signal{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := signalRow(tt.row)
			if ok != tt.ok || got != tt.want {
				t.Errorf("signalRow = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
