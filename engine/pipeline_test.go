package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TestFilterConfig_KeepsEscapedCommas: a pattern with a literal comma
// (`\,` in the configuration) survives the hand-over to schema.NewFilter.
func TestFilterConfig_KeepsEscapedCommas(t *testing.T) {
	cfg, _, err := config.FromMap(map[string]string{
		"database.hostname": "h", "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
		"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/tmp/o", "bootstrap.servers": "kafka:9092",
		"table.include.list": `db\.a{1\,2},db\.other`,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := schema.NewFilter(FilterConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]bool{"a": true, "aa": true, "aaa": false, "other": true, "x": false} {
		if got := f.Table("db", table); got != want {
			t.Errorf("Table(db, %s) = %v, want %v", table, got, want)
		}
	}
}

// TestNew_ReleasesWhatItOpened: a New that fails after it locked the
// offsets store and bound the metrics address (here on a truststore that
// went missing, found when the sink's producer is built) releases both, so that a second attempt in the same process
// gets as far and fails the same way, not on the lock or the port.
func TestNew_ReleasesWhatItOpened(t *testing.T) {
	srv := testenv.MariaDB(t)
	dir := t.TempDir()
	trust := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(trust, []byte(testenv.TLSCerts(t).CAPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.FromMap(map[string]string{
		"connector.class":   "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname": srv.Host, "database.port": strconv.Itoa(srv.Port),
		"database.user": srv.User, "database.password": srv.Password,
		"database.server.id": "5611", "topic.prefix": "p",
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": filepath.Join(dir, "history.dat"),
		"offset.storage.file.filename":          filepath.Join(dir, "offsets.json"),
		"metrics.listen":                        fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"bootstrap.servers":                     "127.0.0.1:1", "security.protocol": "SSL",
		"ssl.truststore.location": trust, "ssl.truststore.type": "PEM",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Gone after the configuration was checked (a secret mount rotated, say).
	if err := os.Remove(trust); err != nil {
		t.Fatal(err)
	}
	var first error
	for attempt := range 2 {
		p, err := New(t.Context(), cfg, Options{})
		if err == nil {
			_ = p.close()
			t.Fatalf("attempt %d: New succeeded, want an error for the truststore", attempt)
		}
		if attempt == 0 {
			first = err
			continue
		}
		if err.Error() != first.Error() {
			t.Errorf("second attempt failed with\n%v\nthe first with\n%v", err, first)
		}
	}
	if !strings.Contains(first.Error(), trust) {
		t.Errorf("New = %v, want the truststore named", first)
	}
}
