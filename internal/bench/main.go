// Command bench measures Rivulet end to end, as `make bench` runs it: one
// million row changes (inserts in 1,000-row transactions, then updates) are
// written to a throwaway MariaDB, then the rivulet binary streams them to a
// real Apache Kafka 4.3 broker (KRaft, one node, started from the test
// dependencies' jars), and so does Debezium 3.6.1's MySqlConnector in Kafka
// Connect standalone on the same binlog into the same broker. It prints the rate
// from binlog to acknowledged Kafka records (JSON with and without schemas),
// peak RSS, the rate at which go-mysql alone reads and fully decodes the same
// binlog in the same run, their ratio, the initial snapshot rate, the rate
// of `rivulet verify` over the snapshotted table with its cost on MariaDB
// (CPU, handler reads and bytes sent per row, statements; -verify-only runs
// just that), and the lag p50/p99 of a paced live workload. Beside
// Debezium it prints each side's CPU seconds per million events and the
// broker's during its runs (-snapshot-only runs just the snapshot figures).
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
)

func main() {
	var o options
	flag.StringVar(&o.rivulet, "rivulet", "bin/rivulet", "path to the rivulet binary")
	flag.IntVar(&o.rows, "rows", 500_000, "rows inserted; the same rows are then updated (changes = 2×rows)")
	flag.IntVar(&o.txRows, "tx", 1000, "rows per transaction")
	flag.IntVar(&o.snapshotRows, "snapshot-rows", 1_000_000, "rows in the table for the initial snapshot figures")
	flag.IntVar(&o.runs, "runs", 5, "measured runs per variant (the median is reported)")
	flag.IntVar(&o.warmup, "warmup", 2, "unmeasured runs of Rivulet (JSON with schemas) before the streaming runs, while the new broker's JIT compiles")
	flag.IntVar(&o.dbzRuns, "debezium-runs", 3, "measured runs of Debezium (streaming and snapshot); 0 leaves Debezium out")
	flag.IntVar(&o.liveRate, "live-rate", 20_000, "rows/s of the paced workload for the lag measurement")
	flag.DurationVar(&o.liveFor, "live-for", 10e9, "duration of the paced workload")
	flag.StringVar(&benchCompression, "compression", "none", "compression.type of the producer")
	flag.DurationVar(&scrapeInterval, "scrape-interval", scrapeInterval, "how often the scraped variant GETs /metrics")
	flag.BoolVar(&o.verifyOnly, "verify-only", false, "measure only `rivulet verify` over a table of -snapshot-rows rows")
	flag.BoolVar(&o.snapshotOnly, "snapshot-only", false, "measure only the initial snapshot of a table of -snapshot-rows rows (Rivulet, Debezium unless -debezium-runs 0)")
	variants := flag.String("variants", "", "run only the variants whose name matches this regexp (Debezium's streaming runs if it matches \"debezium\"), without the snapshot and lag figures")
	flag.Parse()
	if *variants != "" {
		variantFilter = regexp.MustCompile(*variants)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
