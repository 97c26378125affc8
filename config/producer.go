package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Producer is the change-event producer's tuning, each key read as
// `producer.override.<key>` (the connector's), else `producer.<key>` (the
// worker's), else `<key>`.
type Producer struct {
	// Acks is acks: -1 ("all", the default), 1 or 0. Anything but all can
	// lose acknowledged changes when a leader fails.
	Acks int
	// Idempotent is enable.idempotence. Default true; with acks other than
	// all and enable.idempotence unset it is false, as in Kafka 3.2+.
	Idempotent bool
	// Linger is linger.ms; LingerSet tells an explicit 0 from the unset
	// default (the sink's own, 5ms).
	Linger    time.Duration
	LingerSet bool
	// BufferMemory is buffer.memory: the most bytes handed to the producer
	// and not yet acknowledged. 0 means the sink's bound (8 MiB, or
	// max.queue.size.in.bytes).
	BufferMemory int64
	// DeliveryTimeout is delivery.timeout.ms: a record not acknowledged in
	// that time fails the sink (and Rivulet stops, to restart from the last
	// committed position). 0, the default, retries until Kafka answers, so
	// that an outage never stops Rivulet (Kafka's default is 120000).
	DeliveryTimeout time.Duration
}

// TopicCreation is Kafka Connect's topic.creation.* (KIP-158): partitions,
// replication factor and topic configs for the topics Rivulet creates for
// change events, schema changes and transaction metadata.
type TopicCreation struct {
	// Disabled is topic.creation.enable=false (a worker key): topics are
	// left to the broker's auto.create.topics.enable or to the operator.
	Disabled bool
	// Groups are topic.creation.groups in order, then the default group
	// (topic.creation.default.*). The first group whose Include matches a
	// topic and whose Exclude does not gives its settings. Empty when no
	// topic.creation.default.* key is set: one partition, the broker's
	// replication factor.
	Groups []TopicGroup
}

// TopicGroup is one topic.creation group.
type TopicGroup struct {
	Name string
	// Include and Exclude are the group's regular expressions, matched
	// against the whole topic name (Connect's include/exclude); the
	// default group includes every topic.
	Include []*regexp.Regexp
	Exclude []*regexp.Regexp
	// Partitions and ReplicationFactor are .partitions and
	// .replication.factor; -1 means the broker's default.
	Partitions        int32
	ReplicationFactor int16
	// Configs are the group's other keys: topic configs such as
	// cleanup.policy, retention.ms, min.insync.replicas.
	Configs map[string]string
}

// Matches reports whether topic belongs to g.
func (g TopicGroup) Matches(topic string) bool {
	in := g.Name == "default"
	for _, re := range g.Include {
		in = in || re.MatchString(topic)
	}
	if !in {
		return false
	}
	for _, re := range g.Exclude {
		if re.MatchString(topic) {
			return false
		}
	}
	return true
}

// producerKeys are the producer tuning keys, each also read with the
// producer. and producer.override. prefixes.
var producerKeys = []string{
	"acks", "enable.idempotence", "linger.ms", "batch.size", "buffer.memory", "delivery.timeout.ms",
	"max.in.flight.requests.per.connection", "retries", "retry.backoff.ms", "retry.backoff.max.ms",
}

// producerKey consumes key in its three spellings and returns the
// strongest value and the key as written.
func (l *loader) producerKey(key string) (v, src string, ok bool) {
	for _, k := range []string{key, "producer." + key, "producer.override." + key} {
		if val, set := l.take(k); set {
			v, src, ok = val, k, true
		}
	}
	return v, src, ok
}

func (l *loader) parseProducer(c *Config) {
	p := &c.Kafka.Producer
	acksSet := false
	if v, src, ok := l.producerKey("acks"); ok {
		switch strings.ToLower(v) {
		case "all", "-1":
		case "1":
			p.Acks, acksSet = 1, true
		case "0":
			p.Acks, acksSet = 0, true
		default:
			l.fail(invalid(src, v, "is not an acks value", "set all (the default), 1 or 0"))
		}
	}
	idemSrc := ""
	if v, src, ok := l.producerKey("enable.idempotence"); ok {
		switch strings.ToLower(v) {
		case "true":
			idemSrc = src
		case "false":
			p.Idempotent = false
		default:
			l.fail(invalid(src, v, "is not a boolean", "set true or false"))
		}
	}
	if acksSet {
		if idemSrc != "" {
			l.fail(invalid(idemSrc, "true", "needs acks=all", "set acks=all, or remove enable.idempotence"))
		}
		p.Idempotent = false
		l.warn(fmt.Sprintf("acks=%d: Kafka acknowledges a record before its replicas have it, so a leader failure can lose changes Rivulet already committed offsets for; set acks=all", p.Acks), "acks")
	}
	if v, src, ok := l.producerKey("linger.ms"); ok {
		p.Linger, p.LingerSet = l.clientMillis(src, v), true
	}
	if v, src, ok := l.producerKey("delivery.timeout.ms"); ok {
		p.DeliveryTimeout = l.clientMillis(src, v)
	}
	if v, src, ok := l.producerKey("buffer.memory"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 1024 {
			l.fail(invalid(src, v, "is not a size in bytes", "set an integer of at least 1024"))
		} else {
			p.BufferMemory = n
		}
	}
	var noEffect []string
	for _, k := range []string{"batch.size", "max.in.flight.requests.per.connection", "retries", "retry.backoff.ms", "retry.backoff.max.ms"} {
		if v, src, ok := l.producerKey(k); ok {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				l.fail(invalid(src, v, "is not an integer", "set an integer or remove "+src))
				continue
			}
			noEffect = append(noEffect, src)
		}
	}
	if len(noEffect) > 0 {
		l.warn("producer keys with no effect in Rivulet: "+strings.Join(noEffect, ", ")+
			" (its producer fills a partition's batch up to max.request.size within linger.ms, keeps up to 5 idempotent requests in flight per broker with ordering kept, and retries until delivery.timeout.ms; remove them)", noEffect...)
	}
}

