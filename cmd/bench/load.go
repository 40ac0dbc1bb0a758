package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// errStop ends a worker early without counting as a failure: the phase ran
// out of grants it may act on (each grant takes one transition only).
var errStop = errors.New("pool exhausted")

// stats are the figures of one phase.
type stats struct {
	n, errs   int // completed operations, failed operations
	elapsed   time.Duration
	p50, p99  time.Duration
	bytes     int64  // payload bytes moved by the completed operations
	firstErr  string // the first failure, to show why errs > 0
	exhausted bool   // a worker stopped early with errStop
}

// rate returns completed operations per second.
func (s stats) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }

// mbps returns payload megabytes (10^6) per second.
func (s stats) mbps() float64 { return float64(s.bytes) / 1e6 / s.elapsed.Seconds() }

// load is what a phase runs: op in a closed loop on clients goroutines. op
// gets the worker number and that worker's sequence number and returns the
// payload bytes it moved.
type load struct {
	clients int
	op      func(worker, seq int) (int64, error)
	// run, when set, replaces op: it drives the load for d itself (an
	// external program such as pgbench) and returns its figures.
	run func(d time.Duration) sample
}

// sample is the raw outcome of running a load one or more times.
type sample struct {
	lat       []time.Duration // of the completed operations
	errs      int
	bytes     int64
	elapsed   time.Duration
	firstErr  string
	exhausted bool
}

// add merges o into s.
func (s *sample) add(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.errs += o.errs
	s.bytes += o.bytes
	s.elapsed += o.elapsed
	s.exhausted = s.exhausted || o.exhausted
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

// stats summarises s.
func (s sample) stats() stats {
	slices.Sort(s.lat)
	return stats{n: len(s.lat), errs: s.errs, elapsed: s.elapsed, bytes: s.bytes, firstErr: s.firstErr, exhausted: s.exhausted,
		p50: percentile(s.lat, 0.50), p99: percentile(s.lat, 0.99)}
}

// interleave runs every load for d/rounds at a time, one after the other,
// rounds times over, and returns each load's merged figures. Interleaving
// makes a change in the machine's background load fall on baselines and
// subjects alike instead of on whichever phase happened to run then.
func interleave(rounds int, d time.Duration, loads []load) []stats {
	merged := make([]sample, len(loads))
	for range rounds {
		for i, l := range loads {
			merged[i].add(drive(l, d/time.Duration(rounds)))
		}
	}
	out := make([]stats, len(loads))
	for i := range merged {
		out[i] = merged[i].stats()
	}
	return out
}

// drive runs l for d: each worker starts its next operation as soon as the
// previous one answers. Operations still in flight at the deadline finish
// and count; elapsed runs until the last of them.
func drive(l load, d time.Duration) sample {
	if l.run != nil {
		return l.run(d)
	}
	locals := make([]sample, l.clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &locals[w]
			s.lat = make([]time.Duration, 0, 1024)
			for seq := 0; time.Now().Before(deadline); seq++ {
				t0 := time.Now()
				b, err := l.op(w, seq)
				dt := time.Since(t0)
				switch {
				case errors.Is(err, errStop):
					s.exhausted = true
					return
				case err != nil:
					s.errs++
					if s.firstErr == "" {
						s.firstErr = err.Error()
					}
				default:
					s.lat = append(s.lat, dt)
					s.bytes += b
				}
			}
		}()
	}
	wg.Wait()
	var out sample
	for _, s := range locals {
		out.add(s)
	}
	out.elapsed = time.Since(start)
	return out
}

// percentile returns the q-quantile of sorted (nearest rank), 0 when empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// newClient returns the load generator's HTTP client: keep-alive connections,
// enough idle ones that no client ever dials again mid-phase, and 64 KiB
// socket buffers so that sending an upload costs the client few system
// calls (the default 4 KiB would make the client, which shares the cores
// with the server, a bottleneck of the upload phases).
func newClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			WriteBufferSize:     64 << 10,
			ReadBufferSize:      64 << 10,
		},
	}
}

// send performs req and drains the answer; any status other than want is an
// error carrying the start of the body.
func send(c *http.Client, req *http.Request, want int) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
