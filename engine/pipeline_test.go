package engine

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/config"
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
