package differential

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// rivulet is one running rivulet process producing to brokers.
type rivulet struct {
	t       testing.TB
	cmd     *exec.Cmd
	log     *testenv.LogBuffer
	brokers []string
	exited  chan struct{}
	err     error

	mu     sync.Mutex
	recs   []Record            // what the consumer read so far, per partition in offset order
	decode func(Record) Record // nil, or the Avro decoding of each record
	cl     *kgo.Client
	stop   context.CancelFunc
	done   chan struct{}
}

// startRivulet writes cfg as a Kafka Connect connector JSON and runs the
// binary on it; a consumer reads every topic from the start as it goes,
// rewriting each record with decode when set (avroWire).
func startRivulet(t testing.TB, dir string, brokers []string, cfg map[string]string, decode func(Record) Record) *rivulet {
	t.Helper()
	b, err := json.Marshal(map[string]any{"name": "differential", "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rivulet.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &rivulet{t: t, log: &testenv.LogBuffer{}, brokers: brokers, exited: make(chan struct{}), done: make(chan struct{}), decode: decode}
	r.cmd = exec.Command(testenv.Rivulet(t), "run", "--config", path)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()

	r.cl, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go r.consume(ctx)
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
		r.stop()
		<-r.done
		r.cl.Close()
	})
	return r
}

func (r *rivulet) consume(ctx context.Context) {
	defer close(r.done)
	for ctx.Err() == nil {
		fs := r.cl.PollFetches(ctx)
		r.mu.Lock()
		fs.EachRecord(func(k *kgo.Record) {
			rec := Record{Topic: k.Topic, Partition: k.Partition, Key: k.Key, Value: k.Value}
			for _, h := range k.Headers {
				v := h.Value
				if v == nil {
					v = []byte{}
				}
				rec.Headers = append(rec.Headers, Header{Key: h.Key, Value: v})
			}
			if r.decode != nil {
				rec = r.decode(rec)
			}
			r.recs = append(r.recs, rec)
		})
		r.mu.Unlock()
	}
}

// poll returns what was consumed so far.
func (r *rivulet) poll() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneRecords(r.recs)
}

func (r *rivulet) failed() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// finish stops the process (SIGTERM: flush, commit) and consumes every
// topic to its end offsets.
func (r *rivulet) finish() []Record {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(60 * time.Second):
		r.t.Fatalf("rivulet did not stop within 60s of SIGTERM\n%s", r.log.String())
	}
	if r.err != nil {
		r.t.Fatalf("rivulet exited with %v after SIGTERM\n%s", r.err, r.log.String())
	}
	adm := kadm.NewClient(r.cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx)
	if err != nil {
		r.t.Fatalf("list end offsets: %v", err)
	}
	want := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Topic] += o.Offset })
	for {
		got := map[string]int64{}
		for _, rec := range r.poll() {
			got[rec.Topic]++
		}
		ok := true
		for tp, n := range want {
			if got[tp] < n {
				ok = false
			}
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("consumed %v of %v records", got, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.stop()
	<-r.done
	return r.poll()
}
