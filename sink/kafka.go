package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Defaults of KafkaConfig.
const (
	DefaultClientID           = "rivulet"
	DefaultLinger             = 5 * time.Millisecond
	DefaultMaxBufferedRecords = 100_000
	DefaultMaxBufferedBytes   = 64 << 20
	DefaultTopicPartitions    = 1
	DefaultTopicReplication   = -1 // the broker's default.replication.factor
)

// KafkaConfig configures the Kafka sink. Zero values mean the documented defaults.
type KafkaConfig struct {
	// Brokers are the seed brokers (bootstrap.servers). Required.
	Brokers []string
	// ClientID is the Kafka client.id; default DefaultClientID.
	ClientID string
	// Compression is compression.type: "none" (default), "gzip", "snappy",
	// "lz4" or "zstd".
	Compression string
	// MaxRequestBytes is max.request.size: the largest record batch, so the
	// largest record, the producer sends. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Linger is linger.ms: how long a partition's batch may wait to fill;
	// default DefaultLinger. Negative means no lingering.
	Linger time.Duration
	// MaxBufferedRecords and MaxBufferedBytes bound the records handed to
	// Kafka and not yet acknowledged; Send blocks while they are reached.
	// Defaults DefaultMaxBufferedRecords and DefaultMaxBufferedBytes.
	MaxBufferedRecords int
	MaxBufferedBytes   int
	// TopicPartitions and TopicReplication are used for topics the sink
	// creates (topic.creation.default.partitions / replication.factor);
	// defaults DefaultTopicPartitions and DefaultTopicReplication.
	TopicPartitions  int32
	TopicReplication int16
	// NoTopicCreation leaves topic creation to the broker (or the operator).
	NoTopicCreation bool
	// TopicGroups, when set, choose each created topic's partitions,
	// replication factor and configs (Kafka Connect's topic.creation
	// groups): the first group whose Match accepts the topic. A topic no
	// group matches gets TopicPartitions and TopicReplication.
	TopicGroups []TopicGroup
	// Acks is acks: "" or "all" (the default), "1" or "0". With "1" or "0"
	// the producer is not idempotent.
	Acks string
	// NoIdempotence is enable.idempotence=false.
	NoIdempotence bool
	// DeliveryTimeout is delivery.timeout.ms: a record not acknowledged in
	// that time fails the sink. 0 (the default) retries until Kafka answers.
	DeliveryTimeout time.Duration
	// Format renders the records (required): Debezium JSON
	// (sink/debeziumjson's JSON.Format), or Avro (sink/avro) for key.converter/value.converter =
	// AvroConverter. Topics, skipped operations and the data records a
	// transaction counts come from it too.
	Format Format
	// Logger receives the client's logs (franz-go info logs at debug level).
	// nil discards them.
	Logger *slog.Logger
	// ContextHeaders are put after a record's own headers on every change event record and
	// tombstone: Debezium 3.2+'s extended headers
	// (extended.headers.enabled, see ContextHeaders).
	ContextHeaders []Header
	// Opts are appended to the franz-go client options (TLS, SASL, tests).
	Opts []kgo.Opt
	// TransactionalID, when set, makes the producer transactional
	// (exactly.once.support=required): every Send must happen between
	// BeginTransaction and CommitTransaction, and a newer producer with the
	// same id fences this one. Default "": idempotent, not transactional.
	TransactionalID string
}

// TopicGroup is the creation setting of the topics Match accepts.
type TopicGroup struct {
	Match func(topic string) bool
	// Partitions and Replication: -1 means the broker's default.
	Partitions  int32
	Replication int16
	// Configs are topic configs (cleanup.policy, retention.ms, ...).
	Configs map[string]string
}

