package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/snapshot"
	"github.com/rivulet-cdc/rivulet/verify"
)

// verifyOptions are `rivulet verify`'s flags.
type verifyOptions struct {
	tables  []string
	repair  bool
	workDir string
	maxKeys int
	wait    time.Duration
	addr    string
	show    int
}

// verifyCmd compares each captured table with the state its topic implies
// (verify package); exit 0 when all are equal, 1 when one differs (or
// verification failed), 2 on usage errors.
func verifyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "connector configuration (JSON or .properties)")
	worker := fs.String("worker", "", workerUsage)
	tables := fs.String("tables", "", "comma-separated db.table names to verify (default: every captured table)")
	var o verifyOptions
	fs.BoolVar(&o.repair, "repair", false, "ask the running instance for an incremental snapshot of the differing keys (signal channel) and write tombstones for keys only in the topic")
	fs.StringVar(&o.workDir, "work-dir", "", "directory for the on-disk partition files (needs room for about one topic; default the system temp dir)")
	fs.IntVar(&o.maxKeys, "max-keys", verify.DefaultMaxKeys, "differing keys followed and listed per table (beyond it only counts)")
	fs.DurationVar(&o.wait, "wait", 2*time.Minute, "how long to wait for the running instance to pass a read's binlog position")
	fs.StringVar(&o.addr, "addr", "", "host:port of the running instance's HTTP endpoint (default: from metrics.listen)")
	fs.IntVar(&o.show, "show", 20, "differing keys printed per kind and table")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, log, code := loadConfig(stderr, "verify", *path, *worker, false)
	if code != exitOK {
		return code
	}
	for _, t := range strings.Split(*tables, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if !strings.Contains(t, ".") {
				fmt.Fprintf(stderr, "rivulet verify: --tables %q: name tables as db.table\n", t)
				return exitUsage
			}
			o.tables = append(o.tables, t)
		}
	}
	ctx, stop := signalContext(log)
	defer stop()
	equal, err := runVerify(ctx, cfg, o, stdout, log.With("component", "verify"))
	if err != nil {
		fmt.Fprintf(stderr, "rivulet verify: %v\n", err)
		if errors.Is(err, config.ErrInvalid) || errors.Is(err, config.ErrUnsupported) {
			return exitUsage
		}
		return exitFailure
	}
	if !equal {
		return exitFailure
	}
	return exitOK
}

// jsonEncoder adapts debeziumjson.JSON to verify.Encoder.
type jsonEncoder struct{ *debeziumjson.JSON }

func (e jsonEncoder) AppendRecords(_ context.Context, recs []sink.Record, buf []byte, ev *event.ChangeEvent) ([]sink.Record, []byte, error) {
	return e.JSON.AppendRecords(recs, buf, ev)
}

