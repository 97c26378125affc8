package config

import "testing"

func TestFromMap_TransactionMetadata(t *testing.T) {
	tests := []struct {
		name      string
		kv        []string
		wantOn    bool
		wantTopic string
	}{
		{"default off", nil, false, "transaction"},
		{"on", []string{"provide.transaction.metadata", "true"}, true, "transaction"},
		{"own topic", []string{"provide.transaction.metadata", "true", "topic.transaction", "tx-meta"}, true, "tx-meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustFromMap(t, with(tt.kv...))
			if c.ProvideTransactionMetadata != tt.wantOn || c.TransactionTopic != tt.wantTopic {
				t.Errorf("got %v %q, want %v %q", c.ProvideTransactionMetadata, c.TransactionTopic, tt.wantOn, tt.wantTopic)
			}
		})
	}
	for _, kv := range [][]string{
		{"provide.transaction.metadata", "maybe"},
		{"provide.transaction.metadata", "true", "topic.transaction", "bad topic"},
	} {
		if _, _, err := FromMap(with(kv...)); err == nil {
			t.Errorf("%v accepted", kv)
		}
	}
}
