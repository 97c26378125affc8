package offsets

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newKafkaStore(t *testing.T, brokers []string, name, prefix string) *KafkaStore {
	t.Helper()
	s, err := NewKafkaStore(KafkaConfig{Brokers: brokers, Topic: "connect-offsets", ConnectorName: name, TopicPrefix: prefix,
		Partitions: 5, LeaseTimeout: 6 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// produceRaw writes a record as Kafka Connect does: plain producer, murmur2 key partitioning.
func produceRaw(t *testing.T, brokers []string, key, value string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r := &kgo.Record{Topic: "connect-offsets", Key: []byte(key)}
	if value != "" {
		r.Value = []byte(value)
	}
	if err := cl.ProduceSync(t.Context(), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func createOffsetsTopic(t *testing.T, brokers []string) {
	t.Helper()
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.CreateTopic(t.Context(), 5, 1, nil, "connect-offsets"); err != nil {
		t.Fatal(err)
	}
}

func TestKafkaStore_SaveLoad(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	s := newKafkaStore(t, brokers, "inventory-connector", "dbserver1")
	ctx := t.Context()
	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load on a missing topic = ok %v, %v; want nothing", ok, err)
	}
	if err := s.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	want := Position{File: "mysql-bin.000003", Pos: 1547, GTIDSet: "0-1-42", ServerID: 1, Event: 2, Row: 1, TsSec: 1700000100}
	for i := range 3 {
		p := want
		p.Pos += uint64(i)
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want.Pos += 2
	got, ok, err := s.Load(ctx)
	if err != nil || !ok {
		t.Fatalf("Load = ok %v, %v", ok, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Load (-want +got):\n%s", d)
	}

	// The records are Kafka Connect's: exact key and value bytes.
	adm := kadm.NewClient(s.meta)
	cfgs, err := adm.DescribeTopicConfigs(ctx, "connect-offsets")
	if err != nil {
		t.Fatal(err)
	}
	if cfgs[0].Err != nil {
		t.Fatalf("describe configs: %v", cfgs[0].Err)
	}
	compact := false
	for _, c := range cfgs[0].Configs {
		if c.Key == "cleanup.policy" && c.Value != nil && *c.Value == "compact" {
			compact = true
		}
	}
	if !compact {
		t.Errorf("offsets topic is not compacted")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("connect-offsets"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < 3 {
		fs := cl.PollFetches(ctx)
		recs = append(recs, fs.Records()...)
	}
	last := recs[2]
	if string(last.Key) != `["inventory-connector",{"server":"dbserver1"}]` {
		t.Errorf("key = %s", last.Key)
	}
	if string(last.Value) != `{"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1549,"gtids":"0-1-42","row":1,"server_id":1,"event":2}` {
		t.Errorf("value = %s", last.Value)
	}
	// Same partition as Kafka Connect's producer (murmur2 of the key) would pick.
	want5 := kgo.StickyKeyPartitioner(nil).ForTopic("connect-offsets").Partition(&kgo.Record{Key: last.Key}, 5)
	if int(last.Partition) != want5 {
		t.Errorf("partition = %d, want %d", last.Partition, want5)
	}
}

// TestKafkaStore_LoadDebeziumRecords reads what Kafka Connect wrote for
// Debezium: plain records, other connectors interleaved, string numbers,
// then a tombstone.
func TestKafkaStore_LoadDebeziumRecords(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	createOffsetsTopic(t, brokers)
	key := `["inventory-connector",{"server":"dbserver1"}]`
	produceRaw(t, brokers, key, `{"ts_sec":1700000000,"file":"mysql-bin.000003","pos":157,"snapshot":true}`)
	produceRaw(t, brokers, `["other",{"server":"dbserver1"}]`, `{"file":"x.000001","pos":4}`)
	produceRaw(t, brokers, key, `{"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1547,"gtids":"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5","server_id":223344,"event":"2","transaction_id":null}`)
	s := newKafkaStore(t, brokers, "inventory-connector", "dbserver1")
	got, ok, err := s.Load(t.Context())
	if err != nil || !ok {
		t.Fatalf("Load = ok %v, %v", ok, err)
	}
	want := Position{File: "mysql-bin.000003", Pos: 1547, GTIDSet: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", ServerID: 223344, Event: 2, TsSec: 1700000100}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Load (-want +got):\n%s", d)
	}
	// A hand-written key with spaces still names the connector.
	s2 := newKafkaStore(t, brokers, "other", "dbserver1")
	produceRaw(t, brokers, `["other", {"server": "dbserver1"}]`, `{"file":"x.000002","pos":4}`)
	if got, ok, err := s2.Load(t.Context()); err != nil || !ok || got.File != "x.000001" {
		t.Errorf("exact key must win over a look-alike: got %v %v %v", got, ok, err)
	}

	if err := s.Delete(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := s.Load(t.Context()); err != nil || ok {
		t.Fatalf("Load after Delete = %v ok %v, %v; want nothing", p, ok, err)
	}
}

func TestKafkaStore_SaveFails(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	s := newKafkaStore(t, brokers, "n", "p")
	ctx := t.Context()
	if err := s.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, Position{File: "f.000001", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	failing.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !failing.Load() {
			return nil, nil, false
		}
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.InvalidRecord.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	err := s.Save(ctx, Position{File: "f.000001", Pos: 99})
	if err == nil {
		t.Fatal("Save succeeded while the broker rejected the record")
	}
	t.Logf("failed save: %v", err)
	failing.Store(false)
	got, ok, lerr := s.Load(ctx)
	if lerr != nil || !ok || got.Pos != 4 {
		t.Fatalf("after a failed Save, Load = %v ok %v, %v; want pos 4", got, ok, lerr)
	}
	if err := s.Save(ctx, Position{}); !errors.Is(err, ErrInvalidPosition) {
		t.Errorf("Save of a zero position = %v, want ErrInvalidPosition", err)
	}
}

func TestKafkaStore_OneWriter(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	ctx := t.Context()
	a := newKafkaStore(t, brokers, "n", "p")
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, Position{File: "f.000001", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	// Wait until a's lease member joined, then a second process is refused.
	waitMembers(t, a, 1)
	b := newKafkaStore(t, brokers, "n", "p")
	err := b.Lock(ctx)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	t.Logf("refused: %v", err)

	// A writer that bypasses the lease still cannot interleave: its
	// producer fences a's.
	bp, err := b.producerClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bp.ProducerID(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, Position{File: "f.000001", Pos: 5}); !errors.Is(err, ErrFenced) {
		t.Fatalf("Save by the fenced writer = %v, want ErrFenced", err)
	}
	if err := b.Save(ctx, Position{File: "f.000001", Pos: 6}); err != nil {
		t.Fatal(err)
	}

	// After a leaves, the lease is free at once.
	_ = a.Close()
	c2 := newKafkaStore(t, brokers, "n", "p")
	waitMembers(t, c2, 0)
	if err := c2.Lock(ctx); err != nil {
		t.Fatalf("Lock after the holder closed: %v", err)
	}
	// Another connector has its own lease.
	d := newKafkaStore(t, brokers, "other", "p")
	if err := d.Lock(ctx); err != nil {
		t.Fatalf("Lock of another connector: %v", err)
	}
}

func waitMembers(t *testing.T, s *KafkaStore, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		gs, err := s.adm.DescribeGroups(ctx, s.leaseGroup())
		if err == nil && len(gs[s.leaseGroup()].Members) == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("lease group never had %d members", n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestKafkaStore_LockRace starts two writers at once: never both hold it.
func TestKafkaStore_LockRace(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	a := newKafkaStore(t, brokers, "n", "p")
	b := newKafkaStore(t, brokers, "n", "p")
	errs := make(chan error, 2)
	for _, s := range []*KafkaStore{a, b} {
		go func() { errs <- s.Lock(t.Context()) }()
	}
	ok := 0
	for range 2 {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrLocked):
			t.Fatalf("Lock = %v, want nil or ErrLocked", err)
		}
	}
	if ok > 1 {
		t.Fatal("both processes hold the lease")
	}
}