// verifyEncoding returns the encoder verify writes database rows with and
// the codec that reads both sides: the connector's JSON encoder and
// JSONCodec, or with the AvroConverter its Avro encoder and an AvroCodec
// reading schemas from the same registry (registering a schema the
// connector registered already changes nothing).
func verifyEncoding(cfg *config.Config, encCfg sink.JSONConfig, log *slog.Logger) (verify.Encoder, verify.Codec, error) {
	if !cfg.UsesAvro() {
		enc, err := debeziumjson.NewJSON(encCfg)
		if err != nil {
			return nil, nil, err
		}
		return jsonEncoder{enc}, verify.JSONCodec{KeySchemas: cfg.KeyConverter.SchemasEnable, ValueSchemas: cfg.ValueConverter.SchemasEnable}, nil
	}
	ac, err := engine.AvroConfig(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	enc, err := avro.New(encCfg, *ac)
	if err != nil {
		return nil, nil, err
	}
	// The registry client of the run (TLS, basic or bearer auth) reads the
	// schemas back by id.
	reg, ok := ac.Registry.(*avro.Registry)
	if !ok {
		return nil, nil, fmt.Errorf("schema registry client: %T cannot read schemas by id", ac.Registry)
	}
	return enc, verify.NewAvroCodec(reg.SchemaByID), nil
}

// newVerifyKafka is a Kafka client of `rivulet verify` with the settings
// (TLS, SASL) of role: the consumer's to read the table topics (partitions
// added and removed as it goes, no group), the producer's to write
// tombstones and the Kafka signal with --repair.
func newVerifyKafka(cfg *config.Config, role config.KafkaRole, brokers []string) (*kgo.Client, error) {
	opts, err := engine.KafkaOpts(cfg, role, kgo.SeedBrokers(brokers...), kgo.ClientID("rivulet-verify-"+cfg.Name),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", strings.Join(brokers, ","), err)
	}
	return cl, nil
}

func runVerify(ctx context.Context, cfg *config.Config, o verifyOptions, out io.Writer, log *slog.Logger) (bool, error) {
	if cfg.Sink != config.SinkKafka {
		return false, fmt.Errorf("%w: sink.type=%s writes no topic to verify", config.ErrUnsupported, cfg.Sink)
	}
	if cfg.Kafka.Embedded() {
		return false, fmt.Errorf("%w: the embedded broker lives only inside `rivulet run`; verify needs a real Kafka", config.ErrUnsupported)
	}
	if cfg.UsesAvro() && (cfg.KeyConverter.Class != config.AvroConverterClass || cfg.ValueConverter.Class != config.AvroConverterClass) {
		return false, fmt.Errorf("%w: verify reads keys and values in one format: set key.converter and value.converter both to %s or both to JSON", config.ErrUnsupported, config.AvroConverterClass)
	}
	for _, t := range cfg.Transforms {
		if t.Class != config.UnwrapClass {
			return false, fmt.Errorf("%w: transforms.%s (%s) routes records to other topics; verify compares one table with one topic", config.ErrUnsupported, t.Name, t.Class)
		}
	}
	encCfg, err := engine.EncoderConfig(cfg, version)
	if err != nil {
		return false, err
	}
	enc, codec, err := verifyEncoding(cfg, encCfg, log)
	if err != nil {
		return false, err
	}
	filter, err := schema.NewFilter(engine.FilterConfig(cfg))
	if err != nil {
		return false, fmt.Errorf("%w: %w", config.ErrInvalid, err)
	}
	loader := engine.NewLoader(cfg, filter, log)
	defer loader.Close()
	all, err := snapshot.CapturedTables(ctx, loader)
	if err != nil {
		return false, fmt.Errorf("list captured tables: %w", err)
	}
	tables := all
	if len(o.tables) > 0 {
		tables = nil
		for _, name := range o.tables {
			i := slices.IndexFunc(all, func(t *schema.Table) bool { return t.ID() == name })
			if i < 0 {
				return false, fmt.Errorf("%w: --tables %s is not a captured table (check table.include.list and the name)", config.ErrInvalid, name)
			}
			tables = append(tables, all[i])
		}
	}
	cl, err := newVerifyKafka(cfg, config.RoleConsumer, cfg.Kafka.BootstrapServers)
	if err != nil {
		return false, err
	}
	defer cl.Close()

	addr := o.addr
	if addr == "" {
		addr = localAddr(cfg.MetricsListen)
	}
	var wait func(context.Context, offsets.Position) error
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, _, serr := fetchStatus(sctx, addr)
	cancel()
	if serr == nil {
		fmt.Fprintf(out, "instance: running at %s; each read is compared once the instance has acknowledged every change up to it\n", addr)
		wait = waitAcknowledged(addr, o.wait, cfg.Offsets.ExactlyOnce, log)
	} else {
		fmt.Fprintf(out, "instance: none answers at %s: comparing with the topics as they are\n", addr)
	}
	snapCfg := engine.SnapshotReader(cfg, nil)
	results, err := verify.Run(ctx, verify.Config{
		Tables: tables, Snapshot: snapCfg, Encoder: enc, Codec: codec,
		Kafka: cl, WaitPosition: wait, Dir: o.workDir, MaxKeys: o.maxKeys, Logger: log,
	})
	if err != nil {
		return false, err
	}
	equal := printVerify(out, cfg, tables, results, o.show)
	if o.repair && !equal {
		if serr != nil {
			return false, fmt.Errorf("--repair needs the running instance (it reads the signal and re-sends the rows); none answers at %s", addr)
		}
		if err := repair(ctx, cfg, snapCfg, tables, results, out); err != nil {
			return false, fmt.Errorf("repair: %w", err)
		}
	}
	return equal, nil
}

// waitAcknowledged polls the instance's /status until its acknowledged
// position reaches p (outside the initial snapshot, which the instance does
// not report as acknowledged); with exactly-once, whose commits carry the
// records, its stored position once no snapshot runs. After limit it gives
// up with a warning (the re-checks still see later changes).
func waitAcknowledged(addr string, limit time.Duration, exactlyOnce bool, log *slog.Logger) func(context.Context, offsets.Position) error {
	return func(ctx context.Context, p offsets.Position) error {
		deadline := time.Now().Add(limit)
		for {
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, _, err := fetchStatus(qctx, addr)
			cancel()
			if err == nil {
				q := offsets.Position{File: st.Offsets.Acknowledged.File, Pos: uint64(st.Offsets.Acknowledged.Pos)}
				if exactlyOnce && !st.Snapshot.Running {
					q = offsets.Position{File: st.Offsets.Stored.File, Pos: uint64(st.Offsets.Stored.Pos)}
				}
				if q.File != "" && snapshot.ComparePositions(q, p) >= 0 {
					return nil
				}
			}
			if time.Now().After(deadline) {
				log.Warn("the running instance did not acknowledge the read's position in time: comparing anyway (re-checks see later changes)",
					"position", p.String(), "waited", limit, "err", err)
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// printVerify prints one block per table and a summary; it reports
// whether every table is equal.
func printVerify(out io.Writer, cfg *config.Config, tables []*schema.Table, results []verify.Result, show int) bool {
	equal := true
	var rows int64
	nDiff := 0
	for i, r := range results {
		rows += r.Rows
		state := "EQUAL"
		switch {
		case r.Skipped != "":
			state = "NOT VERIFIED"
		case !r.Equal():
			state, equal = "DIFFERENT", false
			nDiff++
		}
		fmt.Fprintf(out, "table %s (topic %s): %s\n", r.Table, r.Topic, state)
		if r.Skipped != "" {
			fmt.Fprintf(out, "  %s\n", r.Skipped)
			continue
		}
		fmt.Fprintf(out, "  rows compared:               %d (%d keys in the topic, %d records read, %s)\n", r.Rows, r.TopicKeys, r.Records, r.Took.Round(time.Millisecond))
		printKeys(out, "keys missing from the topic: ", r.MissingN, r.Missing, show)
		printKeys(out, "keys only in the topic:      ", r.ExtraN, r.Extra, show)
		printKeys(out, "keys whose values differ:    ", r.DifferN, r.Differ, show)
		if r.Changing > 0 {
			fmt.Fprintf(out, "  changing while verified:     %d (changed by the stream during the last re-check: not judged)\n", r.Changing)
		}
		if r.DuplicateKeys > 0 {
			fmt.Fprintf(out, "  rows sharing a record key:   %d (message.key.columns is not unique: the topic holds one row per key; not compared)\n", r.DuplicateKeys)
		}
		if r.NotRechecked > 0 {
			fmt.Fprintf(out, "  not re-read by key:          %d (key type; reported from the first comparison)\n", r.NotRechecked)
		}
		if r.Rounds > 0 {
			fmt.Fprintf(out, "  re-checked:                  %d round(s)\n", r.Rounds)
		}
		if m := maskedColumns(cfg, tables[i]); len(m) > 0 {
			fmt.Fprintf(out, "  masked columns:              %s (compared masked, as the connector writes them)\n", strings.Join(m, ", "))
		}
		if ex := excludedColumns(tables[i]); len(ex) > 0 {
			fmt.Fprintf(out, "  columns not captured:        %s (column filters: not compared)\n", strings.Join(ex, ", "))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
	}
	fmt.Fprintf(out, "summary: %d table(s), %d different, %d rows compared: %s\n", len(results), nDiff, rows,
		map[bool]string{true: "EQUAL", false: "DIFFERENT"}[equal])
	return equal
}

func printKeys(out io.Writer, label string, n int64, ds []verify.Diff, show int) {
	fmt.Fprintf(out, "  %s %d\n", label, n)
	for i, d := range ds {
		if i == show {
			fmt.Fprintf(out, "    … and %d more\n", n-int64(show))
			break
		}
		if len(d.Columns) > 0 {
			fmt.Fprintf(out, "    %s columns: %s\n", d.Key, strings.Join(d.Columns, ", "))
		} else {
			fmt.Fprintf(out, "    %s\n", d.Key)
		}
	}
	if int64(len(ds)) < n && len(ds) < show {
		fmt.Fprintf(out, "    … and %d more (beyond --max-keys)\n", n-int64(len(ds)))
	}
}

// maskedColumns lists the columns of t a column.mask.* or
// column.mask.hash.* key rewrites (column.truncate.* too).
func maskedColumns(cfg *config.Config, t *schema.Table) []string {
	var out []string
	for _, c := range t.Columns {
		full := t.DB + "." + t.Name + "." + c.Name
		for _, m := range cfg.ColumnMappers {
			if slices.ContainsFunc(m.Columns, func(p string) bool {
				ok, _ := regexp.MatchString("(?i)^(?:"+p+")$", full)
				return ok
			}) {
				out = append(out, c.Name+" ("+m.Kind+")")
				break
			}
		}
	}
	return out
}

func excludedColumns(t *schema.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Excluded {
			out = append(out, c.Name)
		}
	}
	return out
}

// signalMaxCondition bounds the additional condition of a signal sent
// through the signal table, whose data column is usually VARCHAR(2048).
const (
	signalTableMaxCondition = 1500
	signalKafkaMaxCondition = 256 << 10
)

// repair asks the running instance, through the signal channel the
// connector reads, for one incremental snapshot of exactly the differing
// key ranges of every differing table, and writes a tombstone for each key
// only in the topic (no snapshot can remove a key whose row is gone).
func repair(ctx context.Context, cfg *config.Config, sc snapshot.Config, tables []*schema.Table, results []verify.Result, out io.Writer) error {
	var cl *kgo.Client // the producer, opened for the first write
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	producer := func(brokers []string) (*kgo.Client, error) {
		if cl == nil {
			var err error
			cl, err = newVerifyKafka(cfg, config.RoleProducer, brokers)
			return cl, err
		}
		return cl, nil
	}
	maxLen := signalTableMaxCondition
	if cfg.Signal.Kafka {
		maxLen = signalKafkaMaxCondition
	}
	type cond struct {
		DataCollection string `json:"data-collection"`
		Filter         string `json:"filter"`
	}
	var collections []string
	var conds []cond
	for i, r := range results {
		t := tables[i]
		c, ok, err := r.RepairCondition(t, maxLen)
		if err != nil {
			return err
		}
		if ok {
			re := regexp.QuoteMeta(t.ID())
			collections = append(collections, re)
			conds = append(conds, cond{DataCollection: re, Filter: c})
			fmt.Fprintf(out, "repair %s: incremental snapshot of %d key(s) where %s\n", t.ID(), len(r.Missing)+len(r.Differ), c)
		}
		var recs []*kgo.Record
		for _, d := range r.Extra {
			if d.RawKey != nil {
				recs = append(recs, &kgo.Record{Topic: r.Topic, Key: d.RawKey})
			}
		}
		if len(recs) > 0 {
			cl, err := producer(cfg.Kafka.BootstrapServers)
			if err != nil {
				return err
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				return fmt.Errorf("write tombstones to %s: %w", r.Topic, err)
			}
			fmt.Fprintf(out, "repair %s: wrote %d tombstone(s) for keys only in the topic\n", t.ID(), len(recs))
		}
		if r.ExtraN > int64(len(r.Extra)) || r.MissingN > int64(len(r.Missing)) || r.DifferN > int64(len(r.Differ)) {
			fmt.Fprintf(out, "repair %s: more keys differ than --max-keys follows; run verify --repair again afterwards\n", t.ID())
		}
	}
	if len(conds) == 0 {
		return nil
	}
	data, err := json.Marshal(map[string]any{"data-collections": collections, "type": "incremental", "additional-conditions": conds})
	if err != nil {
		return err
	}
	id := "rivulet-verify-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	switch {
	case cfg.Signal.Kafka:
		brokers := cfg.Signal.KafkaBootstrapServers
		if len(brokers) == 0 {
			brokers = cfg.Kafka.BootstrapServers
		}
		value, _ := json.Marshal(map[string]any{"type": "execute-snapshot", "data": json.RawMessage(data)})
		sig := &kgo.Record{Topic: cfg.Signal.KafkaTopic, Partition: 0, Key: []byte(cfg.TopicPrefix), Value: value}
		var scl *kgo.Client
		if slices.Equal(brokers, cfg.Kafka.BootstrapServers) {
			if scl, err = producer(brokers); err != nil {
				return err
			}
		} else {
			if scl, err = newVerifyKafka(cfg, config.RoleProducer, brokers); err != nil {
				return err
			}
			defer scl.Close()
		}
		if err := scl.ProduceSync(ctx, sig).FirstErr(); err != nil {
			return fmt.Errorf("send the signal to %s: %w", cfg.Signal.KafkaTopic, err)
		}
		fmt.Fprintf(out, "repair: signal %s sent to topic %s\n", id, cfg.Signal.KafkaTopic)
	case cfg.Signal.Source:
		db, name, _ := strings.Cut(cfg.Signal.DataCollection, ".")
		snap, err := snapshot.New(sc)
		if err != nil {
			return err
		}
		q := "INSERT INTO `" + strings.ReplaceAll(db, "`", "``") + "`.`" + strings.ReplaceAll(name, "`", "``") + "` (id, type, data) VALUES (?, 'execute-snapshot', ?)"
		if err := snap.Exec(ctx, q, id, string(data)); err != nil {
			return fmt.Errorf("insert the signal into %s: %w", cfg.Signal.DataCollection, err)
		}
		fmt.Fprintf(out, "repair: signal %s inserted into %s\n", id, cfg.Signal.DataCollection)
	default:
		return fmt.Errorf("no signal channel: set signal.data.collection (a signal table) or signal.enabled.channels=kafka, restart the connector, and run verify --repair again")
	}
	fmt.Fprintln(out, "repair: run verify again once the instance logs \"incremental snapshot complete\"")
	return nil
}
