package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scrapeInterval is how often the "scraped" variant GETs /metrics while it
// runs (-scrape-interval): far more often than Prometheus would (15s is
// usual), so that the cost of metrics collection shows in events/s.
var scrapeInterval = 100 * time.Millisecond

// startScraper GETs http://addr/metrics every interval until the returned
// stop is called; stop reports the scrapes done and the bytes read.
func startScraper(addr string, interval time.Duration) (stop func() (scrapes, bytes int)) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var n, size int
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
			if err != nil {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue // not listening yet, or stopping
			}
			b, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n++
			size += int(b)
		}
	}()
	return func() (int, int) {
		cancel()
		wg.Wait()
		return n, size
	}
}

// printProduceShape prints the shape of the produce requests a run sent, from
// franz-go's producer metrics on rivulet's /metrics (BENCH_PRODUCE=1):
// batches and requests per second, records and bytes per batch.
func printProduceShape(addr string, elapsed time.Duration) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		fmt.Println("    produce shape:", err)
		return
	}
	defer resp.Body.Close()
	sums := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rivulet_kafka_") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err == nil {
			sums[name] += v
		}
	}
	s := elapsed.Seconds()
	batches := sums["rivulet_kafka_produce_batches_total"]
	reqs := sums["rivulet_kafka_write_time_seconds_count"]
	fmt.Printf("    produce: %.0f batches/s, %.0f requests/s (%.0f writes), %.0f records/batch, %.0f bytes/batch uncompressed, %.0f compressed\n",
		batches/s, reqs/s, reqs, sums["rivulet_kafka_produce_records_total"]/max(batches, 1),
		sums["rivulet_kafka_produce_uncompressed_bytes_total"]/max(batches, 1),
		sums["rivulet_kafka_produce_compressed_bytes_total"]/max(batches, 1))
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		fmt.Printf("      %s %.0f\n", k, sums[k])
	}
}
