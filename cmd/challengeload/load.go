package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadOptions shape one measurement.
type loadOptions struct {
	conns    int           // concurrent clients, each on its own keep-alive connection
	warmup   time.Duration // run, then forget, before measuring
	duration time.Duration // measured time
	users    int           // the server's load-N and mail-N authn users
	kbaUsers int           // the server's kba-N authn users
	outbox   *outbox       // the codes the servers send, if any
	shapes   *shapes       // if set, record response shapes
	// stepHeader names each request's step for the bare server's Redis
	// round trips (-bare-redis); both servers get it.
	stepHeader bool
	// redisCPU, if set, reads the CPU time of the Redis the servers use.
	redisCPU func() time.Duration
}

// result is one scenario against one server for one measured period.
type result struct {
	requests int
	flows    int
	errors   int
	firstErr error
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      time.Duration // the server process's CPU time over the period; 0 if unknown
	redisCPU time.Duration // the Redis's CPU time over the period; 0 if unknown
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// cpuPerRequest is the server's CPU time per request, or 0 if unknown.
func (r result) cpuPerRequest() time.Duration { return perRequest(r.cpu, r.requests) }

// redisCPUPerRequest is Redis's CPU time per request, or 0 if unknown.
func (r result) redisCPUPerRequest() time.Duration { return perRequest(r.redisCPU, r.requests) }

func perRequest(d time.Duration, requests int) time.Duration {
	if d <= 0 || requests == 0 {
		return 0
	}
	return d / time.Duration(requests)
}

// measure runs sc against base with opts.conns workers: first for the
// warm-up, then for the measured duration. The answered requests of a
// flow that is cut off by the end of the period count, the flow does not:
// a flow of argon2id-bound steps can take longer than a short period. cpu, if not nil, reads the
// server process's CPU time, which is far steadier than throughput on a
// machine shared with noisy neighbours.
func measure(ctx context.Context, sc scenario, base string, cpu func() time.Duration, seq *atomic.Uint64, opts loadOptions) result {
	transport := &http.Transport{
		MaxIdleConns:        opts.conns,
		MaxIdleConnsPerHost: opts.conns,
		MaxConnsPerHost:     opts.conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	if opts.warmup > 0 {
		run(ctx, sc, base, httpClient, seq, opts, opts.warmup)
	}
	var before, redisBefore time.Duration
	if cpu != nil {
		before = cpu()
	}
	if opts.redisCPU != nil {
		redisBefore = opts.redisCPU()
	}
	res := run(ctx, sc, base, httpClient, seq, opts, opts.duration)
	if cpu != nil {
		res.cpu = cpu() - before
	}
	if opts.redisCPU != nil && redisBefore > 0 {
		if after := opts.redisCPU(); after > redisBefore {
			res.redisCPU = after - redisBefore
		}
	}
	return res
}

// newSeq returns a counter of load users starting at a random number, so
// that runs one after another against the same store (Redis keeps the
// limiter's budgets) spread over the users rather than start again at
// the first.
func newSeq() *atomic.Uint64 {
	var seq atomic.Uint64
	seq.Store(rand.Uint64N(1 << 32))
	return &seq
}

// processCPU returns a function reading the user and system CPU time of
// process pid from /proc (Linux), or nil where that cannot be read.
func processCPU(pid int) func() time.Duration {
	read := func() (time.Duration, error) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, err
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state is field 3, utime 14, stime 15.
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 13 {
			return 0, errors.New("unexpected /proc stat format")
		}
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, errors.New("unexpected /proc stat format")
		}
		return time.Duration(utime+stime) * time.Second / userHZ, nil
	}
	if _, err := read(); err != nil {
		return nil
	}
	return func() time.Duration {
		d, _ := read()
		return d
	}
}

// userHZ is Linux's USER_HZ, the unit of /proc's CPU times: 100 on every
// architecture Go supports.
const userHZ = 100

func run(ctx context.Context, sc scenario, base string, httpClient *http.Client, seq *atomic.Uint64, opts loadOptions, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu  sync.Mutex
		res result
		all []time.Duration
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range opts.conns {
		wg.Go(func() {
			c := &client{http: httpClient, base: base, seq: seq, users: opts.users, kbaUsers: opts.kbaUsers, outbox: opts.outbox, shapes: opts.shapes, stepHeader: opts.stepHeader}
			var mine result
			var lat []time.Duration
			for ctx.Err() == nil {
				c.latencies = c.latencies[:0]
				err := sc.flow(ctx, c)
				mine.requests += len(c.latencies)
				lat = append(lat, c.latencies...)
				if ctx.Err() != nil {
					break // cut off by the end of the period: its answered requests count
				}
				if err != nil {
					mine.errors++
					if mine.firstErr == nil {
						mine.firstErr = err
					}
					continue
				}
				mine.flows++
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += mine.requests
			res.flows += mine.flows
			res.errors += mine.errors
			if res.firstErr == nil {
				res.firstErr = mine.firstErr
			}
			all = append(all, lat...)
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(all)
	res.p50, res.p99 = percentile(all, 0.50), percentile(all, 0.99)
	return res
}

// percentile returns the p-quantile of sorted (nearest rank), or 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0.
func median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
