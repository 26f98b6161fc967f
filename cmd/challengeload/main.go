// Command challengeload measures the example server's endpoints against
// their ceiling: for each scenario (a realistic flow of requests) it drives
// examples/server and a bare net/http server that decodes and encodes the
// same JSON, in alternating rounds on the same machine, over many
// keep-alive connections, and prints requests per second, p50/p99 latency
// and the ratio of the medians as a Markdown table.
//
//	go run ./cmd/challengeload                    # every scenario, memory store
//	go run ./cmd/challengeload -scenarios psd2 -rounds 5 -duration 10s
//	go run ./cmd/challengeload -server-args '-store redis'
//	go run ./cmd/challengeload -held 0,100000,1000000 -scenarios psd2,authn
//
// Both servers run as child processes, started the same way, so neither
// shares the load generator's process; -target drives a server started by
// hand instead (to profile it, or on another store). The example server is built from
// this module with `go build` unless -server names a binary. Only
// loopback is used; no external service is needed for the memory store.
//
// The email scenario reads the codes the servers send from a named pipe
// they append to (examples/server's -demo-outbox). On Redis the bare
// server makes the round trips examples/server makes for each step,
// counted with MONITOR before measuring (-bare-redis), reading and
// writing records as a store does (-bare-trips), and sends them as
// examples/server does: one by one, or auto-pipelined when -server-args
// has -redis-autopipeline (-bare-autopipeline); the report adds each
// server's Redis CPU per request. -held measures
// examples/server alone, restarted holding each count of PSD2 challenges
// (-demo-held), and reports its CPU per request against the first count.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/internal/bareserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mainErr(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "challengeload:", err)
		os.Exit(1)
	}
}

func mainErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("challengeload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := fs.String("scenarios", strings.ReplaceAll(scenarioList(), ", ", ","), "comma-separated scenarios, all by default: "+scenarioList())
	conns := fs.Int("conns", 32, "concurrent clients, each on its own keep-alive connection")
	duration := fs.Duration("duration", 5*time.Second, "measured time per scenario, server and round")
	warmup := fs.Duration("warmup", time.Second, "warm-up before each measurement")
	rounds := fs.Int("rounds", 3, "rounds per scenario; each measures both servers, in alternating order")
	server := fs.String("server", "", "examples/server binary; empty builds it with go build")
	target := fs.String("target", "", "base URL of an examples/server already running (with -demo-load-users, and -demo-load-kba for kba), instead of starting one; for profiling it")
	serverArgs := fs.String("server-args", "", "more flags for examples/server, e.g. '-store redis'")
	logLevel := fs.String("log-level", "warn", "examples/server's -log-level (info logs every transition)")
	users := fs.Int("users", 200000, "authn load users the server registers (-demo-load-users: load-N with TOTP, mail-N with e-mail); a TOTP code passes once per user and 30 s, a destination gets 5 codes an hour")
	kbaUsers := fs.Int("kba-users", 64, "ChallengeKBA load users kba-N the server enrolls at start (-demo-load-kba) when the kba scenario runs; about 75 ms of server CPU each")
	outboxPath := fs.String("outbox", "", "named pipe the servers write e-mail codes to (-demo-outbox), made if missing; a temporary one if empty. With -target, start the server with -demo-outbox naming it, and stop it before challengeload ends: a code written to a pipe nobody reads waits")
	heldList := fs.String("held", "", "comma-separated counts of PSD2 challenges examples/server holds (-demo-held), e.g. 0,100000,1000000: measure it alone, restarted with each, and report its CPU per request against the first")
	bareRedis := fs.String("bare-redis", "", "Redis URL on which the bare server makes, per request, the Redis round trips examples/server makes for the step (counted before measuring, with MONITOR on this Redis); by default examples/server's own when -server-args selects -store redis")
	bareAutoPipeline := fs.Bool("bare-autopipeline", false, "the bare server sends its Redis round trips through go-redis's AutoPipeliner, batching concurrent requests' commands; by default as examples/server does (-redis-autopipeline in -server-args)")
	bare := fs.Bool("bare", false, "serve the bare baseline (used by challengeload itself)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address, with -bare")
	redisTrips := fs.String("redis-trips", "", "with -bare and -bare-redis: each step's round trips, as JSON (used by challengeload itself)")
	bareTrips := fs.String("bare-trips", string(bareserver.RecordTrips), "what the bare server's Redis round trips ask of Redis: record (a read is an HMGET of a record's three fields, a write one script reading a version and writing a record's four fields and TTL, as a store's versioned update does) or plain (GET and SET: cheaper than any store that compares versions can write)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if k := bareserver.TripKind(*bareTrips); k != bareserver.RecordTrips && k != bareserver.PlainTrips {
		return fmt.Errorf("-bare-trips: %q is neither %s nor %s", *bareTrips, bareserver.RecordTrips, bareserver.PlainTrips)
	}
	if *bare {
		opts := bareserver.Options{Outbox: *outboxPath}
		if *bareRedis != "" {
			ropts, err := redis.ParseURL(*bareRedis)
			if err != nil {
				return fmt.Errorf("-bare-redis: %w", err)
			}
			client := redis.NewClient(ropts)
			defer client.Close()
			opts.Redis = client
			if *bareAutoPipeline {
				ap, err := client.AutoPipeline()
				if err != nil {
					return fmt.Errorf("-bare-autopipeline: %w", err)
				}
				defer ap.Close()
				opts.Redis = ap
			}
			if err := json.Unmarshal([]byte(*redisTrips), &opts.Trips); err != nil {
				return fmt.Errorf("-redis-trips: %w", err)
			}
			opts.TripKind = bareserver.TripKind(*bareTrips)
		}
		return serveBare(ctx, *addr, opts, stdout)
	}
	var chosen []scenario
	for name := range strings.SplitSeq(*names, ",") {
		sc, ok := scenarioNamed(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown scenario %q (%s)", name, scenarioList())
		}
		chosen = append(chosen, sc)
	}
	if *conns < 1 || *rounds < 1 || *duration <= 0 || *warmup < 0 || *users < 0 || *kbaUsers < 0 {
		return errors.New("-conns and -rounds must be positive, -duration positive, -warmup, -users and -kba-users not negative")
	}
	held, err := parseCounts(*heldList)
	if err != nil {
		return fmt.Errorf("-held: %w", err)
	}
	if len(held) > 0 && *target != "" {
		return errors.New("-held restarts examples/server for each count: it cannot drive -target")
	}

	opts := loadOptions{conns: *conns, warmup: *warmup, duration: *duration, users: *users}
	srv := serverOptions{binary: *server, logLevel: *logLevel, users: *users, extra: *serverArgs}
	for _, sc := range chosen {
		switch sc.name {
		case "kba":
			opts.kbaUsers, srv.kbaUsers = *kbaUsers, *kbaUsers
		case "email":
			if *outboxPath == "" {
				dir, err := os.MkdirTemp("", "challengeload-outbox")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				*outboxPath = filepath.Join(dir, "outbox")
			}
			box, err := openOutbox(*outboxPath)
			if err != nil {
				return err
			}
			defer box.close() // after the servers, deferred below, have stopped
			opts.outbox, srv.outbox = box, *outboxPath
		}
	}
	about := "examples/server " + strings.TrimSpace("-log-level "+*logLevel+" "+*serverArgs)
	if *target != "" {
		about = "examples/server at " + strings.TrimSuffix(*target, "/")
	}
	header := func() {
		fmt.Fprintf(stdout, "challengeload: %d clients, %v warm-up + %v measured per run, %d rounds, GOMAXPROCS %d, %s/%s, %s; %s\n",
			*conns, *warmup, *duration, *rounds, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), about)
	}
	if len(held) > 0 {
		if srv.binary == "" {
			binary, remove, err := buildServer(ctx, stderr)
			if err != nil {
				return err
			}
			defer remove()
			srv.binary = binary
		}
		header()
		return sweepHeld(ctx, chosen, held, *rounds, srv, opts, stdout)
	}

	real := &child{base: strings.TrimSuffix(*target, "/")}
	if real.base == "" {
		if real, err = startServer(ctx, srv, stderr); err != nil {
			return err
		}
		defer real.stop()
	}
	if *bareRedis == "" && *target == "" {
		*bareRedis = redisOfServer(*serverArgs)
	}
	var bareGiven *bool
	if flagGiven(fs, "bare-autopipeline") {
		bareGiven = bareAutoPipeline
	}
	serverPipelines, barePipelines := pipelining(*serverArgs, os.Getenv, bareGiven)
	bareArgs := []string{"-bare", "-addr", "127.0.0.1:0"}
	if srv.outbox != "" {
		bareArgs = append(bareArgs, "-outbox", srv.outbox)
	}
	var trips map[string]bareserver.Trips
	if *bareRedis != "" {
		if read, closeRedis, err := redisCPU(*bareRedis); err != nil {
			fmt.Fprintf(stderr, "challengeload: no Redis CPU per request: %v\n", err)
		} else {
			defer closeRedis()
			opts.redisCPU = read
		}
		if trips, err = countTrips(ctx, *bareRedis, real.base, chosen, opts); err != nil {
			return err
		}
		b, err := json.Marshal(trips)
		if err != nil {
			return err
		}
		bareArgs = append(bareArgs, "-bare-redis", *bareRedis, "-redis-trips", string(b), "-bare-trips", *bareTrips,
			"-bare-autopipeline="+strconv.FormatBool(barePipelines))
		opts.stepHeader = true
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	baseline, err := startChild(ctx, self, bareArgs)
	if err != nil {
		return fmt.Errorf("bare server: %w", err)
	}
	defer baseline.stop()

	header()
	if trips != nil {
		printTrips(stdout, trips, bareserver.TripKind(*bareTrips))
		fmt.Fprintf(stdout, "Redis commands: examples/server %s; bare server %s\n",
			commandPath(serverPipelines, *target != "", "-redis-autopipeline"), commandPath(barePipelines, false, "-bare-autopipeline"))
	}
	failed := false
	for _, sc := range chosen {
		cmp := compare(ctx, sc, baseline, real, *rounds, opts)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		cmp.print(stdout)
		failed = failed || cmp.failed()
	}
	if failed {
		return errors.New("some requests failed (see above)")
	}
	return nil
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// commandPath says how a server sends its Redis commands.
func commandPath(autoPipelined, unknown bool, flagName string) string {
	switch {
	case unknown:
		return "as started (-target)"
	case autoPipelined:
		return "auto-pipelined (" + flagName + ")"
	default:
		return "one by one, each request's on a pooled connection"
	}
}

// parseCounts reads a comma-separated list of counts; none if s is empty.
func parseCounts(s string) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// serverOptions are how challengeload starts examples/server.
type serverOptions struct {
	binary   string // built by buildServer if empty
	logLevel string
	users    int    // -demo-load-users
	kbaUsers int    // -demo-load-kba
	held     int    // -demo-held
	outbox   string // -demo-outbox, if not empty
	extra    string // more flags, split at spaces
}

// buildServer builds examples/server into a new temporary directory and
// returns the binary's path and a function removing it.
func buildServer(ctx context.Context, stderr io.Writer) (string, func(), error) {
	dir, err := os.MkdirTemp("", "challengeload")
	if err != nil {
		return "", nil, err
	}
	binary := filepath.Join(dir, "server")
	fmt.Fprintln(stderr, "building examples/server …")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/challengekit/challengekit/examples/server")
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build examples/server: %v\n%s", err, out)
	}
	return binary, func() { _ = os.RemoveAll(dir) }, nil
}

