package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka Connect's defaults for a worker's offsets topic
// (offset.storage.partitions, offset.storage.replication.factor; Rivulet
// leaves the replication factor to the broker, so a one-broker development
// cluster works).
const (
	DefaultKafkaPartitions        = 25
	DefaultKafkaReplicationFactor = -1
	DefaultKafkaLeaseTimeout      = 6 * time.Second
)

// KafkaConfig configures a KafkaStore. Zero fields mean their defaults.
type KafkaConfig struct {
	// Brokers are the seed brokers (bootstrap.servers), required.
	Brokers []string
	// Topic is the offsets topic (offset.storage.topic), required. It is
	// created compacted when missing.
	Topic string
	// ConnectorName and TopicPrefix make the record key (Key).
	ConnectorName string
	TopicPrefix   string
	// Partitions and ReplicationFactor are used when the topic is created.
	// Defaults DefaultKafkaPartitions and DefaultKafkaReplicationFactor.
	Partitions        int32
	ReplicationFactor int16
	// LeaseTimeout is the session timeout of the one-writer lease (see
	// Lock): how long an instance that died without leaving keeps holding
	// the offsets. Default DefaultKafkaLeaseTimeout.
	LeaseTimeout time.Duration
	// ClientID names this process to the brokers; default "rivulet".
	ClientID string
	// Opts are appended to every Kafka client the store makes (TLS, SASL).
	Opts []kgo.Opt
	// ProducerOpts, when set, replace Opts for the store's transactional
	// producer (the producer.* client settings, where they differ from the
	// consumer's).
	ProducerOpts []kgo.Opt
	Logger       *slog.Logger
}

// KafkaStore keeps the position in a Kafka topic exactly as Kafka Connect
// keeps source offsets (DEBEZIUM-REFERENCE §4.2): record key Key(name,
// prefix), value MarshalValue(p), a null value to delete. Connect's producer
// chooses the partition from the murmur2 hash of the key bytes, and so does
// this store, so Rivulet's records replace Debezium's entry in place, and
// Debezium (or Kafka Connect's offsets REST API) reads Rivulet's.
//
// Writes go through a transactional producer whose id is derived from the
// connector, so a torn or half-written record is never read back, and a
// second process saving for the same connector fences the first: its next
// Save fails with ErrFenced. Lock adds a lease that lets a second process
// refuse to start at all while the first one lives.
//
// A KafkaStore is safe for concurrent use.
type KafkaStore struct {
	cfg  KafkaConfig
	key  []byte
	log  *slog.Logger
	txID string

	mu       sync.Mutex // serializes transactions
	producer *kgo.Client
	adm      *kadm.Client
	meta     *kgo.Client // adm's client
	lease    *kgo.Client // group member while Lock is held
}

