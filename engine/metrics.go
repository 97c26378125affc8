package engine

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/metrics"
)

// metricsOptions derives the metric labels and queue bounds from cfg.
func metricsOptions(cfg *config.Config, log *slog.Logger) metrics.Options {
	plugin := "mysql"
	if cfg.Flavor() == config.FlavorMariaDB {
		plugin = "mariadb" // the JMX exporter's plugin label comes from the MBean domain debezium.mariadb
	}
	return metrics.Options{
		Plugin: plugin, Name: cfg.TopicPrefix,
		QueueCapacity: cfg.MaxQueueSize, MaxQueueBytes: cfg.MaxQueueSizeInBytes,
		NoKafka: cfg.Sink != config.SinkKafka,
		Logger:  log.With("component", "health"),
	}
}

// kafkaMetrics registers franz-go's producer metrics (plugin/kprom) on reg as
// rivulet_kafka_* and returns the client option that feeds them.
func kafkaMetrics(reg prometheus.Registerer) kgo.Opt {
	return kgo.WithHooks(kprom.NewMetrics("rivulet", kprom.Subsystem("kafka"), kprom.Registerer(reg),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records,
			kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming)))
}

// The metrics types satisfy the observers the stages declare (binlog.Observer
// and snapshot's, the schema history's and the run loop's here).
var (
	_ binlog.Observer  = (*metrics.Stream)(nil)
	_ Observer         = (*metrics.Stream)(nil)
	_ AckObserver      = (*metrics.Stream)(nil)
	_ SendObserver     = (*metrics.Stream)(nil)
	_ SnapshotObserver = (*metrics.Snapshot)(nil)
	_ DDLObserver      = (*metrics.SchemaHistory)(nil)
	_ HistoryObserver  = (*metrics.SchemaHistory)(nil)
)
