package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/challengekit/challengekit/internal/bareserver"
)

// startTestServer builds examples/server and starts it as challengeload
// does, with a few load users, writing codes to box.
func startTestServer(t *testing.T, box string) *child {
	t.Helper()
	c, err := startServer(context.Background(), serverOptions{logLevel: "warn", users: 100, kbaUsers: 2, outbox: box}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	return c
}

// testOutbox opens an outbox in a temporary directory.
func testOutbox(t *testing.T) *outbox {
	t.Helper()
	box, err := openOutbox(filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(box.close) // after the servers, whose cleanups run first
	return box
}

// TestScenariosRunAgainstBothServersAlike runs each scenario's flow once
// against the example server and the bare server: both must complete it,
// and answer every step with the same top-level JSON fields, or the bare
// server would not be a fair ceiling.
func TestScenariosRunAgainstBothServersAlike(t *testing.T) {
	box := testOutbox(t)
	real := startTestServer(t, box.path)
	bare := httptest.NewServer(bareserver.New(bareserver.Options{Outbox: box.path}))
	defer bare.Close()
	var realShapes, bareShapes shapes
	var seq atomic.Uint64
	for _, sc := range scenarios {
		for _, target := range []struct {
			base   string
			shapes *shapes
		}{{real.base, &realShapes}, {bare.URL, &bareShapes}} {
			c := &client{http: http.DefaultClient, base: target.base, seq: &seq, users: 100, kbaUsers: 2, outbox: box, shapes: target.shapes}
			if err := sc.flow(context.Background(), c); err != nil {
				t.Fatalf("%s against %s: %v\nserver log:\n%s", sc.name, target.base, err, real.logs)
			}
			if len(c.latencies) == 0 {
				t.Fatalf("%s recorded no request", sc.name)
			}
		}
	}
	if len(realShapes.fields) < 2*len(scenarios) {
		t.Fatalf("recorded only %d steps", len(realShapes.fields))
	}
	for step, want := range realShapes.fields {
		if got := bareShapes.fields[step]; !slices.Equal(got, want) {
			t.Errorf("%s: the bare server answers %v, the example server %v", step, got, want)
		}
	}
}

// TestMeasureCountsRequestsAndLatencies drives the bare server briefly.
func TestMeasureCountsRequestsAndLatencies(t *testing.T) {
	bare := httptest.NewServer(bareserver.Handler())
	defer bare.Close()
	sc, _ := scenarioNamed("psd2")
	var seq atomic.Uint64
	r := measure(context.Background(), sc, bare.URL, processCPU(os.Getpid()), &seq, loadOptions{conns: 4, duration: 200 * time.Millisecond})
	if r.errors != 0 || r.firstErr != nil {
		t.Fatalf("%d failed flows: %v", r.errors, r.firstErr)
	}
	if r.flows == 0 || r.requests < 4*r.flows || r.rps() <= 0 {
		t.Fatalf("%d flows, %d requests, %.0f req/s", r.flows, r.requests, r.rps())
	}
	if r.p50 <= 0 || r.p99 < r.p50 {
		t.Fatalf("p50 %v, p99 %v", r.p50, r.p99)
	}
	// The bare server runs in this process here, so the CPU it reads is this
	// process's: more than nothing, and no more than both cores' worth.
	if r.cpu <= 0 || r.cpu > time.Duration(runtime.NumCPU())*r.elapsed+time.Second {
		t.Fatalf("CPU %v over %v", r.cpu, r.elapsed)
	}
}

func TestMeasureReportsFailedFlows(t *testing.T) {
	nothing := httptest.NewServer(http.NotFoundHandler())
	defer nothing.Close()
	sc, _ := scenarioNamed("psd2")
	var seq atomic.Uint64
	r := measure(context.Background(), sc, nothing.URL, nil, &seq, loadOptions{conns: 2, duration: 100 * time.Millisecond})
	if r.errors == 0 || r.firstErr == nil || !strings.Contains(r.firstErr.Error(), "status 404") {
		t.Fatalf("against a server that answers 404: %d failed flows, first %v", r.errors, r.firstErr)
	}
	c := comparison{sc: sc, bare: []result{r}, real: []result{r}}
	if !c.failed() {
		t.Fatal("a comparison with failed flows does not say so")
	}
	var out bytes.Buffer
	c.print(&out)
	if !strings.Contains(out.String(), "first failure:") {
		t.Fatalf("the report does not show the failure:\n%s", out.String())
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if p50, p99 := percentile(d, 0.5), percentile(d, 0.99); p50 != 50 || p99 != 99 {
		t.Fatalf("p50 %v, p99 %v; want 50, 99", p50, p99)
	}
	if percentile(nil, 0.5) != 0 || percentile(d[:1], 0.99) != 1 {
		t.Fatal("percentile of an empty or one-element slice")
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median of 3,1,2 = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Fatalf("median of 4,1,3,2 = %v", m)
	}
}

func TestFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"-scenarios", "psd2,nope"}, {"-conns", "0"}, {"-duration", "0s"}} {
		var stderr bytes.Buffer
		if err := mainErr(context.Background(), args, &bytes.Buffer{}, &stderr); err == nil {
			t.Errorf("mainErr(%q) accepted bad flags", args)
		}
	}
}

// TestBareMode runs the command's -bare mode as challengeload starts it.
func TestBareMode(t *testing.T) {
	if os.Getenv("CHALLENGELOAD_TEST_BARE") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := mainErr(ctx, []string{"-bare"}, os.Stdout, os.Stderr); err != nil {
			t.Fatal(err)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestBareMode$")
	cmd.Env = append(os.Environ(), "CHALLENGELOAD_TEST_BARE=1")
	c, err := startChildCmd(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	resp, err := http.Get(c.base + "/api/businesses/" + business + "/challenges")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("bare catalog: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestSweepHeldReportsEachCount runs the -held sweep briefly: a row per
// count, the first one the reference.
func TestSweepHeldReportsEachCount(t *testing.T) {
	binary, remove, err := buildServer(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	sc, _ := scenarioNamed("psd2")
	var out bytes.Buffer
	err = sweepHeld(context.Background(), []scenario{sc}, []int{0, 20}, 1, serverOptions{binary: binary, logLevel: "warn"},
		loadOptions{conns: 2, duration: 200 * time.Millisecond}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"| held challenges |", "CPU vs 0 held", "\n| 0 | ", "\n| 20 | ", "| psd2 | "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the sweep's table lacks %q:\n%s", want, out.String())
		}
	}
}
