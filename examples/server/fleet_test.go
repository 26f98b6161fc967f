package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/internal/servicetest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// serverBinary builds this command once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "challengekit-server")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "server")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// process is one server process on a port of its own.
type process struct {
	base string
	logs *challengetest.LogBuffer
}

// startProcess runs the server binary with args and stops it (SIGTERM,
// then a clean exit is required) when the test ends.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(serverBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	p := &process{logs: &challengetest.LogBuffer{}}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("server %v exited with %v\n%s", args, err, p.logs)
		}
	})
	out := bufio.NewReader(stdout)
	first, err := out.ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, out) }() // keep the pipe drained
	_, addr, ok := strings.Cut(strings.TrimSpace(first), "http://")
	if err != nil || !ok {
		t.Fatalf("server did not start (%v): %q\n%s", err, first, p.logs)
	}
	p.base = "http://" + strings.Fields(addr)[0]
	return p
}

// httpDo sends a JSON request with the Authorization header auth and
// decodes the JSON answer; safe to call from any goroutine.
func httpDo(method, url, auth, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %d, body not JSON: %w", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out, nil
}

// psd2Do sends a PSD2 request with a bearer token.
func psd2Do(method, url, token, body string) (int, map[string]any, error) {
	return httpDo(method, url, "Bearer "+token, body)
}

