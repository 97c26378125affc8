package sink_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// sinkContract is engine.Sink (which sink may not import); the engine
// asserts the real interface.
type sinkContract interface {
	Send(ctx context.Context, events []event.ChangeEvent, done func(error)) error
	Flush(ctx context.Context) error
	Close() error
}

var (
	_ sinkContract = (*sink.Kafka)(nil)
	_ sinkContract = (*sink.Stdout)(nil)
)

func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testEncoding() sink.JSONConfig {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "3.2.0.Final"
	cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
	return cfg
}

func newKafka(t testing.TB, c *kfake.Cluster, mut func(*sink.KafkaConfig)) *sink.Kafka {
	t.Helper()
	cfg := sink.KafkaConfig{Brokers: c.ListenAddrs(), Format: testFormat(t)}
	if mut != nil {
		mut(&cfg)
	}
	k, err := sink.NewKafka(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

// doneCh returns a done callback and the channel it reports on; it fails
// the test if done runs twice.
func doneCh(t testing.TB) (func(error), <-chan error) {
	ch := make(chan error, 2)
	var once sync.Once
	return func(err error) {
		called := true
		once.Do(func() { called = false })
		if called {
			t.Errorf("done called twice (second: %v)", err)
		}
		ch <- err
	}, ch
}

// sendAcked sends evs with k and fails the test unless Send takes them and
// their done reports every one acknowledged.
func sendAcked(t testing.TB, k *sink.Kafka, evs []event.ChangeEvent) {
	t.Helper()
	done, ch := doneCh(t)
	if err := k.Send(t.Context(), evs, done); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatalf("done(%v)", err)
	}
}

func wait(t testing.TB, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("done was not called")
		return nil
	}
}

// consume reads n records from topics, from the start.
func consume(t testing.TB, c *kfake.Cluster, n int, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Errorf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

type wantRec struct {
	Topic   string
	Key     string
	Value   string
	Null    bool // tombstone
	Headers map[string]string
}

func toWant(r sink.Record) wantRec {
	w := wantRec{Topic: r.Topic, Key: string(r.Key), Value: string(r.Value), Null: r.Value == nil}
	for _, h := range r.Headers {
		if w.Headers == nil {
			w.Headers = map[string]string{}
		}
		w.Headers[h.Key] = string(h.Value)
	}
	return w
}

func fromKgo(r *kgo.Record) wantRec {
	w := wantRec{Topic: r.Topic, Key: string(r.Key), Value: string(r.Value), Null: r.Value == nil}
	for _, h := range r.Headers {
		if w.Headers == nil {
			w.Headers = map[string]string{}
		}
		w.Headers[h.Key] = string(h.Value)
	}
	return w
}

// TestKafka_Send produces a mix of events, reads them back with an
// independent consumer and checks keys, values, headers, tombstones and
// per-topic order against the encoder's output.
func TestKafka_Send(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) { cfg.Compression = "zstd" })
	evs := kafkaEvents()
	sendAcked(t, k, evs)
	if err := k.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	var want []wantRec
	var recs []sink.Record
	var buf []byte
	for i := range evs {
		var err error
		if recs, buf, err = k.Format().AppendRecords(context.Background(), recs[:0], buf, &evs[i]); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			want = append(want, toWant(r))
		}
	}
	if len(want) != 8 { // c, u, c, d+tomb, d+tomb+c
		t.Fatalf("encoder produced %d records, want 8", len(want))
	}
	got := consume(t, c, len(want), "dbserver1.inventory.customers", "dbserver1.shop.orders")
	// One partition per topic: order within each topic must match.
	byTopic := func(rs []wantRec) map[string][]wantRec {
		m := map[string][]wantRec{}
		for _, r := range rs {
			m[r.Topic] = append(m[r.Topic], r)
		}
		return m
	}
	var gotW []wantRec
	for _, r := range got {
		gotW = append(gotW, fromKgo(r))
	}
	if d := cmp.Diff(byTopic(want), byTopic(gotW)); d != "" {
		t.Errorf("records differ (-want +got):\n%s", d)
	}
}

