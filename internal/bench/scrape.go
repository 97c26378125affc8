package main

import (
	"context"
	"io"
	"net/http"
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
