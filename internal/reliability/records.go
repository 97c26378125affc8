package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is one Kafka record Rivulet wrote, with the Debezium envelope
// unwrapped (with or without JsonConverter schemas).
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	RawKey    []byte
	RawValue  []byte // nil for a tombstone
	Key       map[string]any
	Op        string // c, u, d, r, t; "" for a tombstone or a non-change record
	Before    map[string]any
	After     map[string]any
	Source    Source
}

// Source is the part of source{} that locates a change in the binlog.
type Source struct {
	File     string
	Pos      uint64
	Row      int64
	GTID     string
	Snapshot string // "false" when streamed
	TsMs     int64
}

// Streamed reports whether r is a change read from the binlog (not a
// snapshot row, a tombstone or a heartbeat).
func (r *Record) Streamed() bool {
	return r.Op != "" && r.Op != "r" && (r.Source.Snapshot == "" || r.Source.Snapshot == "false")
}

// Row is the image that describes the key's state after r: After, or
// Before for a delete.
func (r *Record) Row() map[string]any {
	if r.After != nil {
		return r.After
	}
	return r.Before
}

func unwrap(v map[string]any) map[string]any {
	if p, ok := v["payload"].(map[string]any); ok {
		if _, ok := v["schema"]; ok {
			return p
		}
	}
	return v
}

func parseRecord(kr *kgo.Record) (Record, error) {
	r := Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, RawKey: kr.Key, RawValue: kr.Value}
	if len(kr.Key) > 0 {
		var k map[string]any
		if err := json.Unmarshal(kr.Key, &k); err == nil {
			r.Key = unwrap(k)
		}
	}
	if kr.Value == nil {
		return r, nil
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(kr.Value))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return r, fmt.Errorf("%s[%d]@%d: value is not JSON: %w", kr.Topic, kr.Partition, kr.Offset, err)
	}
	v = unwrap(v)
	r.Op, _ = v["op"].(string)
	r.Before, _ = v["before"].(map[string]any)
	r.After, _ = v["after"].(map[string]any)
	if s, ok := v["source"].(map[string]any); ok {
		r.Source.File, _ = s["file"].(string)
		r.Source.Pos = uint64(num(s["pos"]))
		r.Source.Row = num(s["row"])
		r.Source.GTID, _ = s["gtid"].(string)
		r.Source.TsMs = num(s["ts_ms"])
		switch sn := s["snapshot"].(type) {
		case string:
			r.Source.Snapshot = sn
		case bool:
			r.Source.Snapshot = strconv.FormatBool(sn)
		}
	}
	return r, nil
}

func num(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case float64:
		return int64(n)
	}
	return 0
}

// ReadTopics reads every record of the topics whose name match accepts
// (every non-internal topic when match is nil), from the start up to the
// end offsets listed when it begins, in partition order.
func ReadTopics(ctx context.Context, brokers []string, match func(topic string) bool) ([]Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var topics []string
	for _, t := range td.Sorted() {
		if t.IsInternal || (match != nil && !match(t.Topic)) {
			continue
		}
		topics = append(topics, t.Topic)
	}
	if len(topics) == 0 {
		return nil, nil
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	want := map[string]map[int32]kgo.Offset{}
	remaining := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			err = errors.Join(err, fmt.Errorf("%s[%d]: %w", o.Topic, o.Partition, o.Err))
			return
		}
		if o.Offset > 0 {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]kgo.Offset{}
			}
			want[o.Topic][o.Partition] = kgo.NewOffset().AtStart()
			remaining++
		}
	})
	if err != nil {
		return nil, err
	}
	if remaining == 0 {
		return nil, nil
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(want), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cons.Close()
	var out []Record
	done := map[string]bool{}
	for remaining > 0 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("read %d records, %d partitions not at their end: %w", len(out), remaining, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
		})
		if ferr != nil {
			return out, ferr
		}
		fs.EachRecord(func(kr *kgo.Record) {
			end, _ := ends.Lookup(kr.Topic, kr.Partition)
			if kr.Offset >= end.Offset {
				return
			}
			r, perr := parseRecord(kr)
			if perr != nil {
				ferr = errors.Join(ferr, perr)
			}
			out = append(out, r)
			id := kr.Topic + "/" + strconv.Itoa(int(kr.Partition))
			if kr.Offset == end.Offset-1 && !done[id] {
				done[id] = true
				remaining--
			}
		})
		if ferr != nil {
			return out, ferr
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	return out, nil
}

// Prefix matches the change topics of one connector: "<prefix>.<db>.".
func Prefix(topicPrefix, db string) func(string) bool {
	p := topicPrefix + "." + db + "."
	return func(t string) bool { return strings.HasPrefix(t, p) }
}
