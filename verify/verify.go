package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// Defaults for zero Config fields.
const (
	DefaultMaxKeys = 10000
	DefaultRounds  = 3
	maxPartitions  = 1024
	recheckBatch   = 200 // keys per re-read statement
)

// Encoder is the sink encoder of the connector (debeziumjson.JSON through an
// adapter, or sink/avro's Encoder): verify encodes every database row with
// it as a snapshot read, so the database side is in the bytes Rivulet writes.
type Encoder interface {
	Topic(t *schema.Table) (string, error)
	AppendRecords(ctx context.Context, recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error)
}

// Config configures Run; zero means the default named on the field.
type Config struct {
	// Tables are the captured tables, as the server defines them now.
	Tables []*schema.Table
	// Snapshot is the database connection and chunk size of the reads
	// (the connector's snapshot settings). Overrides are applied: the
	// topic holds what they select.
	Snapshot snapshot.Config
	Encoder  Encoder
	Codec    Codec
	// Kafka reads the topics; verify adds and removes the partitions it
	// consumes and leaves no consumer group behind.
	Kafka *kgo.Client
	// WaitPosition blocks until the running instance has acknowledged
	// every change up to p (so the topic holds them). nil means no
	// instance runs: the topic cannot catch up, differences are final.
	WaitPosition func(ctx context.Context, p offsets.Position) error
	// Dir holds the partition files (deleted after each table). Default
	// os.TempDir(). It needs room for about the topic's size.
	Dir string
	// MaxKeys bounds the differing keys followed and listed per table
	// (memory); beyond it only counts are kept. Default DefaultMaxKeys.
	MaxKeys int
	// Rounds bounds the re-checks of differing keys. Default DefaultRounds.
	Rounds int
	// Logger receives progress; default discard.
	Logger *slog.Logger
}

// Diff is one differing key: Key is its canonical JSON, Columns the
// after-image fields that differ (for keys whose values differ), RawKey
// the Kafka record key (for keys only in the topic).
type Diff struct {
	Key     string
	Columns []string
	RawKey  []byte
}

// Result is what Run found for one table.
type Result struct {
	Table, Topic string
	// Skipped, when set, says why the table was not compared.
	Skipped string
	// Rows is the rows read from the table; TopicKeys the keys the topic
	// holds (last record per key live); Records the records read.
	Rows, TopicKeys, Records int64
	// Missing lists keys in the table but not in the topic, Extra keys only
	// in the topic, Differ keys whose after-images differ; each up to
	// MaxKeys, the N fields count them all.
	Missing, Extra, Differ    []Diff
	MissingN, ExtraN, DifferN int64
	// Changing counts keys that still differed but that the stream changed
	// during the last re-check: in flight, not judged.
	Changing int64
	// NotRechecked counts differing keys that could not be read again by
	// key (ErrKeyType): reported from the first comparison.
	NotRechecked int64
	// DuplicateKeys counts rows whose record key another row of the table
	// has too (message.key.columns that are not unique): the topic can
	// hold only one row per key, so these rows are not compared.
	DuplicateKeys int64
	// Rounds is the re-check rounds run; Took the time spent.
	Rounds int
	Took   time.Duration
	// Notes are remarks for the output (no running instance, ...).
	Notes []string
}

// Equal reports whether the table and its topic agree.
func (r *Result) Equal() bool {
	return r.Skipped == "" && r.MissingN == 0 && r.ExtraN == 0 && r.DifferN == 0
}

