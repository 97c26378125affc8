package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KafkaHistoryConfig configures a KafkaHistory.
type KafkaHistoryConfig struct {
	Brokers  []string // schema.history.internal.kafka.bootstrap.servers
	Topic    string   // schema.history.internal.kafka.topic
	ClientID string
	Logger   *slog.Logger
	// Opts are extra franz-go options (TLS, SASL, client.id) of the
	// client that writes the history and creates its topic.
	Opts []kgo.Opt
	// ConsumerOpts, when set, replace Opts for the client that reads the
	// history (schema.history.internal.consumer.*).
	ConsumerOpts []kgo.Opt
}

// KafkaHistory is Debezium's KafkaSchemaHistory: records on partition 0 of
// a one-partition topic with unlimited retention, key null, value the JSON
// document.
type KafkaHistory struct {
	cfg KafkaHistoryConfig
	cl  *kgo.Client
	adm *kadm.Client
	log *slog.Logger
	// topicReady: the topic was created or found by an Append (Appends are
	// serial: the engine records one batch's DDL at a time).
	topicReady bool
}

// NewKafkaHistory connects lazily; the topic is created on first Append.
func NewKafkaHistory(cfg KafkaHistoryConfig) (*KafkaHistory, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(30 * time.Second),
	}, cfg.Opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: kafka client: %w", ErrHistory, err)
	}
	return &KafkaHistory{cfg: cfg, cl: cl, adm: kadm.NewClient(cl), log: log}, nil
}

// TopicConfigs are the configs of the history topic: Debezium's (one
// partition, replication the broker's default, kept forever).
func TopicConfigs() map[string]*string {
	return map[string]*string{
		"cleanup.policy":  kadm.StringPtr("delete"),
		"retention.ms":    kadm.StringPtr("9223372036854775807"),
		"retention.bytes": kadm.StringPtr("-1"),
	}
}

// Topic returns the topic.
func (h *KafkaHistory) Topic() string { return h.cfg.Topic }

// TopicCreated says that another client created the topic and waited
// until it takes records: the first Append does not create it. Call it
// before Append, not beside it.
func (h *KafkaHistory) TopicCreated() { h.topicReady = true }

func (h *KafkaHistory) ensureTopic(ctx context.Context) error {
	_, err := h.adm.CreateTopic(ctx, 1, -1, TopicConfigs(), h.cfg.Topic)
	switch {
	case err == nil:
		h.log.Info("schema history topic created", "topic", h.cfg.Topic)
		AwaitTopic(ctx, h.cl, h.cfg.Topic)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return nil
	}
	return fmt.Errorf("%w: create topic %s: %w (create it with one partition and unlimited retention, or grant CREATE)", ErrHistory, h.cfg.Topic, err)
}

// topicReadyWait bounds AwaitTopic.
const topicReadyWait = 2 * time.Second