// murmur2 is Kafka's Utils.murmur2 (clients/.../common/utils/Utils.java).
func murmur2(data []byte) int32 {
	const m = 0x5bd1e995
	h := uint32(0x9747b28c) ^ uint32(len(data))
	n4 := len(data) / 4
	for i := 0; i < n4; i++ {
		k := uint32(data[i*4]) | uint32(data[i*4+1])<<8 | uint32(data[i*4+2])<<16 | uint32(data[i*4+3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n4*4:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// TestKafka_TopicsAndPartitioning checks topic creation (partitions from
// config, an existing topic left alone, concurrent first use) and that keys
// land where Kafka's Java default partitioner puts them.
func TestKafka_TopicsAndPartitioning(t *testing.T) {
	c := newCluster(t)
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	if _, err := ka.CreateTopic(t.Context(), 2, 1, nil, "dbserver1.shop.orders"); err != nil {
		t.Fatal(err)
	}
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) { cfg.TopicPartitions = 3 })

	cust := customers()
	var evs []event.ChangeEvent
	for id := int64(1); id <= 30; id++ {
		evs = append(evs, event.ChangeEvent{Op: event.OpCreate, Table: cust,
			After: []event.Value{event.Int(id), str("n"), str("e")}, Source: streamSource})
	}
	orders := []event.ChangeEvent{{Op: event.OpCreate, Table: twoKeys(),
		After: []event.Value{str("eu"), event.Bytes(event.KindDecimal, []byte("1")), event.Int(1)}, Source: streamSource}}
	var wg sync.WaitGroup
	for _, batch := range [][]event.ChangeEvent{evs[:15], evs[15:], orders} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, ch := doneCh(t)
			if err := k.Send(t.Context(), batch, done); err != nil {
				t.Error(err)
				return
			}
			if err := wait(t, ch); err != nil {
				t.Errorf("done(%v)", err)
			}
		}()
	}
	wg.Wait()

	details, err := ka.ListTopics(t.Context(), "dbserver1.inventory.customers", "dbserver1.shop.orders")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details["dbserver1.inventory.customers"].Partitions); n != 3 {
		t.Errorf("created topic has %d partitions, want 3", n)
	}
	if n := len(details["dbserver1.shop.orders"].Partitions); n != 2 {
		t.Errorf("existing topic has %d partitions, want its own 2", n)
	}
	for _, r := range consume(t, c, len(evs), "dbserver1.inventory.customers") {
		want := (murmur2(r.Key) & 0x7fffffff) % 3
		if r.Partition != want {
			t.Errorf("key %s on partition %d, Kafka's partitioner says %d", r.Key, r.Partition, want)
		}
	}
}

// failProduce makes every produce request fail with code.
func failProduce(c *kfake.Cluster, code int16) {
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestKafka_ProduceFailure scripts a non-retryable broker error: the Send's
// done reports it (with topic and hint), the sink refuses later events, and
// nothing reached the topic.
func TestKafka_ProduceFailure(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, nil)
	failProduce(c, kerr.MessageTooLarge.Code)

	done, ch := doneCh(t)
	if err := k.Send(t.Context(), kafkaEvents()[:2], done); err != nil {
		t.Fatal(err)
	}
	err := wait(t, ch)
	var perr *sink.ProduceError
	if !errors.As(err, &perr) || !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("done(%v), want a ProduceError wrapping MESSAGE_TOO_LARGE", err)
	}
	if perr.Topic != "dbserver1.inventory.customers" || perr.Hint == "" {
		t.Errorf("ProduceError = %+v, want topic and hint", perr)
	}
	if err := k.Flush(t.Context()); !errors.Is(err, sink.ErrFailed) {
		t.Errorf("Flush = %v, want ErrFailed", err)
	}

	done2, ch2 := doneCh(t)
	if err := k.Send(t.Context(), kafkaEvents()[2:3], done2); !errors.Is(err, sink.ErrFailed) || !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("Send after failure = %v, want ErrFailed wrapping the first error", err)
	}
	if err := wait(t, ch2); !errors.Is(err, sink.ErrFailed) {
		t.Errorf("done after failure = %v, want ErrFailed", err)
	}

	c.DropControl()
	adm, err2 := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err2 != nil {
		t.Fatal(err2)
	}
	defer adm.Close()
	ends, err2 := kadm.NewClient(adm).ListEndOffsets(t.Context(), "dbserver1.inventory.customers", "dbserver1.shop.orders")
	if err2 != nil {
		t.Fatal(err2)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset != 0 {
			t.Errorf("%s/%d has %d records, want none", o.Topic, o.Partition, o.Offset)
		}
	})
}

