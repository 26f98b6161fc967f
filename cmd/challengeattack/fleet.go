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
)

// fleet is a private Redis and the example servers on it, which reach it
// through a proxy that can hold the answers to the store's writes.
type fleet struct {
	redis    *exec.Cmd
	redisURL string
	proxy    *holdProxy
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
	if f.proxy, err = newHoldProxy(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		f.stop()
		return nil, err
	}
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
		cmd := exec.Command(binary, "-addr", "127.0.0.1:0", "-store", "redis", "-redis-url", "redis://"+f.proxy.addr()+"/0",
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
		f.proxy.close()
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

// holdProxy relays the servers' connections to Redis. Armed, it holds for
// a while the answer to every write of a record (an EVALSHA on a store key,
// not a limiter's): Redis has applied the write, and its answer comes too
// late, as when the network stalls mid-write.
type holdProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	until  time.Time
}

func newHoldProxy(target string) (*holdProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &holdProxy{ln: ln, target: target}
	go p.serve()
	return p, nil
}

func (p *holdProxy) addr() string { return p.ln.Addr().String() }

func (p *holdProxy) close() { _ = p.ln.Close() }

// hold makes the answers to record writes sent in the next d wait until
// d has passed.
func (p *holdProxy) hold(d time.Duration) {
	p.mu.Lock()
	p.until = time.Now().Add(d)
	p.mu.Unlock()
}

func (p *holdProxy) holding() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Until(p.until)
}

func (p *holdProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		held := make(chan time.Duration, 16) // how long to hold the next answer
		go func() {
			defer server.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if err != nil {
					return
				}
				chunk := buf[:n]
				if d := p.holding(); d > 0 && bytes.Contains(bytes.ToLower(chunk), []byte("evalsha")) &&
					bytes.Contains(chunk, []byte("challengekit:{")) {
					select {
					case held <- d:
					default:
					}
				}
				if _, err := server.Write(chunk); err != nil {
					return
				}
			}
		}()
		go func() {
			defer client.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if err != nil {
					return
				}
				select {
				case d := <-held:
					time.Sleep(d)
				default:
				}
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}