// NewKafkaStore checks cfg and returns a store; it does not connect yet.
func NewKafkaStore(cfg KafkaConfig) (*KafkaStore, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, fmt.Errorf("kafka offset store: brokers and topic are required")
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = DefaultKafkaPartitions
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = DefaultKafkaReplicationFactor
	}
	if cfg.LeaseTimeout <= 0 {
		cfg.LeaseTimeout = DefaultKafkaLeaseTimeout
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "rivulet"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &KafkaStore{
		cfg:  cfg,
		key:  Key(cfg.ConnectorName, cfg.TopicPrefix),
		log:  cfg.Logger,
		txID: "rivulet-offsets." + cfg.ConnectorName + "." + cfg.TopicPrefix,
	}
	// Short metadata caching: a topic created after a first Load must be
	// seen by the next one.
	meta, err := kgo.NewClient(s.opts(kgo.MetadataMinAge(10 * time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("kafka offset store: %w", err)
	}
	s.meta, s.adm = meta, kadm.NewClient(meta)
	return s, nil
}

func (s *KafkaStore) opts(extra ...kgo.Opt) []kgo.Opt {
	o := []kgo.Opt{kgo.SeedBrokers(s.cfg.Brokers...), kgo.ClientID(s.cfg.ClientID)}
	o = append(o, s.cfg.Opts...)
	return append(o, extra...)
}

func (s *KafkaStore) producerOpts(extra ...kgo.Opt) []kgo.Opt {
	if s.cfg.ProducerOpts == nil {
		return s.opts(extra...)
	}
	o := []kgo.Opt{kgo.SeedBrokers(s.cfg.Brokers...), kgo.ClientID(s.cfg.ClientID)}
	o = append(o, s.cfg.ProducerOpts...)
	return append(o, extra...)
}

// Topic returns the offsets topic.
func (s *KafkaStore) Topic() string { return s.cfg.Topic }

// TransactionalID returns the id whose producer epoch fences older writers.
func (s *KafkaStore) TransactionalID() string { return s.txID }

// leaseGroup is the consumer group whose live member is the writer.
func (s *KafkaStore) leaseGroup() string { return s.txID + ".lease" }

// Lock makes this process the connector's only writer, or fails with an
// error matching ErrLocked that names the other process. It creates the
// topic when missing (compacted), checks that no other live process holds
// the lease (a consumer-group membership; a process killed without
// leaving holds it until LeaseTimeout, which Lock waits out), joins the
// lease group, and initializes the transactional producer, which fences
// any older writer. Close releases the lease.
func (s *KafkaStore) Lock(ctx context.Context) error {
	if err := s.ensureTopic(ctx); err != nil {
		return err
	}
	if err := s.waitLeaseFree(ctx); err != nil {
		return err
	}
	host, _ := os.Hostname()
	lease, err := kgo.NewClient(s.opts(
		kgo.ClientID(fmt.Sprintf("%s pid %d on %s", s.cfg.ClientID, os.Getpid(), host)),
		kgo.ConsumerGroup(s.leaseGroup()),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(s.cfg.LeaseTimeout),
		kgo.HeartbeatInterval(s.cfg.LeaseTimeout/5),
		kgo.FetchMaxWait(time.Second),
	)...)
	if err != nil {
		return fmt.Errorf("kafka offset store: lease: %w", err)
	}
	// The lease member needs no records: membership is the lease.
	lease.PauseFetchTopics(s.cfg.Topic)
	if err := s.awaitMembership(ctx, lease); err != nil {
		lease.Close()
		return err
	}
	p, err := s.producerClient()
	if err != nil {
		lease.Close()
		return err
	}
	if _, _, err := p.ProducerID(ctx); err != nil {
		lease.Close()
		return fmt.Errorf("kafka offset store: initialize transactional producer %q: %w", s.txID, err)
	}
	s.mu.Lock()
	s.lease = lease
	s.mu.Unlock()
	return nil
}

// waitLeaseFree returns once the lease group has no member, or ErrLocked
// when one stays longer than a session timeout (a live process heartbeats).
func (s *KafkaStore) waitLeaseFree(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.LeaseTimeout + 2*time.Second)
	logged := false
	for {
		g, err := s.describeLease(ctx)
		if err != nil {
			return err
		}
		if len(g.Members) == 0 || g.State == "Dead" || g.State == "Empty" {
			return nil
		}
		holders := make([]string, 0, len(g.Members))
		for _, m := range g.Members {
			holders = append(holders, m.ClientID+" ("+m.ClientHost+")")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: connector %q (topic.prefix %q) is run by %s, which holds the lease group %s of offsets topic %s; stop it first (each connector runs as one process)",
				ErrLocked, s.cfg.ConnectorName, s.cfg.TopicPrefix, strings.Join(holders, ", "), s.leaseGroup(), s.cfg.Topic)
		}
		if !logged {
			s.log.Info("another process holds the offsets lease; waiting for it to expire in case it was killed",
				"holders", strings.Join(holders, ", "), "timeout", s.cfg.LeaseTimeout)
			logged = true
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// describeLease describes the lease group. A real broker answers
// COORDINATOR_NOT_AVAILABLE (or LOAD_IN_PROGRESS) while it creates
// __consumer_offsets on first use or loads it after a restart: such
// retriable errors are retried for up to leaseDescribeRetry. A group that
// does not exist is returned without error and without members.
func (s *KafkaStore) describeLease(ctx context.Context) (kadm.DescribedGroup, error) {
	deadline := time.Now().Add(leaseDescribeRetry)
	for {
		gs, err := s.adm.DescribeGroups(ctx, s.leaseGroup())
		g := gs[s.leaseGroup()]
		if err == nil && g.Err != nil && !errors.Is(g.Err, kerr.GroupIDNotFound) {
			err = g.Err
		}
		if err == nil {
			return g, nil
		}
		if !kerr.IsRetriable(err) || time.Now().After(deadline) {
			return g, fmt.Errorf("kafka offset store: describe lease group %s: %w", s.leaseGroup(), err)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return g, err
		}
	}
}

// leaseDescribeRetry bounds the retries of describeLease.
const leaseDescribeRetry = 30 * time.Second

// awaitMembership returns once lease is a member of the lease group, so
// that a process starting after Lock returned sees this one. Another member
// found there (two processes started at the same time) fails it with
// ErrLocked: at worst both refuse, never both run.
func (s *KafkaStore) awaitMembership(ctx context.Context, lease *kgo.Client) error {
	deadline := time.Now().Add(2*s.cfg.LeaseTimeout + 5*time.Second)
	for {
		id, _ := lease.GroupMetadata()
		if id != "" {
			g, err := s.describeLease(ctx)
			if err != nil {
				return err
			}
			var mine bool
			var others []string
			for _, m := range g.Members {
				switch {
				case m.MemberID == id:
					mine = true
				default:
					others = append(others, m.ClientID+" ("+m.ClientHost+")")
				}
			}
			if len(others) > 0 {
				return fmt.Errorf("%w: connector %q (topic.prefix %q) is also being started by %s (lease group %s); stop it first (each connector runs as one process)",
					ErrLocked, s.cfg.ConnectorName, s.cfg.TopicPrefix, strings.Join(others, ", "), s.leaseGroup())
			}
			if mine {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka offset store: could not join the lease group %s", s.leaseGroup())
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *KafkaStore) producerClient() (*kgo.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.producer != nil {
		return s.producer, nil
	}
	p, err := kgo.NewClient(s.producerOpts(
		kgo.TransactionalID(s.txID),
		kgo.TransactionTimeout(time.Minute),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, as Kafka Connect
		kgo.ProducerLinger(0),
		// A Save that cannot reach Kafka fails instead of hanging: the
		// engine stops rather than acknowledge the position.
		kgo.RecordDeliveryTimeout(30*time.Second),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka offset store: producer: %w", err)
	}
	s.producer = p
	return p, nil
}

// ensureTopic creates the offsets topic, compacted, when it is missing.
func (s *KafkaStore) ensureTopic(ctx context.Context) error {
	resp, err := s.adm.CreateTopic(ctx, s.cfg.Partitions, s.cfg.ReplicationFactor,
		map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, s.cfg.Topic)
	switch {
	case err == nil:
		s.log.Info("offsets topic created", "topic", s.cfg.Topic, "partitions", resp.NumPartitions)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return nil
	}
	return fmt.Errorf("kafka offset store: create topic %s: %w (create it compacted, or grant CREATE on the cluster)", s.cfg.Topic, err)
}

// loadIdle is how long Load waits for more records before it takes the
// topic as read (fetches wait at most 200ms on a healthy broker).
const loadIdle = 5 * time.Second

// Load reads the offsets topic from its start to its last committed record
// and returns the last value stored under this connector's key; ok is false
// when there is none, when the last one is a tombstone, or when the topic
// does not exist. Records of aborted transactions are skipped. A key
// spelled differently but naming the same connector counts when no exact
// key is found.
func (s *KafkaStore) Load(ctx context.Context) (Position, bool, error) {
	ends, err := s.adm.ListCommittedOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return Position{}, false, fmt.Errorf("load offsets from topic %s: list offsets: %w", s.cfg.Topic, err)
	}
	starts, err := s.adm.ListStartOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return Position{}, false, fmt.Errorf("load offsets from topic %s: list offsets: %w", s.cfg.Topic, err)
	}
	parts := map[int32]kgo.Offset{}
	last := map[int32]int64{}
	var listErr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			if !errors.Is(o.Err, kerr.UnknownTopicOrPartition) && listErr == nil {
				listErr = o.Err
			}
			return
		}
		st, ok := starts.Lookup(o.Topic, o.Partition)
		if !ok || st.Err != nil || o.Offset <= st.Offset {
			return
		}
		parts[o.Partition] = kgo.NewOffset().At(st.Offset)
		last[o.Partition] = o.Offset - 1
	})
	if listErr != nil {
		return Position{}, false, fmt.Errorf("load offsets from topic %s: %w", s.cfg.Topic, listErr)
	}
	if len(parts) == 0 {
		return Position{}, false, nil
	}
	cl, err := kgo.NewClient(s.opts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // so a partition ending in a commit marker is seen to its end
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		return Position{}, false, fmt.Errorf("load offsets from topic %s: %w", s.cfg.Topic, err)
	}
	defer cl.Close()

	var exact, alike []byte
	var foundExact, foundAlike bool
	for len(last) > 0 {
		// The last offset below the end may be gone (a compacted-away
		// tombstone): a poll that finds nothing more ends the read.
		pctx, cancel := context.WithTimeout(ctx, loadIdle)
		fs := cl.PollFetches(pctx)
		idle := pctx.Err() != nil
		cancel()
		if err := ctx.Err(); err != nil {
			return Position{}, false, fmt.Errorf("load offsets from topic %s: %w", s.cfg.Topic, err)
		}
		if idle && fs.NumRecords() == 0 {
			s.log.Debug("offsets topic read to its readable end", "topic", s.cfg.Topic, "partitions_short", len(last))
			break
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if ferr == nil && !kerr.IsRetriable(err) {
				ferr = err
			}
		})
		if ferr != nil {
			return Position{}, false, fmt.Errorf("load offsets from topic %s: %w", s.cfg.Topic, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := last[r.Partition]; ok && r.Offset >= end {
				delete(last, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			switch {
			case bytes.Equal(r.Key, s.key):
				exact, foundExact = r.Value, true
			case s.sameConnector(r.Key):
				alike, foundAlike = r.Value, true
			}
		})
	}
	val := exact
	if !foundExact {
		if !foundAlike {
			return Position{}, false, nil
		}
		val = alike
	}
	if val == nil {
		return Position{}, false, nil // tombstone: deleted
	}
	p, err := UnmarshalValue(val)
	if err != nil {
		return Position{}, false, fmt.Errorf("load offsets from topic %s, key %s: %w (write a correct value with `rivulet offsets set`, or delete it with `rivulet offsets reset`)", s.cfg.Topic, s.key, err)
	}
	return p, true, nil
}

// sameConnector reports whether key decodes to this connector's partition.
func (s *KafkaStore) sameConnector(key []byte) bool {
	var parts []json.RawMessage
	if json.Unmarshal(key, &parts) != nil || len(parts) != 2 {
		return false
	}
	var name string
	var partition map[string]string
	if json.Unmarshal(parts[0], &name) != nil || json.Unmarshal(parts[1], &partition) != nil {
		return false
	}
	return name == s.cfg.ConnectorName && len(partition) == 1 && partition["server"] == s.cfg.TopicPrefix
}

// Save writes p as this connector's position in one transaction and waits
// until it is committed. When Save returns nil the position is durable in
// Kafka; on error it must not be considered stored. After another process
// took over the connector, Save fails with an error matching ErrFenced.
func (s *KafkaStore) Save(ctx context.Context, p Position) error {
	if p.File == "" {
		return fmt.Errorf("save offsets to topic %s: %w: no binlog file in %s", s.cfg.Topic, ErrInvalidPosition, p)
	}
	if err := s.write(ctx, MarshalValue(p)); err != nil {
		return fmt.Errorf("save offsets %s to topic %s: %w", p, s.cfg.Topic, err)
	}
	return nil
}

// Delete writes a tombstone for this connector's key: the next start finds
// no position and begins as snapshot.mode says (as Kafka Connect's
// DELETE /connectors/<name>/offsets does).
func (s *KafkaStore) Delete(ctx context.Context) error {
	if err := s.write(ctx, nil); err != nil {
		return fmt.Errorf("delete offsets in topic %s: %w", s.cfg.Topic, err)
	}
	return nil
}

func (s *KafkaStore) write(ctx context.Context, value []byte) error {
	p, err := s.producerClient()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := p.BeginTransaction(); err != nil {
		return s.fenced(err)
	}
	rec := &kgo.Record{Topic: s.cfg.Topic, Key: slices.Clone(s.key), Value: value}
	if err := p.ProduceSync(ctx, rec).FirstErr(); err != nil {
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if aerr := p.AbortBufferedRecords(abortCtx); aerr == nil {
			_ = p.EndTransaction(abortCtx, kgo.TryAbort)
		}
		return s.fenced(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return s.fenced(err)
	}
	return nil
}

// fenced marks errors that mean another process took over the writes.
func (s *KafkaStore) fenced(err error) error {
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) {
		return fmt.Errorf("%w: another process started for connector %q with transactional id %q: %w", ErrFenced, s.cfg.ConnectorName, s.txID, err)
	}
	return err
}

// Close releases the lease and closes the clients.
func (s *KafkaStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease != nil {
		s.lease.Close() // leaves the group
		s.lease = nil
	}
	if s.producer != nil {
		s.producer.Close()
		s.producer = nil
	}
	s.meta.Close()
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
