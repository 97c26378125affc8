package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestMariaDB_Config(t *testing.T) {
	s := testenv.MariaDB(t)
	if s.Host != "127.0.0.1" || s.Port == 0 || s.User != testenv.TestUser || s.ServerID != 1 {
		t.Fatalf("server fields: %+v", s)
	}
	if !strings.Contains(s.Version, "MariaDB") {
		t.Errorf("Version = %q, want a MariaDB version", s.Version)
	}
	got := s.Query(t, "", "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@server_id, @@log_slave_updates, @@character_set_server")
	want := [][]string{{"1", "ROW", "FULL", "FULL", "1", "1", "utf8mb4"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server variables (-want +got):\n%s", diff)
	}
	grants := s.Query(t, "", "SHOW GRANTS FOR CURRENT_USER()")
	if len(grants) == 0 || !strings.Contains(grants[0][0], "GRANT ALL PRIVILEGES ON *.*") {
		t.Errorf("grants = %v, want ALL PRIVILEGES ON *.*", grants)
	}
	// Replication privileges in action: the binlog can be listed.
	if rows := s.Query(t, "", "SHOW BINARY LOGS"); len(rows) == 0 {
		t.Error("SHOW BINARY LOGS returned no rows")
	}
}

func TestMariaDB_ExecQuery(t *testing.T) {
	s := testenv.MariaDB(t)
	db := s.Database(t)
	if db != "testmariadb_execquery" {
		t.Errorf("Database() = %q, want testmariadb_execquery", db)
	}
	s.Exec(t, db,
		"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), note TEXT NULL)",
		"BEGIN",
		"INSERT INTO t VALUES (1, 'a', NULL), (2, 'ü', 'x')",
		"COMMIT",
	)
	got := s.Query(t, db, "SELECT id, name, note FROM t ORDER BY id")
	want := [][]string{{"1", "a", "NULL"}, {"2", "ü", "x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if got := s.Query(t, "", "SELECT @@gtid_binlog_pos"); len(got) != 1 || !strings.HasPrefix(got[0][0], "0-1-") {
		t.Errorf("gtid_binlog_pos = %v, want 0-1-N", got)
	}
}

func TestMariaDB_DatabaseUnique(t *testing.T) {
	s := testenv.MariaDB(t)
	a, b := s.Database(t), s.Database(t)
	if a == b {
		t.Fatalf("two Database calls returned %q twice", a)
	}
	if b != a+"_2" {
		t.Errorf("second database = %q, want %q", b, a+"_2")
	}
	var found int
	for _, r := range s.Query(t, "", "SHOW DATABASES") {
		if r[0] == a || r[0] == b {
			found++
		}
	}
	if found != 2 {
		t.Errorf("found %d of the databases %s, %s", found, a, b)
	}
}

func TestMariaDB_DatabaseDropped(t *testing.T) {
	s := testenv.MariaDB(t)
	var name string
	t.Run("Inner", func(t *testing.T) { name = s.Database(t) })
	rows := s.Query(t, "", "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+name+"'")
	if rows[0][0] != "0" {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestStartMariaDB_KillRestart(t *testing.T) {
	s := testenv.StartMariaDB(t, testenv.WithServerID(7), testenv.WithArgs("--max-binlog-size=4096"))
	if s.ServerID != 7 {
		t.Errorf("ServerID = %d, want 7", s.ServerID)
	}
	shared := testenv.MariaDB(t)
	if s.Port == shared.Port {
		t.Fatalf("extra server shares port %d with the shared one", s.Port)
	}
	db := s.Database(t)
	s.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")

	s.Kill(t)
	if s.Running() {
		t.Fatal("Running() after Kill")
	}
	s.Start(t)
	s.Exec(t, db, "INSERT INTO t VALUES (2)")
	s.Restart(t)
	got := s.Query(t, db, "SELECT id FROM t ORDER BY id")
	if diff := cmp.Diff([][]string{{"1"}, {"2"}}, got); diff != "" {
		t.Errorf("rows after kill and restart (-want +got):\n%s", diff)
	}
	if got := s.Query(t, "", "SELECT @@max_binlog_size"); got[0][0] != "4096" {
		t.Errorf("max_binlog_size = %s, want 4096 from WithArgs", got[0][0])
	}
}

func TestKafka_RoundTrip(t *testing.T) {
	brokers := testenv.Kafka(t)
	if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") {
		t.Fatalf("brokers = %v, want one 127.0.0.1 broker", brokers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const topic = "dbserver1.inventory.customers"
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, v := range []string{"one", "two", "three"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < 3 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %v before %v", got, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, got); diff != "" {
		t.Errorf("consumed (-want +got):\n%s", diff)
	}
}

func TestKafkaCluster_Options(t *testing.T) {
	c := testenv.KafkaCluster(t)
	if n := len(c.ListenAddrs()); n != 1 {
		t.Errorf("default brokers = %d, want 1", n)
	}
}
