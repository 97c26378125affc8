package engine

import (
	"cmp"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// newSink builds the transport cfg selects (sink.type): Kafka, with the
// Avro converter or JSON, or stdout; opts are extra Kafka client options
// (the producer metrics).
func newSink(cfg *config.Config, o Options, opts ...kgo.Opt) (Sink, error) {
	log := o.Logger
	enc, err := EncoderConfig(cfg, o.Version)
	if err != nil {
		return nil, err
	}
	if cfg.Sink == config.SinkStdout {
		j, err := debeziumjson.NewJSON(enc)
		if err != nil {
			return nil, err
		}
		return sink.NewStdout(cmp.Or[io.Writer](o.Stdout, os.Stdout), j.Format()), nil
	}
	format, err := recordFormat(cfg, enc, log)
	if err != nil {
		return nil, err
	}
	if opts, err = KafkaOpts(cfg, config.RoleProducer, opts...); err != nil {
		return nil, err
	}
	kc := sink.KafkaConfig{
		Format:      format,
		Brokers:     cfg.Kafka.BootstrapServers,
		ClientID:    "rivulet-" + cfg.Name,
		Compression: string(cfg.Kafka.Compression),
		// max.request.size bounds the largest record; the topic's
		// max.message.bytes must allow it too.
		MaxRequestBytes: cfg.Kafka.MaxRequestSize,
		// Records handed to Kafka and not yet acknowledged: max.queue.size
		// of them, and at most 8 MiB unless
		// max.queue.size.in.bytes asks for another bound.
		MaxBufferedRecords: cfg.MaxQueueSize,
		MaxBufferedBytes:   int(cmp.Or(cfg.MaxQueueSizeInBytes, 8<<20)),
		Logger:             log.With("component", "sink"),
		Opts:               opts,
		TransactionalID:    eosTransactionalID(cfg), // exactly.once.support=required
		ContextHeaders:     contextHeaders(cfg, enc.Connector),
	}
	producerSettings(cfg, &kc) // acks, linger.ms, buffer.memory, topic.creation.* (kafka.go)
	return sink.NewKafka(kc)
}

// recordFormat is the Kafka records' format: Avro when
// key/value.converter name the AvroConverter (avro.go), else Debezium JSON.
func recordFormat(cfg *config.Config, enc sink.JSONConfig, log *slog.Logger) (sink.Format, error) {
	ac, err := AvroConfig(cfg, log)
	if err != nil {
		return nil, err
	}
	if ac != nil {
		return avro.New(enc, *ac)
	}
	j, err := debeziumjson.NewJSON(enc)
	if err != nil {
		return nil, err
	}
	return j.Format(), nil
}

// EncoderConfig is the record encoding cfg asks for: envelope, converters,
// tombstones, skipped operations, transforms, masks and handling modes;
// version is Rivulet's, for the source block. The sink and `rivulet
// verify` (which encodes rows to compare them) share it.
func EncoderConfig(cfg *config.Config, version string) (sink.JSONConfig, error) {
	enc := sink.DefaultJSONConfig(cfg.TopicPrefix)
	enc.Version = version
	if cfg.Flavor() == config.FlavorMariaDB {
		enc.Connector = sink.ConnectorMariaDB
	}
	enc.KeySchemas = cfg.KeyConverter.SchemasEnable
	enc.ValueSchemas = cfg.ValueConverter.SchemasEnable
	enc.TombstonesOnDelete = cfg.TombstonesOnDelete
	enc.SkippedOperations = skippedOperations(cfg)
	if err := encodingTransforms(cfg, &enc); err != nil { // transforms, column.mask/truncate (transforms.go)
		return enc, err
	}
	if err := encodingModes(cfg, &enc); err != nil { // handling modes, source type propagation (encoding.go)
		return enc, err
	}
	return enc, nil
}

// skippedOperations are the operations skipped.operations names: the
// sink drops them and the metrics do not count them.
func skippedOperations(cfg *config.Config) []event.Op {
	var ops []event.Op
	for _, op := range []byte{'c', 'u', 'd', 't'} {
		if cfg.SkippedOperations.Has(op) {
			ops = append(ops, event.Op(op))
		}
	}
	return ops
}

// contextHeaders are Debezium 3.2+'s extended headers, unless
// extended.headers.enabled=false.
func contextHeaders(cfg *config.Config, c sink.Connector) []sink.Header {
	if !cfg.ExtendedHeaders {
		return nil
	}
	return sink.ContextHeaders(c, cfg.TopicPrefix, sink.NewRunID(time.Now()))
}
