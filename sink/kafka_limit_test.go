package sink_test

import (
	"errors"
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
