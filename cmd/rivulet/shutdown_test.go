package main

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestRun_SIGTERMWithinShutdownTimeout is what Kubernetes does to a pod
// whose Kafka stopped acknowledging: SIGTERM, then SIGKILL after the grace
// period. Rivulet must exit by itself within shutdown.timeout (with status 1
// and the reason), not wait for the SIGKILL.
//
// Two brokers stop answering: kfake reads produce requests and never
// answers them (ControlKey), and a real Apache Kafka broker of the test's
// own is frozen with SIGSTOP (nothing answers, connections stay open).
func TestRun_SIGTERMWithinShutdownTimeout(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		e := newE2E(t)
		kc := testenv.KafkaCluster(t)
		e.brokers = kc.ListenAddrs()
		sigtermWithinShutdownTimeout(t, e, func() {
			kc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
				kc.KeepControl()
				return nil, nil, true
			})
		})
	})
	t.Run("apache-kafka", func(t *testing.T) {
		e := newE2E(t)
		k := testenv.StartApacheKafka(t)
		e.brokers = k.Brokers()
		sigtermWithinShutdownTimeout(t, e, func() { k.PauseNode(t, 1) })
	})
}

func sigtermWithinShutdownTimeout(t *testing.T, e *e2eEnv, silence func()) {
	const timeout = 3 * time.Second
	e.srv.Exec(t, e.db, `CREATE TABLE t (id INT PRIMARY KEY)`)
	in := e.start(t, e.config(t, map[string]string{"shutdown.timeout": timeout.String()}))

	// From now on produce requests are read and never answered.
	silence()
	e.srv.Exec(t, e.db, `INSERT INTO t VALUES (1), (2), (3)`)
	// Wait until the rows are in flight to Kafka (handed to the sink, unacknowledged).
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, in.metrics, "rivulet_queue_events") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("rows never reached the sink\n%s", in.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	start := time.Now()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	// A margin for the final offset write and process exit; Kubernetes'
	// default grace period is 30s, shutdown.timeout's default too.
	select {
	case <-in.exited:
	case <-time.After(timeout + 10*time.Second):
		t.Fatalf("rivulet still running %s after SIGTERM (shutdown.timeout %s)\n%s", time.Since(start), timeout, in.log.String())
	}
	var exit *exec.ExitError
	if !errors.As(in.err, &exit) || exit.ExitCode() != exitFailure {
		t.Errorf("exit = %v, want status %d (records not acknowledged)", in.err, exitFailure)
	}
	// The engine reports the drain cut by the timeout either as "shutdown
	// timed out" or as the flush it interrupted.
	if log := in.log.String(); !strings.Contains(log, "shutdown timed out") && !strings.Contains(log, "flush sink") {
		t.Errorf("log does not say why the shutdown was cut:\n%s", log)
	}
}