// TestKafka_BackPressure holds the broker's reply: with room for one record,
// a Send whose context is already cancelled returns at once (no unbounded
// buffering), its done reports the error, and the held record is still
// delivered.
func TestKafka_BackPressure(t *testing.T) {
	c := newCluster(t)
	release := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.DropControl()
		once.Do(func() { close(held) })
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) { cfg.MaxBufferedRecords = 1 })
	evs := kafkaEvents()

	done1, ch1 := doneCh(t)
	if err := k.Send(t.Context(), evs[:1], done1); err != nil {
		t.Fatal(err)
	}
	<-held
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done2, ch2 := doneCh(t)
	if err := k.Send(ctx, evs[2:3], done2); !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked Send with cancelled context = %v, want context.Canceled", err)
	}
	if err := wait(t, ch2); !errors.Is(err, context.Canceled) {
		t.Errorf("done = %v, want context.Canceled", err)
	}
	close(release)
	if err := wait(t, ch1); err != nil {
		t.Errorf("held record: done(%v)", err)
	}
	got := consume(t, c, 1, "dbserver1.inventory.customers")
	if !bytes.Contains(got[0].Value, []byte(`"op":"c"`)) {
		t.Errorf("delivered %s", got[0].Value)
	}
}

// TestKafka_CloseFailsPending: records not acknowledged when the sink closes
// are reported through done, never silently dropped.
func TestKafka_CloseFailsPending(t *testing.T) {
	c := newCluster(t)
	release := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		once.Do(func() { close(held) })
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer close(release)
	k := newKafka(t, c, nil)
	done, ch := doneCh(t)
	if err := k.Send(t.Context(), kafkaEvents()[:1], done); err != nil {
		t.Fatal(err)
	}
	<-held
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err == nil {
		t.Error("done(nil) for a record that was never acknowledged")
	}
	done2, ch2 := doneCh(t)
	if err := k.Send(t.Context(), kafkaEvents()[:1], done2); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	<-ch2
}

func TestNewKafka_Config(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sink.KafkaConfig
	}{
		{"no brokers", sink.KafkaConfig{Format: testFormat(t)}},
		{"bad compression", sink.KafkaConfig{Brokers: []string{"127.0.0.1:1"}, Compression: "brotli", Format: testFormat(t)}},
		{"no format", sink.KafkaConfig{Brokers: []string{"127.0.0.1:1"}}},
	} {
		if _, err := sink.NewKafka(tc.cfg); !errors.Is(err, sink.ErrConfig) {
			t.Errorf("%s: NewKafka = %v, want ErrConfig", tc.name, err)
		}
	}
}

func BenchmarkKafkaSend(b *testing.B) {
	c := newCluster(b)
	k := newKafka(b, c, func(cfg *sink.KafkaConfig) { cfg.Compression = "lz4" })
	cust := customers()
	const batchSize = 256
	evs := make([]event.ChangeEvent, batchSize)
	for i := range evs {
		evs[i] = event.ChangeEvent{Op: event.OpCreate, Table: cust,
			After: []event.Value{event.Int(int64(i)), str("Anne"), str("annek@noanswer.org")}, Source: streamSource}
	}
	done := warmedUp(b, k, evs[:1])
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		if err := k.Send(b.Context(), evs, done); err != nil {
			b.Fatal(err)
		}
		n += batchSize
	}
	if err := k.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// TestKafka_TopicCreatedConcurrently: the topic does not show in metadata
