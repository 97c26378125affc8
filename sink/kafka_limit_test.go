package sink_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// TestKafka_MaxRequestBytes: a record over max.request.size is refused by
// Send itself (no gap after it), naming the limit; a larger limit lets it
// through to a broker that accepts it.
func TestKafka_MaxRequestBytes(t *testing.T) {
	c := newCluster(t)
	small := newKafka(t, c, func(cfg *sink.KafkaConfig) { cfg.MaxRequestBytes = 2048 })
	evs := kafkaEvents()[:1]
	evs[0].After = append([]event.Value(nil), evs[0].After...)
	evs[0].After[1] = str(strings.Repeat("x", 4000))
	done, _ := doneCh(t)
	err := small.Send(t.Context(), evs, done)
	if !errors.Is(err, kerr.MessageTooLarge) || !strings.Contains(err.Error(), "max.request.size 2048") {
		t.Fatalf("Send = %v, want MessageTooLarge naming max.request.size 2048", err)
	}
	large := newKafka(t, c, func(cfg *sink.KafkaConfig) { cfg.MaxRequestBytes = 8192 })
	done, ch := doneCh(t)
	if err := large.Send(t.Context(), evs, done); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatalf("done(%v)", err)
	}
}

// TestKafka_SendLargerThanBuffer: a Send with more records (and bytes) than
// MaxBufferedRecords and MaxBufferedBytes allow takes the room that is free,
// waits for acknowledgements, and delivers every record in order.
func TestKafka_SendLargerThanBuffer(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) {
		cfg.MaxBufferedRecords = 3
		cfg.MaxBufferedBytes = 4000 // two or three records
	})
	cust := customers()
	evs := make([]event.ChangeEvent, 20)
	for i := range evs {
		evs[i] = event.ChangeEvent{Op: event.OpCreate, Table: cust,
			After: []event.Value{event.Int(int64(i)), str("Anne"), str("annek@noanswer.org")}, Source: streamSource}
	}
	sendAcked(t, k, evs)
	got := consume(t, c, len(evs), "dbserver1.inventory.customers")
	for i, r := range got {
		if want := fmt.Sprintf(`"payload":{"id":%d}}`, i); !strings.HasSuffix(string(r.Key), want) {
			t.Fatalf("record %d has key %s, want one ending %s", i, r.Key, want)
		}
	}
}