// AwaitTopic waits until a topic just created takes records: every
// partition has a leader, and the leader answers for it. CreateTopics
// returns once the controller committed the topic, before the brokers
// applied it: a record produced at once met an unknown topic (franz-go
// then looks again after 250 ms) or a broker not leading the partition
// yet (NOT_LEADER_OR_FOLLOWER: franz-go looks again only after its
// metadata min age, 5 s), seen on a new table's first record. A leader
// answers ListOffsets only once it leads the partition, as it does
// Produce. Waiting gives up after topicReadyWait or on an error that
// retrying cannot fix: producing then meets it and retries as before.
// The schema history's topic and the sink's (which imports schema) both
// wait with it.
func AwaitTopic(ctx context.Context, cl *kgo.Client, topic string) {
	deadline := time.Now().Add(topicReadyWait)
	const wait = 3 * time.Millisecond // a few requests: the brokers take ~10-40 ms
	for {
		ready, final := topicReady(ctx, cl, topic)
		if ready || final || time.Now().Add(wait).After(deadline) {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// topicReady reports whether every partition of topic has a leader that
// answers ListOffsets for it; final, whether an error says that asking
// again will not help.
func topicReady(ctx context.Context, cl *kgo.Client, topic string) (ready, final bool) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	resp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return false, ctx.Err() != nil
	}
	if len(resp.Topics) != 1 {
		return false, false
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil || len(t.Partitions) == 0 {
		return false, err != nil && !kerr.IsRetriable(err)
	}
	byLeader := make(map[int32][]int32)
	for _, p := range t.Partitions {
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil || p.Leader < 0 {
			return false, err != nil && !kerr.IsRetriable(err)
		}
		byLeader[p.Leader] = append(byLeader[p.Leader], p.Partition)
	}
	for leader, parts := range byLeader {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range parts {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp = p, -1 // the end offset
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		lresp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
		if err != nil {
			return false, ctx.Err() != nil
		}
		for _, lt := range lresp.Topics {
			for _, lp := range lt.Partitions {
				if err := kerr.ErrorForCode(lp.ErrorCode); err != nil {
					return false, !kerr.IsRetriable(err)
				}
			}
		}
	}
	return true, false
}

// Append produces records to partition 0 and waits for their acknowledgement.
// While Kafka is unreachable it retries (every second, until ctx ends), as
// the sink waits for its records: a DDL during a Kafka outage must not stop
// Rivulet (RELIABILITY §3 #14). Errors Kafka calls final (authorization,
// policy) are returned at once.
func (h *KafkaHistory) Append(ctx context.Context, records [][]byte) error {
	for attempt := 0; ; attempt++ {
		err := h.append(ctx, records)
		var ke *kerr.Error
		if err == nil || ctx.Err() != nil || (errors.As(err, &ke) && !ke.Retriable) {
			if err == nil && attempt > 0 {
				h.log.Info("schema history written after Kafka came back", "topic", h.cfg.Topic, "attempts", attempt+1)
			}
			return err
		}
		if attempt == 0 {
			h.log.Warn("schema history write failed; retrying until Kafka answers", "topic", h.cfg.Topic, "error", err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

func (h *KafkaHistory) append(ctx context.Context, records [][]byte) error {
	if !h.topicReady {
		if err := h.ensureTopic(ctx); err != nil {
			return err
		}
		h.topicReady = true
	}
	recs := make([]*kgo.Record, len(records))
	for i, r := range records {
		recs[i] = &kgo.Record{Topic: h.cfg.Topic, Partition: 0, Value: r}
	}
	if err := h.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("%w: produce to %s: %w", ErrHistory, h.cfg.Topic, err)
	}
	return nil
}

// bounds returns partition 0's start and end offsets; ok is false when the
// topic does not exist.
func (h *KafkaHistory) bounds(ctx context.Context) (start, end int64, ok bool, err error) {
	ends, err := h.adm.ListEndOffsets(ctx, h.cfg.Topic)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: list offsets of %s: %w", ErrHistory, h.cfg.Topic, err)
	}
	e, found := ends.Lookup(h.cfg.Topic, 0)
	if !found || errors.Is(e.Err, kerr.UnknownTopicOrPartition) {
		return 0, 0, false, nil
	}
	if e.Err != nil {
		return 0, 0, false, fmt.Errorf("%w: list offsets of %s: %w", ErrHistory, h.cfg.Topic, e.Err)
	}
	starts, err := h.adm.ListStartOffsets(ctx, h.cfg.Topic)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: list offsets of %s: %w", ErrHistory, h.cfg.Topic, err)
	}
	s, _ := starts.Lookup(h.cfg.Topic, 0)
	return s.Offset, e.Offset, true, nil
}

// Exists reports whether the topic holds a record.
func (h *KafkaHistory) Exists(ctx context.Context) (bool, error) {
	start, end, ok, err := h.bounds(ctx)
	return ok && end > start, err
}

// Read consumes partition 0 from its start to its current end.
func (h *KafkaHistory) Read(ctx context.Context, fn func([]byte) error) error {
	start, end, ok, err := h.bounds(ctx)
	if err != nil || !ok || end <= start {
		return err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(h.cfg.Brokers...),
		kgo.ClientID(h.cfg.ClientID),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{h.cfg.Topic: {0: kgo.NewOffset().At(start)}}),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}, h.consumerOpts()...)...)
	if err != nil {
		return fmt.Errorf("%w: kafka client: %w", ErrHistory, err)
	}
	defer cl.Close()
	next := start
	for next < end {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if ferr == nil && !kerr.IsRetriable(err) {
				ferr = err
			}
		})
		if ferr != nil {
			return fmt.Errorf("%w: read %s: %w", ErrHistory, h.cfg.Topic, ferr)
		}
		var cbErr error
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if cbErr == nil && r.Offset < end {
				cbErr = fn(r.Value)
			}
		})
		if cbErr != nil {
			return cbErr
		}
	}
	return nil
}

func (h *KafkaHistory) consumerOpts() []kgo.Opt {
	if h.cfg.ConsumerOpts != nil {
		return h.cfg.ConsumerOpts
	}
	return h.cfg.Opts
}

// Close closes the client.
func (h *KafkaHistory) Close() error {
	h.cl.Close()
	return nil
}