// but exists by the time the sink creates it (another writer won the race):
// TOPIC_ALREADY_EXISTS counts as success.
func TestKafka_TopicCreatedConcurrently(t *testing.T) {
	c := newCluster(t)
	const topic = "dbserver1.inventory.customers"
	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(t.Context(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	var hidden, created atomic.Bool
	c.ControlKey(int16(kmsg.Metadata), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.MetadataRequest)
		if len(req.Topics) != 1 || req.Topics[0].Topic == nil || *req.Topics[0].Topic != topic {
			return nil, nil, false
		}
		hidden.Store(true)
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = kmsg.StringPtr(topic)
		rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.CreateTopics), func(kmsg.Request) (kmsg.Response, error, bool) {
		created.Store(true)
		return nil, nil, false
	})
	k := newKafka(t, c, nil)
	sendAcked(t, k, kafkaEvents()[:1])
	if !hidden.Load() || !created.Load() {
		t.Errorf("metadata hidden=%v, create attempted=%v; want both", hidden.Load(), created.Load())
	}
}

// TestKafka_TopicCreationRetried: while the brokers answer CreateTopics
// with a retriable error (a controller moving, a broker restarting), the
// sink keeps trying instead of failing, and the record is delivered once
// the topic can be created.
func TestKafka_TopicCreationRetried(t *testing.T) {
	c := newCluster(t)
	var refused atomic.Int32
	c.ControlKey(int16(kmsg.CreateTopics), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if refused.Load() >= 3 {
			return nil, nil, false
		}
		c.KeepControl()
		refused.Add(1)
		return createTopicsRefused(kreq.(*kmsg.CreateTopicsRequest), kerr.RequestTimedOut), nil, true
	})
	k := newKafka(t, c, nil)
	done, ch := doneCh(t)
	if err := k.Send(t.Context(), kafkaEvents()[:1], done); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatalf("done(%v)", err)
	}
	if n := refused.Load(); n < 3 {
		t.Errorf("CreateTopics refused %d times; want 3 before success", n)
	}
	if got := consume(t, c, 1, "dbserver1.inventory.customers"); len(got) != 1 {
		t.Errorf("consumed %d records; want 1", len(got))
	}
}

// TestKafka_NewTopicAwaitedBeforeProduce: CreateTopics returns before the
// brokers lead the new topic's partitions; a record produced at once met
// NOT_LEADER_OR_FOLLOWER and franz-go looked again only after its metadata
// min age (5 s). The sink produces the first record of a topic it created
// only once the leader answers for the partition (ListOffsets, served by
// the leader only, as Produce is).
func TestKafka_NewTopicAwaitedBeforeProduce(t *testing.T) {
	c := newCluster(t)
	const topic = "dbserver1.inventory.customers"
	var (
		mu     sync.Mutex
		seen   []string // ListOffsets outcomes and Produce requests, in order
		refuse = 3
	)
	c.ControlKey(int16(kmsg.ListOffsets), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ListOffsetsRequest)
		if len(req.Topics) != 1 || req.Topics[0].Topic != topic {
			return nil, nil, false
		}
		mu.Lock()
		defer mu.Unlock()
		if refuse == 0 {
			seen = append(seen, "answered")
			return nil, nil, false
		}
		refuse--
		seen = append(seen, "not leader")
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		resp.Version = req.Version
		for _, rt := range req.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		seen = append(seen, "produce")
		mu.Unlock()
		return nil, nil, false
	})
	k := newKafka(t, c, nil)
	sendAcked(t, k, kafkaEvents()[:1])
	mu.Lock()
	got := slices.Clone(seen)
	mu.Unlock()
	want := []string{"not leader", "not leader", "not leader", "answered", "produce"}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("requests %v; want them to begin with %v", got, want)
	}
	if got := consume(t, c, 1, topic); len(got) != 1 {
		t.Errorf("consumed %d records; want 1", len(got))
	}
}