func psd2Call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	status, out, err := psd2Do(method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

func create(t *testing.T, p *process) string {
	t.Helper()
	status, c := psd2Call(t, "POST", p.base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02120300000000202051","tpp_name":"Fleet"}`)
	if status != 201 {
		t.Fatalf("create on %s: %d %v", p.base, status, c)
	}
	return c["id"].(string)
}

// sharedStores are the stores a fleet can share, with the flags that make
// a server use the test's instance (skipping, or failing under
// CHALLENGEKIT_REQUIRE_SERVICES=1, when it is unreachable).
var sharedStores = []struct {
	store string
	args  func(t *testing.T) []string
}{
	{"redis", func(t *testing.T) []string {
		servicetest.Redis(t)
		return []string{"-store", "redis", "-redis-url", servicetest.RedisURL()}
	}},
	{"postgres", func(t *testing.T) []string {
		servicetest.Postgres(t)
		return []string{"-store", "postgres", "-postgres-url", servicetest.PostgresURL()}
	}},
}

// TestFleetSharesChallenges runs two server processes over one store: a
// challenge created on one is finished on the other, and 32 concurrent
// PATCHes split across both yield exactly one redirect.
func TestFleetSharesChallenges(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.store, func(t *testing.T) {
			args := tc.args(t)
			a, b := startProcess(t, args...), startProcess(t, args...)
			id := create(t, a)
			if status, c := psd2Call(t, "GET", b.base+"/v1/psd2/challenges/"+id, demoPartnerToken, ""); status != 200 || c["status"] != "pending" {
				t.Fatalf("GET on the other server: %d %v", status, c)
			}
			status, patched := psd2Call(t, "PATCH", b.base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-alice"}`)
			if status != 200 {
				t.Fatalf("PATCH on the other server: %d %v", status, patched)
			}
			if status, c := psd2Call(t, "GET", a.base+"/v1/psd2/challenges/"+id, demoPartnerToken, ""); status != 200 ||
				c["status"] != "redirected" || c["redirect_url"] != patched["redirect_url"] {
				t.Fatalf("GET back on the first server: %d %v", status, c)
			}

			id = create(t, a)
			const n = 32
			urls := make([]any, n)
			statuses := make([]int, n)
			challengetest.Race(n, func(i int) {
				server := []*process{a, b}[i%2]
				s, c, err := psd2Do("PATCH", server.base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-alice"}`)
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i], urls[i] = s, c["redirect_url"]
			})
			for i := range n {
				if statuses[i] != 200 || urls[i] == nil || urls[i] != urls[0] {
					t.Fatalf("PATCH %d: %d %v; PATCH 0 got %v", i, statuses[i], urls[i], urls[0])
				}
			}
		})
	}
}

// TestStoreOutageAndRecovery stops the Redis a server uses: requests get
// the 5xx envelope within the server's bounds, the cause is logged, and
// /readyz answers 503 naming it; once Redis is back, the same server
// process is ready and serves again. Every line it logs meanwhile is JSON,
// go-redis's own included.
// With -redis-autopipeline, the same.
func TestStoreOutageAndRecovery(t *testing.T) {
	forRedisCommandPaths(t, func(t *testing.T, extra ...string) {
		port := servicetest.FreePort(t)
		stopRedis := servicetest.StartRedis(t, port, t.TempDir())
		p := startProcess(t, append([]string{"-store", "redis", "-redis-url", fmt.Sprintf("redis://127.0.0.1:%d/0", port)}, extra...)...)
		storeOutageAndRecovery(t, p, port, stopRedis)
	})
}

// forRedisCommandPaths runs test once on a server sending its Redis
// commands one by one, once with -redis-autopipeline.
func forRedisCommandPaths(t *testing.T, test func(t *testing.T, extra ...string)) {
	t.Run("one by one", func(t *testing.T) { test(t) })
	t.Run("auto-pipelined", func(t *testing.T) { test(t, "-redis-autopipeline") })
}

func storeOutageAndRecovery(t *testing.T, p *process, port int, stopRedis func()) {
	create(t, p)
	waitReady(t, p, 10*time.Second)

	stopRedis()
	began := time.Now()
	status, body := psd2Call(t, "POST", p.base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02120300000000202051","tpp_name":"Fleet"}`)
	took := time.Since(began)
	if status != 503 || body["code"] != "service_unavailable" || len(body) != 5 {
		t.Fatalf("with Redis down: %d %v; want the 503 envelope", status, body)
	}
	if took > requestDeadline+time.Second {
		t.Fatalf("with Redis down the request took %v; the server's bound is %v", took, requestDeadline)
	}
	// The server's stderr reaches p.logs through a pipe, possibly after
	// the response; wait for the line rather than read once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if logs, ok := p.logs.WaitFor(ctx, "connection refused", body["id"].(string)); !ok {
		t.Fatalf("no log line with the cause and error id %v:\n%s", body["id"], logs)
	}
	began = time.Now()
	if status, body := getJSON(t, p.base+"/readyz"); status != 503 || body["status"] != "unavailable" ||
		body["reason"] != "store: unavailable" {
		t.Fatalf("readyz with Redis down: %d %v; want 503 naming the store", status, body)
	}
	if took := time.Since(began); took > readyTimeout+time.Second {
		t.Fatalf("readyz with Redis down took %v; its bound is %v", took, readyTimeout)
	}
	if status, _ := getJSON(t, p.base+"/livez"); status != 200 {
		t.Fatalf("livez with Redis down: %d", status)
	}

	servicetest.StartRedis(t, port, t.TempDir())
	waitReady(t, p, 10*time.Second)
	create(t, p) // the same process serves again
	assertJSONLogs(t, p)
}

// authnDo sends an authn request as the demo agent.
func authnDo(method, url, body string) (int, map[string]any, error) {
	return httpDo(method, url, agentAuth[1], body)
}

// TestAFleetSpendsOneBudget runs two server processes over one store,
// each with the store's shared limiter: starts from one address and wrong
// guesses from it, spread over both servers, spend one budget, not one per
// server.
func TestAFleetSpendsOneBudget(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.store, func(t *testing.T) {
			// A budget that cannot refill during the test: 10 starts an
			// hour. The store outlives test runs, and so do its budgets:
			// every run guesses at a user of its own, among a million.
			args := append(tc.args(t), "-source-starts", "10/1h", "-demo-load-users", "1000000")
			servers := []*process{startProcess(t, args...), startProcess(t, args...)}
			ip := freshIPv6()                   // a source no earlier run has charged
			user := "load-" + challenge.NewID() // unknown: pending identification, charged alike
			begin := fmt.Sprintf(`{"userInfo":{"userId":%q},"context":{"ipAddress":%q}}`, user, ip)
			allowed, refused := 0, 0
			for i := range 20 {
				status, body, err := authnDo("POST", servers[i%2].base+"/authn/v1", begin)
				switch {
				case err != nil:
					t.Fatal(err)
				case status == 200:
					allowed++
				case status == 429:
					refused++
				default:
					t.Fatalf("begin %d: %d %v", i, status, body)
				}
			}
			if allowed != 10 || refused != 10 {
				t.Fatalf("20 starts from one address over two servers: %d allowed, %d refused; want one budget of 10", allowed, refused)
			}

			// A user's wrong guesses from one address, alternating servers:
			// five are evaluated, then the address is held on both.
			guessIP := freshIPv6()
			victim := fmt.Sprintf("load-%d", mrand.IntN(1_000_000))
			evaluated, held := 0, 0
			for i := range 8 {
				base := servers[i%2].base
				_, r, err := authnDo("POST", base+"/authn/v1", fmt.Sprintf(`{"userInfo":{"userId":%q},"context":{"ipAddress":%q}}`, victim, guessIP))
				if err != nil {
					t.Fatal(err)
				}
				tx := r["correlationId"]
				_, r, _ = authnDo("PUT", base+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}}`, tx))
				status, r, _ := authnDo("PUT", servers[(i+1)%2].base+"/authn/v1",
					fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":"00000x"}`, tx, r["nonce"]))
				switch status {
				case 200:
					evaluated++
				case 429:
					held++
				default:
					t.Fatalf("guess %d: %d %v", i, status, r)
				}
			}
			if evaluated != 5 || held != 3 {
				t.Fatalf("8 wrong guesses from one address over two servers: %d evaluated, %d held; want 5, then held everywhere", evaluated, held)
			}
		})
	}
}

// freshIPv6 returns an address in a /64 of the documentation prefix that
// no other run uses: the store outlives test runs, and so do its budgets.
func freshIPv6() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("2001:db8:%x:%x::7", uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]))
}
