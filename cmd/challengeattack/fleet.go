package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/challengekit/challengekit/internal/netfault"
)

// fleet is a private Redis and the example servers on it, which reach it
// through a proxy that can hold the answers to the store's writes.
type fleet struct {
	redis    *exec.Cmd
	redisURL string
	proxy    *netfault.Proxy
	holdMu   sync.Mutex
	holdTill time.Time // until when answers to record writes are held
	servers  []*exec.Cmd
	bases    []string
	client   *http.Client
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startFleet(ctx context.Context, binary string, stderr io.Writer) (*fleet, error) {
	f := &fleet{client: &http.Client{Timeout: 15 * time.Second}}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	f.redis = exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	out, err := f.redis.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := f.redis.Start(); err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	if !waitFor(out, "Ready to accept connections") {
		f.stop()
		return nil, fmt.Errorf("redis-server on port %d did not start", port)
	}
	f.redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	if f.proxy, err = netfault.Listen(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		f.stop()
		return nil, err
	}
	// The answer to a write of a record (an EVALSHA on a store key, not a
	// limiter's) is held while holdAnswers says so.
	f.proxy.Inspect(func(req []byte) netfault.Fault {
		d := f.holding()
		if d > 0 && bytes.Contains(bytes.ToLower(req), []byte("evalsha")) && bytes.Contains(req, []byte("challengekit:{")) {
			return netfault.Fault{Hold: d}
		}
		return netfault.Fault{}
	})
	if binary == "" {
		dir, err := os.MkdirTemp("", "challengeattack")
		if err != nil {
			f.stop()
			return nil, err
		}
		defer os.RemoveAll(dir) // the running processes keep their binary
		binary = filepath.Join(dir, "server")
		fmt.Fprintln(stderr, "building examples/server …")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/challengekit/challengekit/examples/server").CombinedOutput(); err != nil {
			f.stop()
			return nil, fmt.Errorf("go build examples/server: %v\n%s", err, out)
		}
	}
	for range 2 {
		cmd := exec.Command(binary, "-addr", "127.0.0.1:0", "-store", "redis", "-redis-url", "redis://"+f.proxy.Addr()+"/0",
			"-log-level", "warn", "-demo-load-users", "1000")
		out, err := cmd.StdoutPipe()
		if err != nil {
			f.stop()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			f.stop()
			return nil, err
		}
		f.servers = append(f.servers, cmd)
		line, err := bufio.NewReader(out).ReadString('\n')
		_, addr, ok := strings.Cut(line, "http://")
		if err != nil || !ok {
			f.stop()
			return nil, fmt.Errorf("examples/server did not start: %q", line)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		f.bases = append(f.bases, "http://"+strings.Fields(addr)[0])
	}
	return f, nil
}

func waitFor(r io.Reader, line string) bool {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if strings.Contains(s.Text(), line) {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return true
		}
	}
	return false
}

func (f *fleet) stop() {
	for _, s := range f.servers {
		_ = s.Process.Signal(syscall.SIGTERM)
		_ = s.Wait()
	}
	if f.proxy != nil {
		_ = f.proxy.Close()
	}
	if f.redis != nil && f.redis.Process != nil {
		_ = f.redis.Process.Signal(syscall.SIGCONT)
		_ = f.redis.Process.Kill()
		_ = f.redis.Wait()
	}
}

// server returns the base URL of server i, round robin.
func (f *fleet) server(i int) string { return f.bases[i%len(f.bases)] }

// answer is what a server answered.
type answer struct {
	status int
	body   map[string]any
	retry  string
	err    error
}

// code is the answer's error or status code, in any of the three
// envelopes.
func (a answer) code() string {
	if a.err != nil {
		return "no answer"
	}
	if c, ok := a.body["code"].(string); ok {
		return c
	}
	if si, ok := a.body["statusInfo"].(map[string]any); ok {
		if a.status == 200 {
			return fmt.Sprint(si["status"])
		}
		return fmt.Sprint(si["code"])
	}
	if m, ok := a.body["Message"].(string); ok {
		return m
	}
	if s, ok := a.body["status"].(string); ok {
		return s
	}
	if _, ok := a.body["redirect_url"].(string); ok {
		return "redirect_url"
	}
	if _, ok := a.body["UserIdentificationChallenge"]; ok {
		return "stored"
	}
	return ""
}

func (a answer) str(path ...string) string {
	var v any = a.body
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// do sends a JSON request; headers are name/value pairs.
func (f *fleet) do(ctx context.Context, method, url, body string, headers ...string) answer {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, retry: resp.Header.Get("Retry-After"), err: err}
	if err == nil {
		a.err = json.NewDecoder(bytes.NewReader(raw)).Decode(&a.body)
	}
	return a
}

var (
	agent   = []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="} // demo-agent:demo-agent-secret
	bank    = []string{"Authorization", "Bearer demo-bank-token"}
	partner = []string{"Authorization", "Bearer demo-partner-token"}
	bob     = []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=bob-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-bob-demo"}
)

// begin starts a login for user reported from ip.
func (f *fleet) begin(ctx context.Context, server int, user, ip string) answer {
	return f.do(ctx, "POST", f.server(server)+"/authn/v1",
		fmt.Sprintf(`{"userInfo":{"userId":%q},"context":{"ipAddress":%q}}`, user, ip), agent...)
}

// step sends one PUT /authn/v1.
func (f *fleet) step(ctx context.Context, server int, tx, nonce, fields string) answer {
	return f.do(ctx, "PUT", f.server(server)+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields), agent...)
}

// pause stops Redis for d, then lets it run again.
func (f *fleet) pause(d time.Duration) {
	_ = f.redis.Process.Signal(syscall.SIGSTOP)
	time.Sleep(d)
	_ = f.redis.Process.Signal(syscall.SIGCONT)
}

// holdAnswers holds, for d, the answers to the record writes sent in it:
// each write is applied, and its answer comes after d.
func (f *fleet) holdAnswers(d time.Duration) {
	f.holdMu.Lock()
	f.holdTill = time.Now().Add(d)
	f.holdMu.Unlock()
}

func (f *fleet) holding() time.Duration {
	f.holdMu.Lock()
	defer f.holdMu.Unlock()
	return time.Until(f.holdTill)
}