// Kafka is the Kafka transport: it encodes events with JSON and produces
// them with an idempotent franz-go producer (acks=all, ordering per
// partition, Kafka's murmur2 key partitioning so that keys land on the same
// partitions as with Debezium). It implements the engine's Sink contract:
// Send blocks while MaxBufferedRecords or MaxBufferedBytes are in flight;
// each Send's done is called exactly once, with nil after all its records
// were acknowledged or with the first error.
//
// A record that Kafka finally refuses makes the sink fail: later Sends are
// refused with ErrFailed, so that nothing is written past a lost record.
type Kafka struct {
	cfg    KafkaConfig
	format Format // the records' format: cfg.Format
	cl     *kgo.Client
	adm    *kadm.Client
	log    *slog.Logger
	room   *budget // MaxBufferedRecords and MaxBufferedBytes

	maxBytes int64
	// ctxHdr is ContextHeaders as franz-go headers, shared read-only by the
	// records that have no headers of their own.
	ctxHdr []kgo.RecordHeader

	tmu    sync.Mutex
	topics map[string]*topicState

	failed atomic.Pointer[error]
	// bytesPerEvent is the encoded size per event of the last Send.
	bytesPerEvent atomic.Int64
	closed        atomic.Bool
	closeOnce     sync.Once

	batches sync.Pool
	// reqs counts requests and batches when the logger enables debug
	// (requests.go); Close logs them.
	reqs *requestCounts
}

type topicState struct {
	done chan struct{}
	err  error
	// handoff: PrepareSchemaChanges claimed the topic and did not create
	// it; a waiter creates it itself.
	handoff bool
}

// NewKafka creates the Kafka sink and its client. It does not contact the
// brokers; use Ping to check them.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	if len(cfg.Brokers) == 0 {
		return nil, fmt.Errorf("%w: no Kafka brokers; set bootstrap.servers", ErrConfig)
	}
	if cfg.Format == nil {
		return nil, fmt.Errorf("%w: no record format", ErrConfig)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	} else if cfg.Linger < 0 {
		cfg.Linger = 0
	}
	if cfg.MaxBufferedRecords <= 0 {
		cfg.MaxBufferedRecords = DefaultMaxBufferedRecords
	}
	if cfg.MaxBufferedBytes <= 0 {
		cfg.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.TopicPartitions == 0 {
		cfg.TopicPartitions = DefaultTopicPartitions
	}
	if cfg.TopicReplication == 0 {
		cfg.TopicReplication = DefaultTopicReplication
	}
	codec, err := compressionCodec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	acks := kgo.AllISRAcks()
	switch cfg.Acks {
	case "", "all", "-1":
	case "1":
		acks = kgo.LeaderAck()
	case "0":
		acks = kgo.NoAck()
	default:
		return nil, fmt.Errorf("%w: acks %q; use all, 1 or 0", ErrConfig, cfg.Acks)
	}
	if cfg.TransactionalID != "" && (cfg.Acks == "1" || cfg.Acks == "0" || cfg.NoIdempotence) {
		return nil, fmt.Errorf("%w: exactly-once delivery needs acks=all and the idempotent producer", ErrConfig)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(cfg.Linger),
		kgo.ProducerBatchCompression(codec),
		// Our own budget bounds what is in flight (and honour the
		// context while waiting); franz-go's limits are set above them so
		// that its Produce never blocks for long.
		kgo.MaxBufferedRecords(2*cfg.MaxBufferedRecords + 1),
		kgo.MaxBufferedBytes(2*cfg.MaxBufferedBytes + 1),
		kgo.RecordPartitioner(keyPartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerBatchMaxBytes(int32(cfg.MaxRequestBytes)),
		kgo.WithLogger(kgoLogger{log}),
	}
	if cfg.TransactionalID != "" {
		opts = append(opts, kgo.TransactionalID(cfg.TransactionalID), kgo.TransactionTimeout(time.Minute))
	}
	if cfg.NoIdempotence || (cfg.Acks != "" && cfg.Acks != "all" && cfg.Acks != "-1") {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if cfg.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout))
	}
	var reqs *requestCounts
	if log.Enabled(context.Background(), slog.LevelDebug) {
		reqs = new(requestCounts)
		opts = append(opts, kgo.WithHooks(reqs))
	}
	opts = append(opts, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: kafka client: %w", ErrConfig, err)
	}
	k := &Kafka{
		cfg:      cfg,
		format:   cfg.Format,
		cl:       cl,
		adm:      kadm.NewClient(cl),
		log:      log,
		room:     newBudget(int64(cfg.MaxBufferedRecords), int64(cfg.MaxBufferedBytes)),
		maxBytes: int64(cfg.MaxBufferedBytes),
		topics:   make(map[string]*topicState),
		reqs:     reqs,
	}
	for _, h := range cfg.ContextHeaders {
		k.ctxHdr = append(k.ctxHdr, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	k.batches.New = func() any {
		b := &batch{k: k}
		b.promise = b.onAck
		return b
	}
	return k, nil
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("%w: compression.type %q; use none, gzip, snappy, lz4 or zstd", ErrConfig, name)
}

// Format returns the sink's record format.
func (k *Kafka) Format() Format { return k.format }

// Client returns the underlying franz-go client, for callers that share it
// (metrics hooks, admin requests). The sink owns it: do not close it.
func (k *Kafka) Client() *kgo.Client { return k.cl }

// Ping checks that a broker answers.
func (k *Kafka) Ping(ctx context.Context) error {
	if err := k.cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka ping %s: %w", strings.Join(k.cfg.Brokers, ","), err)
	}
	return nil
}