// startServer starts examples/server, building it first if o names no
// binary.
func startServer(ctx context.Context, o serverOptions, stderr io.Writer) (*child, error) {
	if o.binary == "" {
		binary, remove, err := buildServer(ctx, stderr)
		if err != nil {
			return nil, err
		}
		defer remove() // the running process keeps its binary
		o.binary = binary
	}
	args := []string{"-addr", "127.0.0.1:0", "-log-level", o.logLevel, "-demo-load-users", fmt.Sprint(o.users)}
	if o.kbaUsers > 0 {
		args = append(args, "-demo-load-kba", fmt.Sprint(o.kbaUsers))
	}
	if o.held > 0 {
		args = append(args, "-demo-held", fmt.Sprint(o.held))
	}
	if o.outbox != "" {
		args = append(args, "-demo-outbox", o.outbox)
	}
	real, err := startChild(ctx, o.binary, append(args, strings.Fields(o.extra)...))
	if err != nil {
		return nil, fmt.Errorf("examples/server: %w", err)
	}
	return real, nil
}

func scenarioList() string {
	var s []string
	for _, sc := range scenarios {
		s = append(s, sc.name)
	}
	return strings.Join(s, ", ")
}

// comparison is one scenario's rounds against both servers.
type comparison struct {
	sc         scenario
	bare, real []result // round by round
}

// compare measures sc on both servers for rounds rounds, alternating which
// goes first so that drift on a shared machine falls on both alike.
func compare(ctx context.Context, sc scenario, bare, real *child, rounds int, opts loadOptions) comparison {
	c := comparison{sc: sc}
	seq := newSeq() // shared by both servers' runs: load users are taken in turn
	bareCPU, realCPU := bare.cpu(), real.cpu()
	for r := range rounds {
		var b, s result
		if r%2 == 0 {
			b = measure(ctx, sc, bare.base, bareCPU, seq, opts)
			s = measure(ctx, sc, real.base, realCPU, seq, opts)
		} else {
			s = measure(ctx, sc, real.base, realCPU, seq, opts)
			b = measure(ctx, sc, bare.base, bareCPU, seq, opts)
		}
		c.bare, c.real = append(c.bare, b), append(c.real, s)
	}
	return c
}

// ratios returns each round's throughput ratio, examples/server ÷ bare.
func (c comparison) ratios() []float64 {
	var out []float64
	for i, b := range c.bare {
		if b.rps() > 0 {
			out = append(out, c.real[i].rps()/b.rps())
		}
	}
	return out
}