// Run compares every table of cfg.Tables with its topic, one table at a
// time, and returns one Result per table (in cfg.Tables order).
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Encoder == nil || cfg.Codec == nil || cfg.Kafka == nil {
		return nil, fmt.Errorf("%w: Encoder, Codec and Kafka are required", ErrConfig)
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = DefaultRounds
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Snapshot.ChunkSize == 0 {
		cfg.Snapshot.ChunkSize = snapshot.DefaultChunkSize
	}
	cfg.Snapshot.Logger = cfg.Logger
	out := make([]Result, 0, len(cfg.Tables))
	for _, t := range cfg.Tables {
		r, err := runTable(ctx, &cfg, t)
		if err != nil {
			return out, fmt.Errorf("verify %s: %w", t.ID(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// tableRun is the state of one table's verification.
type tableRun struct {
	cfg   *Config
	t     *schema.Table
	log   *slog.Logger
	h     hasher
	parts int
	res   Result

	recs []sink.Record
	buf  []byte

	topicEnd map[int32]int64 // where the topic was read to
	cands    map[string]*cand
}

// cand is a key that differed, followed through the re-checks.
type cand struct {
	kind                byte // 'm' missing, 'x' extra, 'd' differs (first comparison)
	rawKey              []byte
	topicLive, dbLive   bool
	topicAfter, dbAfter []byte
	dbKnown, noRecheck  bool
	changed             bool // the stream changed it in this round
}

func runTable(ctx context.Context, cfg *Config, t *schema.Table) (Result, error) {
	began := time.Now()
	v := &tableRun{cfg: cfg, t: t, log: cfg.Logger.With("table", t.ID()), h: newHasher(), cands: map[string]*cand{}}
	v.res.Table = t.ID()
	topic, err := cfg.Encoder.Topic(t)
	if err != nil {
		return v.res, err
	}
	v.res.Topic = topic
	if len(t.Key()) == 0 {
		v.res.Skipped = "no primary key and no message.key.columns: its records have no key to match them to rows"
		return v.res, nil
	}
	snap, err := snapshot.New(cfg.Snapshot)
	if err != nil {
		return v.res, err
	}
	est, err := snap.EstimateRows(ctx, []*schema.Table{t})
	if err != nil {
		return v.res, err
	}
	// About ChunkSize keys per partition: the larger of the server's
	// estimate (which can be far off right after bulk changes) and the
	// topic's record count (at least its keys).
	n := max(est[t.ID()], v.topicRecords(ctx))
	v.parts = min(maxPartitions, max(1, int(n/int64(cfg.Snapshot.ChunkSize))+1))
	dir, err := os.MkdirTemp(cfg.Dir, "rivulet-verify-")
	if err != nil {
		return v.res, fmt.Errorf("create a work directory in %s: %w (set --work-dir)", cfg.Dir, err)
	}
	defer os.RemoveAll(dir)
	dbParts, err := newSpills(dir, "db", v.parts)
	if err != nil {
		return v.res, err
	}
	defer closeSpills(dbParts)
	topicParts, err := newSpills(dir, "topic", v.parts)
	if err != nil {
		return v.res, err
	}
	defer closeSpills(topicParts)

	// 1. The table, chunk by chunk.
	dbSums := make([]sum, v.parts)
	high, err := v.readDB(ctx, cfg.Snapshot, func(key, after []byte) error {
		p := v.h.partition(key, v.parts)
		vh := v.h.value(after)
		dbSums[p].add(v.h.entry(key, vh))
		dbParts[p].bytes(key)
		dbParts[p].raw(vh[:])
		v.res.Rows++
		return nil
	})
	if err != nil {
		return v.res, err
	}
	v.log.Info("table read", "rows", v.res.Rows, "partitions", v.parts, "high", high.String())

	// 2. The topic, once the stream has passed the last chunk's high watermark.
	if err := v.wait(ctx, high); err != nil {
		return v.res, err
	}
	end, err := v.endOffsets(ctx)
	if err != nil {
		return v.res, err
	}
	v.topicEnd, err = v.readTopic(ctx, nil, end, func(r *kgo.Record, c *Canon) {
		if c.Op == 't' {
			for _, s := range topicParts {
				s.byte('t')
			}
			return
		}
		s := topicParts[v.h.partition(c.Key, v.parts)]
		s.byte(c.Op)
		s.bytes(r.Key)
		s.bytes(c.Key)
		if c.Live() {
			vh := v.h.value(c.After)
			s.raw(vh[:])
			s.bytes(c.After)
		}
	})
	if err != nil {
		return v.res, err
	}
	v.log.Info("topic read", "topic", v.res.Topic, "records", v.res.Records)

	// 3. Partition by partition: checksums, and keys where they differ.
	for p := range v.parts {
		if err := v.comparePartition(dbParts[p], topicParts[p], dbSums[p]); err != nil {
			return v.res, err
		}
	}

	// 4. Re-check what differs.
	if err := v.recheck(ctx); err != nil {
		return v.res, err
	}
	v.classify()
	v.res.Took = time.Since(began)
	return v.res, nil
}

// readDB reads the table with snapshot.Config sc (chunks between
// watermarks), calling row with each row's canonical key and after-image,
// and returns the highest high watermark.
func (v *tableRun) readDB(ctx context.Context, sc snapshot.Config, row func(key, after []byte) error) (offsets.Position, error) {
	var high offsets.Position
	snap, err := snapshot.New(sc)
	if err != nil {
		return high, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *snapshot.Chunk, 2)
	errc := make(chan error, 1)
	go func() {
		errc <- snap.Run(rctx, []*schema.Table{v.t}, snapshot.Progress{}, offsets.Position{}, chunks)
		close(chunks)
	}()
	var ferr error
	for ch := range chunks {
		if ferr == nil {
			if snapshot.ComparePositions(ch.High, high) > 0 {
				high = ch.High
			}
			for _, r := range ch.Rows {
				key, after, ok, err := v.encode(ctx, r)
				if err == nil && ok {
					err = row(key, after)
				}
				if err != nil {
					ferr = err
					cancel()
					break
				}
			}
		}
		ch.Release()
	}
	if err := <-errc; ferr == nil && err != nil {
		ferr = err
	}
	return high, ferr
}

// encode turns a database row into its canonical key and after-image via
// the sink encoder and the codec; ok is false when the encoder emits no
// record for it (a transform filtered it).
func (v *tableRun) encode(ctx context.Context, row []event.Value) (key, after []byte, ok bool, err error) {
	ev := event.ChangeEvent{Op: event.OpRead, Table: v.t, After: row,
		Source: event.Source{Snapshot: "true", Thread: -1}}
	v.recs, v.buf, err = v.cfg.Encoder.AppendRecords(ctx, v.recs[:0], v.buf[:0], &ev)
	if err != nil {
		return nil, nil, false, err
	}
	if len(v.recs) == 0 {
		return nil, nil, false, nil
	}
	r := v.recs[len(v.recs)-1]
	c, err := v.cfg.Codec.Decode(ctx, r.Key, r.Value)
	if err != nil {
		return nil, nil, false, fmt.Errorf("decode what the encoder wrote: %w", err)
	}
	if !c.Live() {
		return nil, nil, false, nil
	}
	return c.Key, c.After, true, nil
}

func (v *tableRun) wait(ctx context.Context, p offsets.Position) error {
	if v.cfg.WaitPosition == nil || p.File == "" {
		return nil
	}
	return v.cfg.WaitPosition(ctx, p)
}

func (v *tableRun) endOffsets(ctx context.Context) (map[int32]int64, error) {
	adm := kadm.NewClient(v.cfg.Kafka)
	ends, err := adm.ListEndOffsets(ctx, v.res.Topic)
	if err != nil {
		return nil, fmt.Errorf("list the end offsets of %s: %w", v.res.Topic, err)
	}
	out := map[int32]int64{}
	var missing bool
	ends.Each(func(o kadm.ListedOffset) {
		if errors.Is(o.Err, kerrUnknownTopic) {
			missing = true
			return
		}
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	if err := ends.Error(); err != nil && !missing {
		return nil, fmt.Errorf("list the end offsets of %s: %w", v.res.Topic, err)
	}
	if missing || len(out) == 0 {
		v.res.Notes = append(v.res.Notes, "topic "+v.res.Topic+" does not exist or is empty")
	}
	return out, nil
}

// topicRecords returns the records the topic holds now (end minus start
// offsets), 0 when it cannot tell.
func (v *tableRun) topicRecords(ctx context.Context) int64 {
	adm := kadm.NewClient(v.cfg.Kafka)
	starts, err := adm.ListStartOffsets(ctx, v.res.Topic)
	if err != nil {
		return 0
	}
	ends, err := adm.ListEndOffsets(ctx, v.res.Topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(e kadm.ListedOffset) {
		if s, ok := starts.Lookup(e.Topic, e.Partition); ok && e.Err == nil && s.Err == nil && e.Offset > s.Offset {
			n += e.Offset - s.Offset
		}
	})
	return n
}

// readTopic reads the topic's partitions from from (nil: the start) up to
// to, calling rec for each record in partition order. It returns where
// each partition was read to: to, or, for a partition that stopped
// returning records before it (its last offsets are transaction markers,
// or the broker is slow), the offset after its last record, so that the
// next read starts there again.
func (v *tableRun) readTopic(ctx context.Context, from, to map[int32]int64, rec func(*kgo.Record, *Canon)) (map[int32]int64, error) {
	cl := v.cfg.Kafka
	assign := map[int32]kgo.Offset{}
	left := map[int32]int64{}
	reached := make(map[int32]int64, len(to))
	for p, end := range to {
		start := int64(0)
		if from != nil {
			start = from[p]
		}
		reached[p] = max(start, 0)
		if start < end {
			assign[p] = kgo.NewOffset().At(start)
			left[p] = end
		} else {
			reached[p] = end
		}
	}
	if len(assign) == 0 {
		return reached, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{v.res.Topic: assign})
	defer func() {
		ps := make([]int32, 0, len(assign))
		for p := range assign {
			ps = append(ps, p)
		}
		cl.RemoveConsumePartitions(map[string][]int32{v.res.Topic: ps})
	}()
	idle := 0
	for len(left) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && ferr == nil {
				ferr = err
			}
		})
		if ferr != nil {
			return nil, fmt.Errorf("read %s: %w", v.res.Topic, ferr)
		}
		n := 0
		var derr error
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end || derr != nil {
				return
			}
			n++
			v.res.Records++
			c, err := v.cfg.Codec.Decode(ctx, r.Key, r.Value)
			if err != nil {
				derr = fmt.Errorf("%s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
				return
			}
			reached[r.Partition] = r.Offset + 1
			if r.Offset+1 >= end {
				delete(left, r.Partition)
			}
			if c.Op != 't' && c.Key == nil {
				return // a record without key (a keyless table's): cannot be matched
			}
			rec(r, &c)
		})
		if derr != nil {
			return nil, derr
		}
		if n == 0 {
			// Transaction markers take offsets no record is returned for:
			// after a few idle polls the partitions are read to their end.
			if idle++; idle >= 3 {
				break
			}
		} else {
			idle = 0
		}
	}
	for p := range left {
		v.log.Debug("partition read up to its last record", "partition", p, "offset", reached[p], "end", left[p])
	}
	for p, end := range to {
		if _, open := left[p]; !open {
			reached[p] = end
		}
	}
	return reached, nil
}

// topicEntry is a key's last record in one partition file.
type topicEntry struct {
	live     bool
	hash     valueHash
	rawAt    int64 // offset of the raw key in the file
	rawLen   int
	afterAt  int64
	afterLen int
}

func (v *tableRun) comparePartition(db, top *spill, dbSum sum) error {
	r, err := top.reader()
	if err != nil {
		return err
	}
	br := &byteReader{r: r}
	state := map[string]topicEntry{}
	for {
		op, err := br.ReadByte()
		if err != nil {
			break // end of file
		}
		if op == 't' {
			clear(state)
			continue
		}
		_, rawAt, err := br.next()
		if err != nil {
			return fmt.Errorf("read %s: %w", top.name, err)
		}
		rawLen := int(br.off - rawAt)
		kb, _, err := br.next()
		if err != nil {
			return fmt.Errorf("read %s: %w", top.name, err)
		}
		key := string(kb) // the next field reuses the buffer
		e := topicEntry{rawAt: rawAt, rawLen: rawLen}
		if op == 'c' || op == 'u' || op == 'r' {
			e.live = true
			if err := br.fixed(e.hash[:]); err != nil {
				return err
			}
			_, e.afterAt, err = br.next()
			if err != nil {
				return err
			}
			e.afterLen = int(br.off - e.afterAt)
		}
		state[key] = e
	}
	var ts sum
	for k, e := range state {
		if e.live {
			ts.add(v.h.entry([]byte(k), e.hash))
		}
	}
	v.res.TopicKeys += ts.n
	if ts == dbSum {
		return nil
	}
	// Differ: compare key by key.
	dr, err := db.reader()
	if err != nil {
		return err
	}
	dbr := &byteReader{r: dr}
	seen := make(map[string]struct{}, dbSum.n)
	for {
		key, _, err := dbr.next()
		if err != nil {
			break
		}
		var vh valueHash
		if err := dbr.fixed(vh[:]); err != nil {
			return err
		}
		k := string(key)
		if _, dup := seen[k]; dup {
			// Several rows share one record key (message.key.columns that
			// are not unique): the topic keeps one of them per key.
			v.res.DuplicateKeys++
			continue
		}
		seen[k] = struct{}{}
		e, ok := state[k]
		switch {
		case !ok || !e.live:
			if err := v.addCand(k, 'm', top, e, ok); err != nil {
				return err
			}
		case e.hash != vh:
			if err := v.addCand(k, 'd', top, e, true); err != nil {
				return err
			}
		}
	}
	for k, e := range state {
		if _, ok := seen[k]; !ok && e.live {
			if err := v.addCand(k, 'x', top, e, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// addCand follows key k that differed in the first comparison; beyond
// MaxKeys only its kind is counted.
func (v *tableRun) addCand(k string, kind byte, top *spill, e topicEntry, inTopic bool) error {
	if len(v.cands) >= v.cfg.MaxKeys {
		switch kind {
		case 'm':
			v.res.MissingN++
		case 'x':
			v.res.ExtraN++
		default:
			v.res.DifferN++
		}
		return nil
	}
	c := &cand{kind: kind, topicLive: e.live, dbLive: kind != 'x'}
	if inTopic {
		raw, err := top.readAt(e.rawAt, e.rawLen)
		if err != nil {
			return err
		}
		c.rawKey = raw
		if e.live {
			if c.topicAfter, err = top.readAt(e.afterAt, e.afterLen); err != nil {
				return err
			}
		}
	}
	v.cands[k] = c
	return nil
}