// TestKafka_RecordTimestamps: the records of one Send carry the time of the
// Send (one clock reading, not one per record), in milliseconds.
func TestKafka_RecordTimestamps(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, nil)
	evs := kafkaEvents()
	before := time.Now().Truncate(time.Millisecond)
	sendAcked(t, k, evs)
	after := time.Now()
	var topics []string
	n := 0
	var recs []sink.Record
	for i := range evs {
		var err error
		if recs, _, err = k.Format().AppendRecords(context.Background(), recs[:0], nil, &evs[i]); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !slices.Contains(topics, r.Topic) {
				topics = append(topics, r.Topic)
			}
			n++
		}
	}
	got := consume(t, c, n, topics...)
	for _, r := range got {
		if r.Timestamp.Before(before) || r.Timestamp.After(after) {
			t.Errorf("record %s/%s timestamp %s not within the Send [%s, %s]", r.Topic, r.Key, r.Timestamp, before, after)
		}
		if !r.Timestamp.Equal(got[0].Timestamp) {
			t.Errorf("record %s/%s timestamp %s, the Send's first record %s", r.Topic, r.Key, r.Timestamp, got[0].Timestamp)
		}
	}
}

// TestKafka_PrepareSchemaChanges: the schema change topic and the topics
// given beside it (the schema history's) are created in one CreateTopics
// request, and SendSchemaChanges then writes without creating again; when
// that request fails, SendSchemaChanges creates its topic as before.
func TestKafka_PrepareSchemaChanges(t *testing.T) {
	changes := []*schema.Change{{DDL: "SET character_set_server=utf8mb4, collation_server=utf8mb4_general_ci"}}
	srcs := []event.Source{{Snapshot: "true", File: "mysql-bin.000001", Pos: 4, Thread: -1}}
	history := sink.TopicSpec{Topic: "dbserver1.history", Partitions: 1, Replication: -1}
	for _, tc := range []struct {
		name     string
		refuse   bool // the first CreateTopics request fails
		created  []string
		requests [][]string
	}{
		{"together", false, []string{"dbserver1", "dbserver1.history"}, [][]string{{"dbserver1", "dbserver1.history"}}},
		{"refused", true, nil, [][]string{{"dbserver1", "dbserver1.history"}, {"dbserver1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			var (
				mu       sync.Mutex
				requests [][]string
			)
			c.ControlKey(int16(kmsg.CreateTopics), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				req := kreq.(*kmsg.CreateTopicsRequest)
				var topics []string
				for _, rt := range req.Topics {
					topics = append(topics, rt.Topic)
				}
				slices.Sort(topics)
				mu.Lock()
				first := len(requests) == 0
				requests = append(requests, topics)
				mu.Unlock()
				if !first || !tc.refuse {
					return nil, nil, false
				}
				return createTopicsRefused(req, kerr.TopicAuthorizationFailed), nil, true
			})
			k := newKafka(t, c, nil)
			created := k.PrepareSchemaChanges(t.Context(), changes, srcs, nil, history)
			done, ch := doneCh(t)
			if err := k.SendSchemaChanges(t.Context(), changes, srcs, done); err != nil {
				t.Fatal(err)
			}
			if err := wait(t, ch); err != nil {
				t.Fatalf("done(%v)", err)
			}
			mu.Lock()
			got := slices.Clone(requests)
			mu.Unlock()
			if diff := cmp.Diff(tc.requests, got); diff != "" {
				t.Errorf("CreateTopics requests (-want +got):\n%s", diff)
			}
			slices.Sort(created)
			if diff := cmp.Diff(tc.created, created); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if got := consume(t, c, 1, "dbserver1"); len(got) != 1 {
				t.Errorf("consumed %d schema change records; want 1", len(got))
			}
		})
	}
}

