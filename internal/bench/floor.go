package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/sink"
)

// floorResult is what a client that only moves the bytes reaches on this
// machine: it reads bench.t with one streaming SELECT and produces one
// record per row, of the key and value sizes and with the headers
// Rivulet's snapshot records have, to a topic created beforehand, with Rivulet's producer settings.
// No decoding, no envelope, no start-up: an upper bound for any Go
// connector that reads with go-mysql and produces with franz-go into this
// broker, for the snapshot ratio's sake.
type floorResult struct {
	rate              float64 // rows/s from the first SELECT byte to the last ack
	cpu, broker, mdb  float64 // CPU seconds: this client, Apache Kafka, MariaDB
	keyBytes, valSize int
	headers           int // per record, as Rivulet's (Debezium's extended headers)
}

// recordShape reads one record from the middle of topic and returns its key
// and value sizes and its headers: the floor produces records of that
// shape (the broker parses every header of every record it validates).
func recordShape(brokers []string, topic string, offset int64) (key, value int, headers []kgo.RecordHeader, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(offset)}}))
	if err != nil {
		return 0, 0, nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		fs := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			return 0, 0, nil, fmt.Errorf("read a record of %s at %d: %w", topic, offset, err)
		}
		for _, r := range fs.Records() {
			return len(r.Key), len(r.Value), r.Headers, nil
		}
	}
}

// floorRun produces every row of bench.t as described at floorResult.
func floorRun(srv *testenv.Server, want, keySize, valueSize int, headers []kgo.RecordHeader) (floorResult, error) {
	r := floorResult{keyBytes: keySize, valSize: valueSize, headers: len(headers)}
	b0 := cpuSeconds(kafka.pid())
	brokers, err := kafka.fresh()
	if err != nil {
		return r, err
	}
	adm, acl, err := admin(brokers)
	if err != nil {
		return r, err
	}
	defer acl.Close()
	const topic = "floor.bench.t"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		return r, fmt.Errorf("create %s: %w", topic, err)
	}
	// Rivulet's producer settings (sink.NewKafka with the bench's config).
	reqs := new(requestCount)
	cl, err := kgo.NewClient(kgo.WithHooks(reqs), kgo.SeedBrokers(brokers...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(1_000_012), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.MaxBufferedRecords(2*sink.DefaultMaxBufferedRecords+1), kgo.MaxBufferedBytes(2*sink.DefaultMaxBufferedBytes+1),
		kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return r, err
	}
	defer cl.Close()
	// Warm the producer up (metadata, producer id) outside the timing.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("warm")}).FirstErr(); err != nil {
		return r, fmt.Errorf("produce to %s: %w", topic, err)
	}
	conn, err := srv.Connect("")
	if err != nil {
		return r, err
	}
	defer conn.Close()

	value := make([]byte, valueSize)
	for i := range value {
		value[i] = 'v'
	}
	keys := make([]byte, 0, keySize*4096)
	var acked atomic.Int64
	var firstErr atomic.Value
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			firstErr.CompareAndSwap(nil, err)
		}
		acked.Add(1)
	}
	reqs.reset()
	stopRecording := kafka.recordBroker(fmt.Sprintf("floor%d", time.Now().Unix()%1000))
	broker0, mdb0, self0 := cpuSeconds(kafka.pid()), cpuSeconds(srv.Pid()), selfCPU()
	if os.Getenv("BENCH_FLOOR_POLL") != "" {
		// For diagnosis: ask for the topic's end offset every 10 ms while
		// producing, as snapshotRun does while Rivulet runs, to see what
		// that polling costs the broker.
		pollCtx, stopPoll := context.WithCancel(ctx)
		defer stopPoll()
		go func() {
			for pollCtx.Err() == nil {
				_, _ = endOffset(adm, topic)
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	var th0 map[string][2]float64
	if os.Getenv("BENCH_BATCHES") != "" {
		th0 = threadCPU(kafka.pid())
	}
	// For diagnosis: BENCH_FLOOR_RATE=rows/s paces the floor to a given
	// rate (Rivulet's), to see what the arrival rate alone costs the broker.
	pace, _ := strconv.ParseFloat(os.Getenv("BENCH_FLOOR_RATE"), 64)
	begin := time.Now()
	n := 0
	var res mysql.Result
	err = conn.ExecuteSelectStreaming("SELECT * FROM bench.t", &res, func(row []mysql.FieldValue) error {
		// Keys are slices of a buffer renewed every 4096 rows: records
		// keep their key until acked.
		if len(keys)+keySize > cap(keys) {
			keys = make([]byte, 0, keySize*4096)
		}
		k := len(keys)
		keys = append(keys, value[:keySize]...)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: keys[k:len(keys):len(keys)], Value: value, Headers: headers}, promise)
		n++
		if pace > 0 && n%1000 == 0 {
			if d := time.Duration(float64(n)/pace*float64(time.Second)) - time.Since(begin); d > 0 {
				time.Sleep(d)
			}
		}
		return nil
	}, nil)
	if err != nil {
		return r, err
	}
	if err := cl.Flush(ctx); err != nil {
		return r, err
	}
	elapsed := time.Since(begin)
	stopRecording()
	if e := firstErr.Load(); e != nil {
		return r, fmt.Errorf("produce: %w", e.(error))
	}
	if n < want || acked.Load() < int64(want) {
		return r, fmt.Errorf("floor: %d rows read, %d acked, want %d", n, acked.Load(), want)
	}
	r.rate = float64(n) / elapsed.Seconds()
	r.cpu, r.broker, r.mdb = selfCPU()-self0, cpuSeconds(kafka.pid())-broker0, cpuSeconds(srv.Pid())-mdb0
	if os.Getenv("BENCH_BATCHES") != "" {
		fmt.Printf("    (floor's broker CPU: %.2f s deleting the last run's topics, creating its own and warming up, not counted; %.2f s counted)\n", broker0-b0, r.broker)
		printBatchShape("floor", topic)
		fmt.Printf("    floor's requests while counted: %s\n", reqs)
		fmt.Println("    broker threads, counted:")
		printThreadCPU(th0, threadCPU(kafka.pid()))
	}
	return r, nil
}

// selfCPU is this process's user and system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
