package sink

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransientBrokerErr(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"dial refused", fmt.Errorf("unable to dial: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{"retriable kafka error", kerr.NotController, true},
		{"authorization", kerr.TopicAuthorizationFailed, false},
		{"client closed", kgo.ErrClientClosed, false},
		{"policy", fmt.Errorf("create: %w", kerr.PolicyViolation), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transientBrokerErr(tc.err); got != tc.want {
				t.Errorf("transientBrokerErr(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestKeyPartitioner_OnePartition: a one-partition topic takes every record
// without hashing; more partitions hash as StickyKeyPartitioner does.
func TestKeyPartitioner_OnePartition(t *testing.T) {
	p := keyPartitioner{kgo.StickyKeyPartitioner(nil)}.ForTopic("t")
	ref := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for _, key := range []string{"", "a", `{"id":1004}`, strings.Repeat("k", 150)} {
		r := &kgo.Record{Key: []byte(key)}
		if got := p.Partition(r, 1); got != 0 {
			t.Errorf("key %q, 1 partition: got %d, want 0", key, got)
		}
		for _, n := range []int{2, 3, 7} {
			if got, want := p.Partition(r, n), ref.Partition(r, n); got != want {
				t.Errorf("key %q, %d partitions: got %d, want %d (StickyKeyPartitioner)", key, n, got, want)
			}
		}
	}
	if _, ok := p.(kgo.TopicPartitionerOnNewBatch); !ok {
		t.Error("OnNewBatch not forwarded (sticky partitioning of null keys)")
	}
}
