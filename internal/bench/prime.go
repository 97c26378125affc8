package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// primePrefix is the topic prefix of the streaming runs: the schema history
// records name it, so every run that reuses the history must use it too.
const primePrefix = "bench"

// prime runs rivulet once before the workload is written, so that it stores
// the offset and the schema history at that point (file backends in dir).
// Each streaming run then starts from copies of both and reads the whole
// workload from the binlog, as a connector catching up would.
func prime(o options, srv *testenv.Server, dir string) error {
	brokers, err := kafka.fresh()
	if err != nil {
		return err
	}
	cfgFile, metricsAddr, err := writeConfig(dir, "prime", srv, brokers, filepath.Join(dir, "prime.offsets.json"), false, benchCompression,
		primedConfig(filepath.Join(dir, "prime.history")))
	if err != nil {
		return err
	}
	proc, err := startRivulet(o.rivulet, cfgFile, filepath.Join(dir, "prime.log"))
	if err != nil {
		return err
	}
	defer stopProcess(proc)
	if err := waitReady(metricsAddr, 30*time.Second); err != nil {
		return fmt.Errorf("%w; log: %s", err, tail(filepath.Join(dir, "prime.log")))
	}
	stopProcess(proc)
	if _, err := os.Stat(filepath.Join(dir, "prime.offsets.json")); err != nil {
		return fmt.Errorf("no offsets stored; log: %s", tail(filepath.Join(dir, "prime.log")))
	}
	return nil
}

// primedConfig is the configuration shared by the prime run and the runs that resume from it.
func primedConfig(historyFile string) map[string]string {
	return map[string]string{
		"topic.prefix":                          primePrefix,
		"snapshot.mode":                         "no_data",
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": historyFile,
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