// parseTopicCreation reads topic.creation.enable, topic.creation.groups and
// each group's keys.
func (l *loader) parseTopicCreation(c *Config) {
	tc := &c.Kafka.TopicCreation
	if v, ok := l.lower("topic.creation.enable"); ok {
		switch v {
		case "true":
		case "false":
			tc.Disabled = true
		default:
			l.fail(invalid("topic.creation.enable", v, "is not a boolean", "set true or false"))
		}
	}
	var names []string
	if v, ok := l.take("topic.creation.groups"); ok {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" && n != "default" {
				names = append(names, n)
			}
		}
	}
	hasDefault := false
	for _, k := range l.sortedKeys() {
		hasDefault = hasDefault || strings.HasPrefix(k, "topic.creation.default.")
	}
	if !hasDefault && len(names) == 0 {
		return
	}
	def := l.topicGroup("default", nil)
	if def.Partitions == 0 || def.ReplicationFactor == 0 {
		for _, k := range []string{"partitions", "replication.factor"} {
			if (k == "partitions" && def.Partitions == 0) || (k == "replication.factor" && def.ReplicationFactor == 0) {
				l.fail(invalid("topic.creation.default."+k, "", "is not set",
					"set it (a positive number, or -1 for the broker's default) whenever topic creation is configured, as Kafka Connect requires"))
			}
		}
	}
	for _, n := range names {
		g := l.topicGroup(n, &def)
		if len(g.Include) == 0 {
			l.fail(invalid("topic.creation."+n+".include", "", "is not set", "set the regular expressions of the topics in group "+n))
		}
		tc.Groups = append(tc.Groups, g)
	}
	tc.Groups = append(tc.Groups, def)
}

// topicGroup consumes topic.creation.<name>.*; settings not given come
// from def (nil for the default group itself).
func (l *loader) topicGroup(name string, def *TopicGroup) TopicGroup {
	prefix := "topic.creation." + name + "."
	g := TopicGroup{Name: name, Configs: map[string]string{}}
	if def != nil {
		g.Partitions, g.ReplicationFactor = def.Partitions, def.ReplicationFactor
		for k, v := range def.Configs {
			g.Configs[k] = v
		}
	}
	for _, k := range l.sortedKeys() {
		sub, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		v, set := l.take(k)
		if !set {
			continue
		}
		switch sub {
		case "include", "exclude":
			if name == "default" {
				l.fail(invalid(k, v, "cannot be set for the default group", "remove it; the default group takes every topic no other group takes"))
				continue
			}
			var res []*regexp.Regexp
			for _, p := range splitRegexList(v) {
				re, err := regexp.Compile("^(?:" + p + ")$")
				if err != nil {
					l.fail(invalid(k, p, "is not a valid regular expression ("+err.Error()+")", "rewrite it in RE2 syntax"))
					continue
				}
				res = append(res, re)
			}
			if sub == "include" {
				g.Include = res
			} else {
				g.Exclude = res
			}
		case "partitions":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n == 0 || n < -1 {
				l.fail(invalid(k, v, "is not a partition count", "set a positive number, or -1 for the broker's num.partitions"))
				continue
			}
			g.Partitions = int32(n)
		case "replication.factor":
			n, err := strconv.ParseInt(v, 10, 16)
			if err != nil || n == 0 || n < -1 || n > math.MaxInt16 {
				l.fail(invalid(k, v, "is not a replication factor", "set a positive number, or -1 for the broker's default.replication.factor"))
				continue
			}
			g.ReplicationFactor = int16(n)
		default:
			g.Configs[sub] = v
		}
	}
	return g
}
