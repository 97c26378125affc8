package config

import (
	"errors"
	"testing"
)

func TestFilters_GTIDSource(t *testing.T) {
	const uuidA, uuidB = "3e11fa47-71ca-11e1-9e33-c80aa9429562", "aaaaaaaa-71ca-11e1-9e33-c80aa9429562"
	tests := []struct {
		name string
		f    Filters
		want map[string]bool // nil: no filter
	}{
		{"none", Filters{}, nil},
		{"includes", Filters{GTIDSourceInclude: []string{"3E11FA47-.*"}}, map[string]bool{uuidA: true, uuidB: false}},
		{"excludes", Filters{GTIDSourceExclude: []string{uuidA}}, map[string]bool{uuidA: false, uuidB: true}},
		// MySQL 8.3+ tagged GTIDs: the source is "<uuid>:<tag>"; a pattern
		// may name the tag, or the UUID alone for all its tags.
		{"tag included", Filters{GTIDSourceInclude: []string{uuidA + ":mytag"}}, map[string]bool{uuidA + ":mytag": true, uuidA: false, uuidA + ":other": false}},
		{"uuid includes its tags", Filters{GTIDSourceInclude: []string{uuidA}}, map[string]bool{uuidA + ":mytag": true, uuidA: true, uuidB + ":mytag": false}},
		{"tag excluded", Filters{GTIDSourceExclude: []string{uuidA + ":mytag"}}, map[string]bool{uuidA + ":mytag": false, uuidA: true, uuidA + ":other": true}},
		{"mariadb domain", Filters{GTIDSourceExclude: []string{"2-.*"}}, map[string]bool{"0-1": true, "2-1": false, "12-1": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pred := tt.f.GTIDSource()
			if (pred == nil) != (tt.want == nil) {
				t.Fatalf("predicate nil = %v, want %v", pred == nil, tt.want == nil)
			}
			for src, want := range tt.want {
				if got := pred(src); got != want {
					t.Errorf("%s: got %v, want %v", src, got, want)
				}
			}
		})
	}
}

func TestLoad_GTIDSource(t *testing.T) {
	base := map[string]string{"database.hostname": "h", "database.user": "u", "database.server.id": "5", "topic.prefix": "p",
		"schema.history.internal.kafka.topic": "h", "bootstrap.servers": "k:9092", "offset.storage.topic": "o"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, _, err := FromMap(with("gtid.source.includes", "a.*, b.*"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Filters.GTIDSourceInclude; len(got) != 2 || got[0] != "a.*" || got[1] != "b.*" {
		t.Errorf("includes = %q", got)
	}
	if _, _, err := FromMap(with("gtid.source.includes", "a", "gtid.source.excludes", "b")); !errors.Is(err, ErrInvalid) {
		t.Errorf("both set: err = %v", err)
	}
	if _, _, err := FromMap(with("gtid.source.excludes", "(")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad regex: err = %v", err)
	}
}

func TestLoad_ExactlyOnce(t *testing.T) {
	m := func(kv ...string) map[string]string {
		c := map[string]string{"database.hostname": "h", "database.user": "u", "database.server.id": "5", "topic.prefix": "p",
			"schema.history.internal.kafka.topic": "h", "bootstrap.servers": "k:9092"}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	tests := []struct {
		name    string
		m       map[string]string
		want    bool
		wantErr bool
	}{
		{"default", m("offset.storage.topic", "o"), false, false},
		{"requested", m("offset.storage.topic", "o", "exactly.once.support", "requested"), false, false},
		{"required", m("offset.storage.topic", "o", "exactly.once.support", "REQUIRED"), true, false},
		{"required with file store", m("offset.storage.file.filename", "/tmp/o.json", "exactly.once.support", "required"), false, true},
		{"unknown value", m("offset.storage.topic", "o", "exactly.once.support", "maybe"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := FromMap(tt.m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && c.Offsets.ExactlyOnce != tt.want {
				t.Errorf("ExactlyOnce = %v, want %v", c.Offsets.ExactlyOnce, tt.want)
			}
		})
	}
}
