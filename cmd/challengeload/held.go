package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// heldRun is one scenario's rounds against a server holding some
// challenges.
type heldRun struct {
	held    int
	peak    string // the server's peak resident memory over its runs, as /proc says it
	sc      scenario
	results []result
}

// sweepHeld measures the chosen scenarios against examples/server alone,
// started afresh with each count of held PSD2 challenges (-demo-held),
// and prints each one's CPU per request against the first count's: what
// holding many challenges costs every request (the garbage collector
// marking them, the store's maps growing).
func sweepHeld(ctx context.Context, chosen []scenario, held []int, rounds int, srv serverOptions, opts loadOptions, stdout io.Writer) error {
	var runs []heldRun
	for _, n := range held {
		srv.held = n
		real, err := startServer(ctx, srv, io.Discard)
		if err != nil {
			return fmt.Errorf("with %d held: %w", n, err)
		}
		cpu := real.cpu()
		first := len(runs)
		for _, sc := range chosen {
			seq := newSeq()
			run := heldRun{held: n, sc: sc}
			for range rounds {
				run.results = append(run.results, measure(ctx, sc, real.base, cpu, seq, opts))
			}
			runs = append(runs, run)
		}
		peak := peakMemory(real.cmd.Process.Pid)
		for i := first; i < len(runs); i++ {
			runs[i].peak = peak
		}
		real.stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	printHeld(stdout, runs, rounds)
	for _, r := range runs {
		for _, res := range r.results {
			if res.errors > 0 || res.requests == 0 {
				return errors.New("some requests failed (see above)")
			}
		}
	}
	return nil
}

func printHeld(w io.Writer, runs []heldRun, rounds int) {
	fmt.Fprintf(w, "\n### examples/server holding PSD2 challenges (-demo-held), alone\n\n")
	fmt.Fprintf(w, "| held challenges | server peak memory | scenario | req/s (median of %d) | p50 | p99 | server CPU per request | CPU vs %d held | failed flows |\n|--:|--:|---|--:|--:|--:|--:|--:|--:|\n",
		rounds, runs[0].held)
	first := map[string]time.Duration{} // scenario → CPU per request with the first count
	for _, r := range runs {
		var rps []float64
		var p50, p99, cpu []time.Duration
		errs := 0
		var firstErr error
		for _, res := range r.results {
			rps, p50, p99 = append(rps, res.rps()), append(p50, res.p50), append(p99, res.p99)
			if d := res.cpuPerRequest(); d > 0 {
				cpu = append(cpu, d)
			}
			errs += res.errors
			if firstErr == nil {
				firstErr = res.firstErr
			}
		}
		c := median(cpu)
		if _, ok := first[r.sc.name]; !ok {
			first[r.sc.name] = c
		}
		cpuText, vs := "–", "–"
		if c > 0 {
			cpuText = fmt.Sprintf("%.1f µs", float64(c)/float64(time.Microsecond))
			if f := first[r.sc.name]; f > 0 {
				vs = fmt.Sprintf("%+.1f%%", 100*(float64(c)/float64(f)-1))
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %.0f | %s | %s | %s | %s | %d |\n",
			r.held, r.peak, r.sc.name, median(rps), ms(median(p50)), ms(median(p99)), cpuText, vs, errs)
		if firstErr != nil {
			defer fmt.Fprintf(w, "first failure (%s, %d held): %v\n", r.sc.name, r.held, firstErr)
		}
	}
}

// peakMemory returns process pid's peak resident set size from /proc
// (Linux), or "–".
func peakMemory(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "–"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 {
				break
			}
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
			}
		}
	}
	return "–"
}
