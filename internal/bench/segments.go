package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchShape describes the record batches of one topic partition as the
// broker stored them: read from its log segments, so it counts what the
// broker validated and appended, whoever produced it.
type batchShape struct {
	batches, records int
	bytes            int64
	producers        int // distinct producer ids
	// spread is the largest maxTimestamp - baseTimestamp of a batch, in
	// ms; wide counts the batches where it is 64 ms or more (a record's
	// timestamp delta then takes a varlong of two bytes or more).
	spread, wide int64
	attrs        map[int16]int // batches by attributes (compression, timestamp type)
	// Of the records of uncompressed batches: those whose timestamp delta
	// takes a varlong of two bytes or more, and those before their
	// batch's first timestamp.
	longDelta, negDelta int
	perBatch            []int // records per batch, in log order
}

// readBatchShape walks the segments of topic's partition 0 in the broker's
// log directory (BENCH_BATCHES=1, for diagnosis: the broker flushes lazily,
// but the page cache serves what it wrote).
func readBatchShape(topic string) (batchShape, error) {
	var s batchShape
	dir := filepath.Join(filepath.Dir(kafka.k.Log(1)), "data", topic+"-0")
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(files) == 0 {
		return s, fmt.Errorf("segments of %s in %s: %v", topic, dir, err)
	}
	sort.Strings(files)
	pids := map[int64]bool{}
	s.attrs = map[int16]int{}
	var hdr [61]byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return s, err
		}
		var pos int64
		for {
			if _, err := f.ReadAt(hdr[:], pos); err != nil {
				if err == io.EOF {
					break
				}
				f.Close()
				return s, err
			}
			// baseOffset int64, batchLength int32, partitionLeaderEpoch
			// int32, magic int8, crc int32, attributes int16,
			// lastOffsetDelta int32, baseTimestamp int64, maxTimestamp
			// int64, producerId int64, producerEpoch int16, baseSequence
			// int32, records int32.
			length := int64(binary.BigEndian.Uint32(hdr[8:12]))
			if length == 0 {
				break // preallocated tail
			}
			n := int(int32(binary.BigEndian.Uint32(hdr[57:61])))
			pids[int64(binary.BigEndian.Uint64(hdr[43:51]))] = true
			s.attrs[int16(binary.BigEndian.Uint16(hdr[21:23]))]++
			d := int64(binary.BigEndian.Uint64(hdr[35:43])) - int64(binary.BigEndian.Uint64(hdr[27:35]))
			s.spread = max(s.spread, d)
			if d >= 64 {
				s.wide++
			}
			s.batches++
			s.records += n
			s.bytes += 12 + length
			s.perBatch = append(s.perBatch, n)
			if binary.BigEndian.Uint16(hdr[21:23])&7 == 0 {
				body := make([]byte, 12+length-61)
				if _, err := f.ReadAt(body, pos+61); err != nil {
					f.Close()
					return s, err
				}
				s.recordDeltas(body, n)
			}
			pos += 12 + length
		}
		f.Close()
	}
	s.producers = len(pids)
	return s, nil
}

func (s batchShape) String() string {
	if s.batches == 0 {
		return "no batches"
	}
	p := slices.Clone(s.perBatch)
	slices.Sort(p)
	q := func(f float64) int { return p[int(f*float64(len(p)-1))] }
	small := 0
	for _, n := range p {
		if n < 100 {
			small++
		}
	}
	return fmt.Sprintf("%d batches, %d records, %.0f records/batch (min %d p10 %d median %d p90 %d max %d; %d batches under 100), %.0f bytes/batch, %d producer id(s), timestamp spread up to %d ms (%d batches of 64 ms or more; %d records with a delta of 2+ bytes, %d before their batch's first), attributes %v",
		s.batches, s.records, float64(s.records)/float64(s.batches), p[0], q(0.1), q(0.5), q(0.9), p[len(p)-1], small, float64(s.bytes)/float64(s.batches), s.producers, s.spread, s.wide, s.longDelta, s.negDelta, s.attrs)
}

// printBatchShape prints topic's batch shape when BENCH_BATCHES is set.
func printBatchShape(label, topic string) {
	if os.Getenv("BENCH_BATCHES") == "" {
		return
	}
	s, err := readBatchShape(topic)
	if err != nil {
		fmt.Printf("    %s batches: %v\n", label, err)
		return
	}
	fmt.Printf("    %s batches: %s\n", label, s)
}

// requestCount counts the floor client's requests by key (BENCH_BATCHES).
type requestCount struct {
	n [kmsg.MaxKey + 1]atomic.Int64
}

func (c *requestCount) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil && key >= 0 && int(key) < len(c.n) {
		c.n[key].Add(1)
	}
}

func (c *requestCount) reset() {
	for i := range c.n {
		c.n[i].Store(0)
	}
}

func (c *requestCount) String() string {
	var out []string
	for key := range c.n {
		if v := c.n[key].Load(); v > 0 {
			out = append(out, fmt.Sprintf("%s=%d", kmsg.NameForKey(int16(key)), v))
		}
	}
	return strings.Join(out, " ")
}

// recordDeltas counts the records of an uncompressed batch's body whose
// timestamp delta is 64 ms or more away from the batch's first timestamp.
func (s *batchShape) recordDeltas(b []byte, n int) {
	for range n {
		length, k := binary.Varint(b)
		if k <= 0 || int(length) > len(b)-k {
			return
		}
		rec := b[k : k+int(length)]
		b = b[k+int(length):]
		if len(rec) < 2 {
			return
		}
		_, w := binary.Uvarint(rec[1:]) // the zigzag varlong's width
		d, _ := binary.Varint(rec[1:])
		if w > 1 {
			s.longDelta++
		}
		if d < 0 {
			s.negDelta++
		}
	}
}