// results returns every run, bare ones first.
func (c comparison) results() []result {
	return append(append([]result(nil), c.bare...), c.real...)
}

func (c comparison) failed() bool {
	for _, r := range c.results() {
		if r.errors > 0 || r.requests == 0 {
			return true
		}
	}
	return false
}

func (c comparison) print(w io.Writer) {
	fmt.Fprintf(w, "\n### %s: %s\n\n", c.sc.name, c.sc.about)
	withRedis := false
	for _, r := range c.results() {
		withRedis = withRedis || r.redisCPU > 0
	}
	if withRedis {
		fmt.Fprintf(w, "| server | req/s (median of %d) | p50 | p99 | server CPU per request | Redis CPU per request | failed flows |\n|---|--:|--:|--:|--:|--:|--:|\n", len(c.bare))
	} else {
		fmt.Fprintf(w, "| server | req/s (median of %d) | p50 | p99 | server CPU per request | failed flows |\n|---|--:|--:|--:|--:|--:|\n", len(c.bare))
	}
	// medianOf is the median of the known (positive) values, "–" if none.
	medianOf := func(rs []result, of func(result) time.Duration) (time.Duration, string) {
		var ds []time.Duration
		for _, r := range rs {
			if d := of(r); d > 0 {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			return 0, "–"
		}
		m := median(ds)
		return m, fmt.Sprintf("%.1f µs", float64(m)/float64(time.Microsecond))
	}
	row := func(name string, rs []result) (cpu, redisCPU time.Duration) {
		var rps []float64
		var p50, p99 []time.Duration
		errs := 0
		for _, r := range rs {
			rps, p50, p99 = append(rps, r.rps()), append(p50, r.p50), append(p99, r.p99)
			errs += r.errors
		}
		cpu, cpuText := medianOf(rs, result.cpuPerRequest)
		redisCPU, redisText := medianOf(rs, result.redisCPUPerRequest)
		if withRedis {
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %d |\n", name, median(rps), ms(median(p50)), ms(median(p99)), cpuText, redisText, errs)
		} else {
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %d |\n", name, median(rps), ms(median(p50)), ms(median(p99)), cpuText, errs)
		}
		return cpu, redisCPU
	}
	bareCPU, bareRedis := row("bare net/http", c.bare)
	realCPU, realRedis := row("examples/server", c.real)
	ratios := c.ratios()
	var each []string
	for _, r := range ratios {
		each = append(each, fmt.Sprintf("%.2f", r))
	}
	fmt.Fprintf(w, "\nthroughput ratio examples/server ÷ bare: **%.2f×** (median; rounds %s)\n", median(ratios), strings.Join(each, ", "))
	if bareCPU > 0 && realCPU > 0 {
		fmt.Fprintf(w, "server CPU per request, bare ÷ examples/server: %.2f× (the share of a CPU's throughput examples/server keeps)\n",
			float64(bareCPU)/float64(realCPU))
	}
	if bareRedis > 0 && realRedis > 0 {
		fmt.Fprintf(w, "Redis CPU per request, bare ÷ examples/server: %.2f× (at %.1f µs each, a second of Redis CPU serves about %.0f of examples/server's requests)\n",
			float64(bareRedis)/float64(realRedis), float64(realRedis)/float64(time.Microsecond), float64(time.Second)/float64(realRedis))
	}
	for _, r := range c.results() {
		if r.firstErr != nil {
			fmt.Fprintf(w, "first failure: %v\n", r.firstErr)
			break
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// child is a server process this command started.
type child struct {
	base string
	cmd  *exec.Cmd
	logs *tail
}

// startChild runs path with args and waits for the line on its stdout that
// names its address (http://host:port).
func startChild(ctx context.Context, path string, args []string) (*child, error) {
	return startChildCmd(exec.CommandContext(ctx, path, args...))
}

func startChildCmd(cmd *exec.Cmd) (*child, error) {
	logs := &tail{max: 16 << 10}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		_, rest, ok := strings.Cut(lines.Text(), "http://")
		if !ok {
			continue
		}
		addr := strings.Fields(rest)[0]
		if _, _, err := net.SplitHostPort(addr); err != nil {
			continue
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		return &child{base: "http://" + addr, cmd: cmd, logs: logs}, nil
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("%s did not say where it listens:\n%s", cmd.Path, logs)
}

// cpu returns a reader of the child's CPU time, or nil if it has no
// process of this command's (-target) or the system cannot tell.
func (c *child) cpu() func() time.Duration {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	return processCPU(c.cmd.Process.Pid)
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
}

// tail keeps the last max bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// serveBare serves the bare baseline until ctx is done.
func serveBare(ctx context.Context, addr string, opts bareserver.Options, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareserver.New(opts), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "bare server on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
