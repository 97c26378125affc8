package testenv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// produceConsume writes values to topic through brokers (auto-created, as
// Rivulet's topics are) and reads them back.
func produceConsume(t *testing.T, brokers []string, topic string, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, v := range values {
		if err := prod.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s to %s: %v", v, topic, err)
		}
	}
	if got := consumeValues(t, ctx, brokers, topic, len(values)); !cmp.Equal(values, got) {
		t.Errorf("consumed from %s (-want +got):\n%s", topic, cmp.Diff(values, got))
	}
}

func consumeValues(t *testing.T, ctx context.Context, brokers []string, topic string, n int, opts ...kgo.Opt) []string {
	t.Helper()
	cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %v from %s before %v", got, topic, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func TestApacheKafka_Shared(t *testing.T) {
	k := testenv.ApacheKafka(t)
	if k2 := testenv.ApacheKafka(t); k2 != k {
		t.Fatal("ApacheKafka returned two different shared clusters")
	}
	brokers := k.Brokers()
	if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") || k.Nodes() != 1 {
		t.Fatalf("brokers = %v, want one 127.0.0.1 broker", brokers)
	}
	produceConsume(t, brokers, testenv.TopicPrefix(t)+".inventory.customers", "one", "two", "three")

	// kcat (librdkafka) reads the same broker: an independent client.
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat not found: apt-get install -y kcat")
	}
	out, err := exec.Command("kcat", "-b", brokers[0], "-L", "-J").Output()
	if err != nil {
		t.Fatalf("kcat -L: %v", err)
	}
	var md struct {
		Brokers []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
	}
	if err := json.Unmarshal(out, &md); err != nil || len(md.Brokers) != 1 || md.Brokers[0].Name != brokers[0] {
		t.Errorf("kcat -L -J = %s (%v), want broker %s", out, err, brokers[0])
	}
}

// A transaction aborted on a real broker is invisible to read_committed
// consumers, and a second producer with the same transactional id fences the
// first: what Rivulet's exactly-once mode relies on.
func TestApacheKafka_Transactions(t *testing.T) {
	k := testenv.ApacheKafka(t)
	topic := testenv.TopicPrefix(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	adm, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	txn := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic(topic), kgo.TransactionalID(topic+"-txn"))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	p1 := txn()
	defer p1.Close()
	commit := func(cl *kgo.Client, v string, how kgo.TransactionEndTry) error {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			return err
		}
		return cl.EndTransaction(ctx, how)
	}
	if err := commit(p1, "committed", kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := commit(p1, "aborted", kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	p2 := txn() // same transactional id: fences p1 on its first transactional request
	defer p2.Close()
	if err := commit(p2, "second", kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := commit(p1, "zombie", kgo.TryCommit); err == nil {
		t.Error("the fenced producer committed a transaction")
	}
	got := consumeValues(t, ctx, k.Brokers(), topic, 2, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if diff := cmp.Diff([]string{"committed", "second"}, got); diff != "" {
		t.Errorf("read_committed (-want +got):\n%s", diff)
	}
}

// Three nodes: a replicated topic keeps taking writes when its leader is
// killed, and the restarted node rejoins.
func TestStartApacheKafka_ThreeNodes(t *testing.T) {
	k := testenv.StartApacheKafka(t, testenv.KafkaNodes(3))
	if k.Nodes() != 3 || len(k.Brokers()) != 3 {
		t.Fatalf("Nodes() = %d, Brokers() = %v, want 3", k.Nodes(), k.Brokers())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	const topic = "replicated"
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil { // -1: the broker's default, 3
		t.Fatal(err)
	}
	leader := func() (int32, []int32) {
		t.Helper()
		md, err := adm.Metadata(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		p := md.Topics[topic].Partitions[0]
		return p.Leader, p.ISR
	}
	l, isr := leader()
	for len(isr) != 3 || l < 1 { // metadata reaches every node shortly after the creation
		if ctx.Err() != nil {
			t.Fatalf("leader %d, ISR %v, want 3 replicas in sync", l, isr)
		}
		time.Sleep(100 * time.Millisecond)
		l, isr = leader()
	}
	produceConsume(t, k.Brokers(), topic, "before")
	k.KillNode(t, l)
	var next int32
	for next = l; next == l || next == -1; next, _ = leader() {
		if ctx.Err() != nil {
			t.Fatalf("no new leader after killing node %d", l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce with node %d down (leader now %d): %v", l, next, err)
	}
	k.StartNode(t, l)
	got := consumeValues(t, ctx, []string{k.Addr(l)}, topic, 2)
	if diff := cmp.Diff([]string{"before", "after"}, got); diff != "" {
		t.Errorf("read through the restarted node %d (-want +got):\n%s", l, diff)
	}
}

// Kafka Connect standalone runs Debezium's MySqlConnector against MariaDB
// and the real broker: the reference the differential suite and make bench
// compare Rivulet with.
func TestStartConnect_Debezium(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))", "INSERT INTO t VALUES (1, 'a')")
	k := testenv.ApacheKafka(t)
	prefix := testenv.TopicPrefix(t)
	w := testenv.StartConnect(t, testenv.ConnectConfig{
		Brokers: k.Brokers(),
		Connectors: []map[string]string{{
			"name":                       "dbz",
			"connector.class":            "io.debezium.connector.mysql.MySqlConnector",
			"driver.propertiesTransform": testenv.MariaDBShim,
			"tasks.max":                  "1",
			"database.hostname":          srv.Host,
			"database.port":              strconv.Itoa(srv.Port),
			"database.user":              srv.User,
			"database.password":          srv.Password,
			"database.server.id":         "7301",
			"topic.prefix":               prefix,
			"database.include.list":      db,
			"schema.history.internal.kafka.bootstrap.servers": strings.Join(k.Brokers(), ","),
			"schema.history.internal.kafka.topic":             prefix + ".history",
		}},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("%s.%s.t", prefix, db)
	// The worker reports RUNNING before the snapshot read the table: a row
	// inserted now could be read by the snapshot ("op":"r"). Insert once
	// the snapshot's record is there.
	consumeValues(t, ctx, k.Brokers(), topic, 1)
	srv.Exec(t, db, "INSERT INTO t VALUES (2, 'b')")
	got := consumeValues(t, ctx, k.Brokers(), topic, 2)
	for i, want := range []string{`"op":"r"`, `"op":"c"`} {
		if !strings.Contains(got[i], want) || !strings.Contains(got[i], `"connector":"mysql"`) {
			t.Errorf("record %d = %s, want a Debezium envelope with %s", i, got[i], want)
		}
	}
	w.Stop(t)
	if st, err := w.Status(ctx, "dbz"); err == nil {
		t.Errorf("REST still answers after Stop: %+v", st)
	}
}