// batch is the state of one Send: its encoded records, the franz-go records
// handed to the client, and the count of acknowledgements still awaited.
// Batches are pooled; a batch is reused only after its last promise ran.
type batch struct {
	k       *Kafka
	done    func(error)
	pending atomic.Int64
	failed  atomic.Bool
	recs    []Record
	buf     []byte
	krecs   []kgo.Record
	ws      []int64 // the krecs' weights in the budget
	promise func(*kgo.Record, error)
}

// maxPooledBuf keeps unusually large batches out of the pool.
const maxPooledBuf = 16 << 20

func (k *Kafka) putBatch(b *batch) {
	if cap(b.buf) > maxPooledBuf {
		return
	}
	clear(b.krecs) // drop references to keys, values, headers
	b.done, b.recs, b.buf, b.krecs = nil, b.recs[:0], b.buf[:0], b.krecs[:0]
	b.failed.Store(false)
	k.batches.Put(b)
}

// fail reports err through done once.
func (b *batch) fail(err error) {
	if b.failed.CompareAndSwap(false, true) {
		b.done(err)
	}
}

// finishOne counts one acknowledgement (or the Send guard) down; the last
// one reports success if nothing failed and recycles the batch.
func (b *batch) finishOne() {
	if b.pending.Add(-1) != 0 {
		return
	}
	if !b.failed.Load() {
		b.done(nil)
	}
	b.k.putBatch(b)
}

func recordSize(r *kgo.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// DefaultMaxRequestBytes is franz-go's default ProducerBatchMaxBytes, the
// broker's default message.max.bytes.
const DefaultMaxRequestBytes = 1_000_012

// batchOverhead is what a record batch adds to its one record: the largest
// record franz-go buffers is MaxRequestBytes minus it. franz-go fails a
// larger record before buffering it, from its promise goroutine, so the
// records sent after it would still be written: a gap. Send refuses one at
// once instead (RELIABILITY §3 #16).
const batchOverhead = 128

func (k *Kafka) weight(r *kgo.Record) int64 {
	return min(recordSize(r), k.maxBytes)
}

// onAck is every record's promise; franz-go calls promises serially and
// they must not block.
func (b *batch) onAck(r *kgo.Record, err error) {
	k := b.k
	k.room.give(1, k.weight(r))
	if err != nil {
		perr := classifyProduceError(r, err)
		k.setFailed(perr)
		b.fail(perr)
	}
	b.finishOne()
}

func (k *Kafka) setFailed(err error) {
	if k.failed.CompareAndSwap(nil, &err) {
		// A warning: the engine stops with this error and logs it as the one
		// ERROR line (RELIABILITY I4); here it only marks the moment.
		k.log.Warn("kafka sink failed; refusing further events", slog.Any("error", err))
	}
}

func (k *Kafka) state() error {
	if k.closed.Load() {
		return ErrClosed
	}
	if p := k.failed.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *p)
	}
	return nil
}

