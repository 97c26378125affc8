package differential

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestDifferential_LogicalTableRouter: the operations workload with tables
// a and b routed into one logical topic by Debezium's ByLogicalTableRouter,
// with the key field it adds (key.enforce.uniqueness), a key field of our
// naming computed from the topic (key.field.name, key.field.regex,
// key.field.replacement), and without one. The key-change headers, the
// tombstones and the envelope's schema names (<logical topic>.Envelope,
// .Key, .Value) are compared as every other byte.
//
// ToLogicalTopicRouter, which Rivulet accepts as ByLogicalTableRouter's
// other name, is not a class of Debezium 3.6.1 (README, known
// differences: "ToLogicalTopicRouter"), so it has no reference to run.
func TestDifferential_LogicalTableRouter(t *testing.T) {
	srv := testenv.MariaDB(t)
	router := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"transforms":                         "route",
			"transforms.route.type":              "io.debezium.transforms.ByLogicalTableRouter",
			"transforms.route.topic.regex":       `([^.]+)\.([^.]+)\.(a|b)`,
			"transforms.route.topic.replacement": "$1.$2.merged",
		}
		for k, v := range extra {
			m["transforms.route."+k] = v
		}
		return m
	}
	modes := []struct {
		name string
		cfg  map[string]string
	}{
		{"unique_key", router(nil)},
		{"key_field_regex", router(map[string]string{"key.field.name": "shard", "key.field.regex": `([^.]+)\.([^.]+)\.(.+)`, "key.field.replacement": "t_$3"})},
		{"no_key_field", router(map[string]string{"key.enforce.uniqueness": "false"})},
		{"schemas_off", func() map[string]string {
			m := router(nil)
			m["key.converter.schemas.enable"], m["value.converter.schemas.enable"] = "false", "false"
			return m
		}()},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if !full() && m.name != "unique_key" {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every mode (make differential)")
			}
			sc := operations
			sc.cfg = m.cfg
			res := run(t, srv, sc)
			if !slices.ContainsFunc(res.debezium, func(r Record) bool { return strings.HasSuffix(r.Topic, ".merged") }) {
				t.Fatalf("Debezium wrote nothing to the logical topic: the router did not run\n%s", summary(res.debezium))
			}
			reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
		})
	}
}

// heartbeatInterval is heartbeat.interval.ms of the heartbeat scenario:
// short enough that both sides emit several while the workload runs.
const heartbeatInterval = "300"

// TestDifferential_Heartbeats: heartbeat.interval.ms on the operations
// workload. How many heartbeats each side emits, and when, depends on the
// clock (Debezium emits one when an event arrives after the interval has
// passed, Rivulet on its timer), so the heartbeat topic is compared as a
// set: every heartbeat record of either side, normalised, must equal every
// other one (topic __debezium-heartbeat.<prefix>, partition, key, value and
// headers), and both sides must have emitted at least one. The only
// normalised field is the value's ts_ms (normalised: the time the heartbeat
// was sent). Every other topic is compared record by record as usual.
func TestDifferential_Heartbeats(t *testing.T) {
	srv := testenv.MariaDB(t)
	modes := []struct {
		name string
		cfg  map[string]string
	}{
		{"default", nil},
		{"schemas_off", map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}},
		{"topic_prefix", map[string]string{"topic.heartbeat.prefix": "beats"}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if !full() && m.name != "default" {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every mode (make differential)")
			}
			sc := operations
			sc.cfg = map[string]string{"heartbeat.interval.ms": heartbeatInterval}
			for k, v := range m.cfg {
				sc.cfg[k] = v
			}
			// Streams a few seconds more, so that both emit heartbeats
			// between the workload's transactions.
			sc.stream = slices.Clone(sc.stream)
			for i := range 10 {
				sc.stream = append(sc.stream, []string{"DO SLEEP(0.2)", fmt.Sprintf("INSERT INTO nokey VALUES (%d, 'hb')", 100+i)})
			}
			res := run(t, srv, sc)
			hbPrefix := "__debezium-heartbeat"
			if p := m.cfg["topic.heartbeat.prefix"]; p != "" {
				hbPrefix = p
			}
			topic := hbPrefix + "." + prefix
			dbzHB, dbzRest := splitTopic(res.debezium, topic)
			rivHB, rivRest := splitTopic(res.rivulet, topic)
			t.Logf("heartbeats on %s: Debezium %d, Rivulet %d", topic, len(dbzHB), len(rivHB))
			reportDiffs(t, "heartbeats", compareHeartbeats(topic, dbzHB, rivHB))
			reportDiffs(t, "records", compareRecords(prefix, dbzRest, rivRest))
		})
	}
}

// splitTopic returns the records of topic and the others, each in order.
func splitTopic(recs []Record, topic string) (of, rest []Record) {
	for _, r := range recs {
		if r.Topic == topic {
			of = append(of, r)
		} else {
			rest = append(rest, r)
		}
	}
	return of, rest
}

// compareHeartbeats checks that both sides emitted heartbeats and that
// every one, normalised (normalised, topic kind "heartbeat": ts_ms), equals
// Debezium's first: the same partition, key, value and headers.
func compareHeartbeats(topic string, dbz, riv []Record) []string {
	c := &comparison{prefix: prefix, seen: map[string]*finding{}}
	if len(dbz) == 0 {
		c.add(topic, "count", "Debezium emitted no heartbeat (Rivulet %d)", len(riv))
	}
	if len(riv) == 0 {
		c.add(topic, "count", "Rivulet emitted no heartbeat (Debezium %d)", len(dbz))
	}
	if len(dbz) == 0 {
		return c.list()
	}
	for i, r := range dbz[1:] {
		c.compareOne(topic+" (Debezium's own)", i+1, dbz[0], r)
	}
	for i, r := range riv {
		c.compareOne(topic, i, dbz[0], r)
	}
	return c.list()
}
