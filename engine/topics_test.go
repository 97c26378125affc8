package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestPipeline_FreshSnapshotCreatesTableTopicsEarly: a fresh initial
// snapshot of two tables, one empty, on a real broker creates the
// non-empty table's topic before the snapshot starts (with the schema
// change and history topics, in startFresh's one request), and no topic
// for the empty table, as Debezium creates none. With a router that picks
// the topic per record (route.by.field), no table topic is created ahead:
// the records' topics are created when they are written, as before.
func TestPipeline_FreshSnapshotCreatesTableTopicsEarly(t *testing.T) {
	srv := testenv.MariaDB(t)
	brokers := testenv.ApacheKafka(t).Brokers()
	for _, tc := range []struct {
		name  string
		extra map[string]string
		early bool     // the table topic is created before the snapshot starts
		data  []string // topics of the rows, after the prefix
	}{
		{"plain", nil, true, []string{".DB.filled"}},
		{"route by field", map[string]string{
			"transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
			"transforms.unwrap.route.by.field": "name",
		}, false, []string{".routed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := srv.Database(t)
			prefix := testenv.TopicPrefix(t)
			srv.Exec(t, db, "CREATE TABLE filled (id INT PRIMARY KEY, name VARCHAR(200))",
				"CREATE TABLE vacant (id INT PRIMARY KEY, name VARCHAR(200))",
				"INSERT INTO filled VALUES (1, '"+prefix+".routed'), (2, '"+prefix+".routed')")
			dir := t.TempDir()
			m := map[string]string{
				"connector.class":   "io.debezium.connector.mariadb.MariaDbConnector",
				"database.hostname": srv.Host, "database.port": strconv.Itoa(srv.Port),
				"database.user": srv.User, "database.password": srv.Password,
				"database.server.id": "5621", "topic.prefix": prefix,
				"database.include.list":               db,
				"snapshot.mode":                       "initial_only",
				"schema.history.internal.kafka.topic": prefix + ".history",
				"bootstrap.servers":                   strings.Join(brokers, ","),
				"offset.storage.file.filename":        filepath.Join(dir, "offsets.json"),
				"metrics.listen":                      fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			}
			for k, v := range tc.extra {
				m[k] = v
			}
			cfg, _, err := config.FromMap(m)
			if err != nil {
				t.Fatal(err)
			}
			logs := &testenv.LogBuffer{}
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			p, err := New(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(ctx); err != nil { // initial_only: returns after the snapshot
				t.Fatalf("Run: %v\nlog:\n%s", err, logs)
			}

			data := make([]string, len(tc.data))
			for i, s := range tc.data {
				data[i] = prefix + strings.ReplaceAll(s, "DB", db)
			}
			want := append([]string{prefix, prefix + ".history"}, data...)
			slices.Sort(want)
			if diff := slices.Compare(want, topicsWithPrefix(t, brokers, prefix)); diff != 0 {
				t.Errorf("topics %v; want %v", topicsWithPrefix(t, brokers, prefix), want)
			}
			log := logs.String()
			started := strings.Index(log, `msg="initial snapshot started`)
			created := strings.Index(log, `msg="created topic" component=sink topic=`+data[0]+" ")
			if started < 0 || created < 0 {
				t.Fatalf("no snapshot start (%d) or creation of %s (%d) logged:\n%s", started, data[0], created, log)
			}
			if early := created < started; early != tc.early {
				t.Errorf("topic %s created before the snapshot started: %v, want %v; log:\n%s", data[0], early, tc.early, log)
			}
		})
	}
}

// topicsWithPrefix lists the broker's topics that start with prefix, sorted.
func topicsWithPrefix(t *testing.T, brokers []string, prefix string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range details.Names() {
		if name == prefix || strings.HasPrefix(name, prefix+".") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