// Send encodes events and hands their records to the producer in order. It
// blocks while the buffer limits are reached, until ctx is done. done is
// called exactly once — also when Send returns an error, then with a non-nil
// error — from any goroutine; it must not block.
func (k *Kafka) Send(ctx context.Context, events []event.ChangeEvent, done func(error)) error {
	if err := k.state(); err != nil {
		done(err)
		return err
	}
	b := k.batches.Get().(*batch)
	b.done = done
	// Size the buffer from the last batch's bytes per event: records are
	// slices of it, so a buffer that regrows while encoding copies what it
	// holds and keeps the old array alive until those records are acked.
	if need := len(events) * int(k.bytesPerEvent.Load()); cap(b.buf) < need {
		b.buf = make([]byte, 0, need+need/4)
	}
	var err error
	// May block (Avro: while a new table version's schemas are registered).
	if b.recs, b.buf, err = appendEvents(ctx, k.format, b.recs, b.buf, events); err != nil {
		k.putBatch(b)
		done(err)
		return err
	}
	if len(events) > 0 {
		k.bytesPerEvent.Store(int64(len(b.buf)/len(events)) + 1)
	}
	if len(b.recs) == 0 {
		k.putBatch(b)
		done(nil)
		return nil
	}
	if err := k.ensureTopics(ctx, b.recs); err != nil {
		k.putBatch(b)
		done(err)
		return err
	}
	if cap(b.krecs) < len(b.recs) {
		b.krecs = make([]kgo.Record, len(b.recs))
	}
	if cap(b.ws) < len(b.recs) {
		b.ws = make([]int64, len(b.recs))
	}
	b.krecs, b.ws = b.krecs[:len(b.recs)], b.ws[:len(b.recs)]
	b.pending.Store(1) // the Send guard, released below
	bg := context.Background()
	// One clock reading stamps the records of this Send (franz-go would
	// read the clock per record, and truncates to milliseconds anyway); it
	// is read again after waiting for buffer space.
	now := time.Now()
	limit := int64(k.cfg.MaxRequestBytes - batchOverhead)
	// The records to produce: all, or those before one over the limit.
	n := len(b.recs)
	var sizeErr error
	for i := range b.recs {
		r := &b.recs[i]
		kr := &b.krecs[i]
		// The record's own context stays uncancelled: once handed over, a
		// record is only failed by Kafka or by Close, never because the
		// caller's context ended (franz-go cancels buffered records whose
		// context is done).
		*kr = kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Context: bg, Headers: k.ctxHdr, Timestamp: now}
		if len(r.Headers) > 0 {
			// The record's own headers (a key change's) come first, the
			// context headers after them, as EventDispatcher.getExtendedHeaders
			// appends them, then what a transform added.
			kr.Headers = make([]kgo.RecordHeader, 0, len(r.Headers)+len(k.ctxHdr))
			own := len(r.Headers) - r.SMTHeaders
			for _, h := range r.Headers[:own] {
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			kr.Headers = append(kr.Headers, k.ctxHdr...)
			for _, h := range r.Headers[own:] {
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
		}
		size := recordSize(kr)
		if size > limit {
			sizeErr = classifyProduceError(kr, fmt.Errorf("the record of key %s is %d bytes, over the producer's limit of %d (max.request.size %d): %w", kr.Key, size, limit, k.cfg.MaxRequestBytes, kerr.MessageTooLarge))
			n = i
			break
		}
		b.ws[i] = min(size, k.maxBytes)
	}
	// Take buffer room for as many records as fit (the whole Send when
	// there is room), produce them, and wait for room for the rest.
	for i := 0; i < n; {
		var got int
		var waited bool
		got, waited, err = k.room.take(ctx, b.ws[i:n])
		if err != nil {
			err = fmt.Errorf("send to %s: %w", b.krecs[i].Topic, err)
			break
		}
		if waited {
			now = time.Now()
			for j := i; j < i+got; j++ {
				b.krecs[j].Timestamp = now
			}
		}
		b.pending.Add(int64(got))
		for ; got > 0; got-- {
			// Checked per record: a record Kafka refused fails the sink from
			// the promise goroutine, and nothing may be produced after it.
			if err = k.state(); err != nil {
				var w int64
				for _, x := range b.ws[i : i+got] {
					w += x
				}
				k.room.give(int64(got), w)
				b.pending.Add(-int64(got))
				break
			}
			k.cl.Produce(bg, &b.krecs[i], b.promise)
			i++
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = sizeErr
	}
	if err != nil {
		// Part of this Send never reached Kafka: later events must not be
		// written after the gap.
		if !errors.Is(err, ErrFailed) && !errors.Is(err, ErrClosed) {
			k.setFailed(err)
		}
		b.fail(err)
	}
	b.finishOne()
	return err
}

// ensureTopics creates the topics of recs that are not known yet.
func (k *Kafka) ensureTopics(ctx context.Context, recs []Record) error {
	if k.cfg.NoTopicCreation {
		return nil
	}
	last := ""
	for i := range recs {
		t := recs[i].Topic
		if t == last {
			continue
		}
		if err := k.ensureTopic(ctx, t); err != nil {
			return err
		}
		last = t
	}
	return nil
}

func (k *Kafka) ensureTopic(ctx context.Context, topic string) error {
	k.tmu.Lock()
	st := k.topics[topic]
	if st != nil {
		select {
		case <-st.done:
			if st.err == nil {
				k.tmu.Unlock()
				return nil
			}
			st = nil // failed before: try again
		default:
		}
	}
	if st == nil {
		st = &topicState{done: make(chan struct{})}
		k.topics[topic] = st
		k.tmu.Unlock()
		st.err = k.createTopicRetrying(ctx, topic)
		close(st.done)
		return st.err
	}
	k.tmu.Unlock()
	select {
	case <-st.done:
		if st.handoff {
			return k.ensureTopic(ctx, topic)
		}
		return st.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// createTopicRetrying is createTopic, retried with capped backoff for as
// long as the brokers cannot be reached or answer with a retriable error
// (a broker restarting, a leader election, __consumer_offsets loading), as
// franz-go retries the records themselves: a Kafka outage while a new
// table's first event waits for its topic makes Rivulet unready, not fail.
// Errors that retrying cannot fix (authorization, policy, invalid
// configuration) and the end of ctx return at once.
func (k *Kafka) createTopicRetrying(ctx context.Context, topic string) error {
	backoff := 250 * time.Millisecond
	var warned time.Time
	for {
		err := k.createTopic(ctx, topic)
		if err == nil || !transientBrokerErr(err) || k.closed.Load() {
			return err
		}
		if time.Since(warned) > 30*time.Second {
			warned = time.Now()
			k.log.Warn("topic not created yet: Kafka unreachable or busy; retrying", slog.String("topic", topic), slog.Any("err", err))
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// createTopic creates topic unless it exists. A concurrent creation by
// someone else (TOPIC_ALREADY_EXISTS) counts as success.
func (k *Kafka) createTopic(ctx context.Context, topic string) error {
	details, err := k.adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("look up topic %s: %w", topic, err)
	}
	if details.Has(topic) {
		return nil
	}
	parts, repl, configs := k.topicSpec(topic)
	resp, err := k.adm.CreateTopic(ctx, parts, repl, configs, topic)
	switch {
	case err == nil:
		k.log.Info("created topic", slog.String("topic", topic),
			slog.Int("partitions", int(resp.NumPartitions)), slog.Int("replication_factor", int(resp.ReplicationFactor)))
		schema.AwaitTopic(ctx, k.cl, topic)
		return nil
	case errors.Is(err, errTopicExists): // created meanwhile, perhaps just now
		schema.AwaitTopic(ctx, k.cl, topic)
		return nil
	}
	return &ProduceError{Topic: topic, Partition: -1, Err: fmt.Errorf("create topic: %w", err), Hint: topicHint(err)}
}

// TopicSpec is a topic to create and its settings (-1: the broker's
// default).
type TopicSpec struct {
	Topic       string
	Partitions  int32
	Replication int16
	Configs     map[string]*string
}

// PrepareSchemaChanges creates, in one CreateTopics request, the topics
// SendSchemaChanges(changes, srcs) is about to write that do not exist
// yet, the topics of tables (those a snapshot is about to write rows of),
// and those of also: topics of the same cluster that another client is
// about to write (the schema history's, at a fresh start). Brokers create
// topics one request at a time, some 30 ms each: two requests made side
// by side take twice as long as one. A table's topic is left out when the
// format cannot name it ahead (TableTopicFormat). The sink's own topics
// are known afterwards: its writers neither look them up nor create them
// again. It returns the topics it created. Best effort: whatever fails
// here is left to the writers, which create their topics as before.
func (k *Kafka) PrepareSchemaChanges(ctx context.Context, changes []*schema.Change, srcs []event.Source, tables []*schema.Table, also ...TopicSpec) []string {
	if k.cfg.NoTopicCreation || len(srcs) != len(changes) || k.state() != nil {
		return nil
	}
	var specs []TopicSpec
	seen := make(map[string]bool)
	add := func(topic string) {
		if !seen[topic] {
			seen[topic] = true
			parts, repl, configs := k.topicSpec(topic)
			specs = append(specs, TopicSpec{Topic: topic, Partitions: parts, Replication: repl, Configs: configs})
		}
	}
	for i, c := range changes {
		rs, err := k.format.SchemaChangeRecords(ctx, c, srcs[i])
		if err != nil {
			return nil // SendSchemaChanges meets it
		}
		for _, r := range rs {
			add(r.Topic)
		}
	}
	if tf, ok := k.format.(TableTopicFormat); ok {
		for _, t := range tables {
			if topic, ok := tf.TableTopic(t); ok {
				add(topic)
			}
		}
	}
	ours := len(specs) // specs[:ours] are the sink's own topics
	for _, s := range also {
		if !seen[s.Topic] {
			seen[s.Topic] = true
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		return nil
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Topic
	}
	details, err := k.adm.ListTopics(ctx, names...)
	if err != nil {
		return nil
	}
	// The sink's own topics are claimed as ensureTopic claims them, so
	// that SendSchemaChanges waits for this creation instead of starting
	// its own.
	claimed := make(map[string]*topicState)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 15_000
	k.tmu.Lock()
	for i, s := range specs {
		if i < ours && k.topics[s.Topic] != nil {
			continue // known, or being created
		}
		if details.Has(s.Topic) {
			if i < ours { // known now, as createTopic would find it
				st := &topicState{done: make(chan struct{})}
				close(st.done)
				k.topics[s.Topic] = st
			}
			continue
		}
		if i < ours {
			st := &topicState{done: make(chan struct{})}
			k.topics[s.Topic] = st
			claimed[s.Topic] = st
		}
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = s.Topic, s.Partitions, s.Replication
		for key, v := range s.Configs {
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name, rc.Value = key, v
			rt.Configs = append(rt.Configs, rc)
		}
		req.Topics = append(req.Topics, rt)
	}
	k.tmu.Unlock()
	var created []string
	results := make(map[string]error)
	if len(req.Topics) > 0 {
		resp, err := req.RequestWith(ctx, k.cl)
		unanswered := err // a topic the response leaves out
		if unanswered == nil {
			unanswered = errors.New("no answer for the topic")
		}
		for _, rt := range req.Topics {
			results[rt.Topic] = unanswered
		}
		if resp != nil {
			for _, t := range resp.Topics {
				if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
					results[t.Topic] = err
					continue
				}
				results[t.Topic] = nil
				created = append(created, t.Topic)
				if claimed[t.Topic] != nil {
					k.log.Info("created topic", slog.String("topic", t.Topic),
						slog.Int("partitions", int(t.NumPartitions)), slog.Int("replication_factor", int(t.ReplicationFactor)))
				}
			}
		}
		var wg sync.WaitGroup
		for _, t := range created {
			wg.Go(func() { schema.AwaitTopic(ctx, k.cl, t) })
		}
		wg.Wait()
	}
	for topic, st := range claimed {
		if err, ok := results[topic]; !ok || err != nil {
			// Not created here: the writer creates it as before.
			k.tmu.Lock()
			delete(k.topics, topic)
			k.tmu.Unlock()
			st.handoff, st.err = true, fmt.Errorf("topic %s not created with the schema change topics", topic)
		}
		close(st.done)
	}
	return created
}

// topicSpec returns the partitions, replication factor and configs of a
// topic the sink creates: the first matching TopicGroup's, else the
// defaults.
func (k *Kafka) topicSpec(topic string) (int32, int16, map[string]*string) {
	for _, g := range k.cfg.TopicGroups {
		if g.Match == nil || !g.Match(topic) {
			continue
		}
		var configs map[string]*string
		if len(g.Configs) > 0 {
			configs = make(map[string]*string, len(g.Configs))
			for key, v := range g.Configs {
				configs[key] = kadm.StringPtr(v)
			}
		}
		return g.Partitions, g.Replication, configs
	}
	return k.cfg.TopicPartitions, k.cfg.TopicReplication, nil
}

// Flush waits until every record handed to Kafka so far is acknowledged or
// failed. It returns the sink's failure, if any.
func (k *Kafka) Flush(ctx context.Context) error {
	if err := k.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush kafka: %w", err)
	}
	if p := k.failed.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *p)
	}
	return nil
}

// Close closes the client. Records not yet acknowledged are failed (their
// done callbacks receive an error); call Flush first to deliver them.
func (k *Kafka) Close() error {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		k.cl.Close()
		if k.reqs != nil {
			k.reqs.log(k.log)
		}
	})
	return nil
}

// keyPartitioner is franz-go's StickyKeyPartitioner (Kafka's murmur2 of
// the key, sticky for null keys) that skips hashing the key when the topic
// has one partition, where every key lands on partition 0 anyway: with
// schemas a key is some 150 bytes, and hashing it was 5% of a streaming
// run's CPU.
type keyPartitioner struct{ kgo.Partitioner }

func (p keyPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return onePartitionFast{p.Partitioner.ForTopic(topic)}
}

type onePartitionFast struct{ kgo.TopicPartitioner }

func (p onePartitionFast) Partition(r *kgo.Record, n int) int {
	if n == 1 {
		return 0
	}
	return p.TopicPartitioner.Partition(r, n)
}

func (p onePartitionFast) OnNewBatch() {
	if nb, ok := p.TopicPartitioner.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// kgoLogger bridges franz-go's logger to slog; franz-go's info messages
// (connections, metadata, flushes) are debug detail for us.
type kgoLogger struct{ l *slog.Logger }

func (g kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case g.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelInfo
	case g.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case g.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (g kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var l slog.Level
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	default:
		l = slog.LevelDebug
	}
	g.l.Log(context.Background(), l, msg, keyvals...)
}