// TestKafka_PrepareSchemaChanges_Tables: the topics of the tables given
// (those a snapshot is about to write) go in the one CreateTopics request
// with the schema change and history topics, named as the records name
// them (after a RegexRouter) and set as their topic.creation group says,
// and the first Send to them creates nothing more; when that request
// fails, the Send creates its topic as before. With route.by.field, which
// picks the topic per record, no table topic is created ahead: the first
// Send creates it, as before.
func TestKafka_PrepareSchemaChanges_Tables(t *testing.T) {
	changes := []*schema.Change{{DDL: "SET character_set_server=utf8mb4, collation_server=utf8mb4_general_ci"}}
	srcs := []event.Source{{Snapshot: "true", File: "mysql-bin.000001", Pos: 4, Thread: -1}}
	history := sink.TopicSpec{Topic: "dbserver1.history", Partitions: 1, Replication: -1}
	router := sink.DefaultTransformConfig("route", sink.TransformRegexRouter)
	router.Regex, router.Replacement = `dbserver1\.inventory\.(.*)`, "routed.$1"
	byField := sink.DefaultTransformConfig("unwrap", sink.TransformUnwrap)
	byField.RouteByField = "first_name"
	for _, tc := range []struct {
		name       string
		transforms []sink.TransformConfig
		refuse     bool       // the first CreateTopics request fails
		requests   [][]string // CreateTopics requests, topics sorted
		topic      string     // the Send's record topic
	}{
		{"plain", nil, false,
			[][]string{{"dbserver1", "dbserver1.history", "dbserver1.inventory.customers"}}, "dbserver1.inventory.customers"},
		{"refused", nil, true, // the Send creates its topic as before
			[][]string{{"dbserver1", "dbserver1.history", "dbserver1.inventory.customers"}, {"dbserver1.inventory.customers"}}, "dbserver1.inventory.customers"},
		{"regex router", []sink.TransformConfig{router}, false,
			[][]string{{"dbserver1", "dbserver1.history", "routed.customers"}}, "routed.customers"},
		{"route by field", []sink.TransformConfig{byField}, false,
			[][]string{{"dbserver1", "dbserver1.history"}, {"anne"}}, "anne"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			var (
				mu       sync.Mutex
				requests [][]string
				parts    = make(map[string]int32)
			)
			c.ControlKey(int16(kmsg.CreateTopics), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				var topics []string
				mu.Lock()
				for _, rt := range kreq.(*kmsg.CreateTopicsRequest).Topics {
					topics = append(topics, rt.Topic)
					parts[rt.Topic] = rt.NumPartitions
				}
				mu.Unlock()
				slices.Sort(topics)
				mu.Lock()
				first := len(requests) == 0
				requests = append(requests, topics)
				mu.Unlock()
				if first && tc.refuse {
					return createTopicsRefused(kreq.(*kmsg.CreateTopicsRequest), kerr.TopicAuthorizationFailed), nil, true
				}
				return nil, nil, false
			})
			enc := testEncoding()
			enc.Transforms = tc.transforms
			j, err := debeziumjson.NewJSON(enc)
			if err != nil {
				t.Fatal(err)
			}
			k := newKafka(t, c, func(cfg *sink.KafkaConfig) {
				cfg.Format = j.Format()
				// topic.creation groups apply to a table topic created ahead too.
				cfg.TopicGroups = []sink.TopicGroup{{Match: func(topic string) bool { return topic == tc.topic },
					Partitions: 2, Replication: -1}}
			})
			k.PrepareSchemaChanges(t.Context(), changes, srcs, []*schema.Table{customers()}, history)
			sendAcked(t, k, kafkaEvents()[:1])
			mu.Lock()
			got := slices.Clone(requests)
			mu.Unlock()
			if diff := cmp.Diff(tc.requests, got); diff != "" {
				t.Errorf("CreateTopics requests (-want +got):\n%s", diff)
			}
			mu.Lock()
			n := parts[tc.topic]
			mu.Unlock()
			if n != 2 {
				t.Errorf("%s created with %d partitions, want 2 (its topic.creation group)", tc.topic, n)
			}
			if got := consume(t, c, 1, tc.topic); len(got) != 1 {
				t.Errorf("consumed %d records from %s; want 1", len(got), tc.topic)
			}
		})
	}
}

// createTopicsRefused answers req with err for each of its topics.
func createTopicsRefused(req *kmsg.CreateTopicsRequest, err *kerr.Error) *kmsg.CreateTopicsResponse {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	resp.Version = req.Version
	for _, tp := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = tp.Topic
		rt.ErrorCode = err.Code
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
