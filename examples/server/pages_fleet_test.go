package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// TestAFleetAcceptsEachRecoveryCodeOnce is the attack on recovery codes
// across a fleet: alice's codes, made on one server's settings page, are
// all sent at once, the same code in every one of n transactions split
// over two servers on one store. Exactly one transaction may pass; every
// other code of the set still works, on either server.
func TestAFleetAcceptsEachRecoveryCodeOnce(t *testing.T) {
	for _, tc := range privateStores {
		t.Run(tc.store, func(t *testing.T) {
			// One key for the fleet: it keys the codes' hashes.
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			args := append(tc.args(t), "-demo-pages", "-otp-key", hex.EncodeToString(key))
			servers := []*process{startProcess(t, args...), startProcess(t, args...)}
			codes := makeRecoveryCodes(t, servers[0])

			const n = 16
			txs, nonces := make([]string, n), make([]string, n)
			for i := range n {
				txs[i], nonces[i] = beginRecovery(t, servers[i%2])
			}
			outcomes := make([]string, n)
			challengetest.Race(n, func(i int) {
				outcomes[i] = useRecoveryCode(servers[(i+1)%2], txs[i], nonces[i], codes[0])
			})
			count := map[string]int{}
			for i, o := range outcomes {
				switch o {
				case "authenticated", "refused", "held":
					count[o]++
				default:
					t.Errorf("transaction %d: %s", i, o)
				}
			}
			t.Logf("one code in %d transactions at once over two servers: %v", n, count)
			if accepted := count["authenticated"]; accepted != 1 {
				t.Fatalf("one recovery code authenticated %d of %d transactions; want exactly 1: %v", accepted, n, outcomes)
			}
			// The rest of the set works, on either server; the used code
			// nowhere.
			for i, want := range map[int]string{0: "refused", 1: "authenticated", 2: "authenticated"} {
				server := servers[i%2]
				tx, nonce := beginRecovery(t, server)
				if got := useRecoveryCode(servers[(i+1)%2], tx, nonce, codes[i]); got != want {
					t.Errorf("code %d afterwards: %s; want %s", i, got, want)
				}
			}
		})
	}
}

// beginRecovery begins a transaction for alice, from an address of its
// own, and starts her recovery codes in it; it returns the transaction
// and its nonce.
func beginRecovery(t *testing.T, p *process) (tx, nonce string) {
	t.Helper()
	status, r, err := authnDo("POST", p.base+"/authn/v1", fmt.Sprintf(`{"userInfo":{"userId":"alice"},"context":{"ipAddress":%q}}`, freshIPv6()))
	if err != nil || status != 200 {
		t.Fatalf("begin: %d %v %v", status, r, err)
	}
	tx, _ = r["correlationId"].(string)
	status, r, err = authnDo("PUT", p.base+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Init","challengedata":{"factorKey":%q}}`, tx, r["nonce"], recovery.Key))
	if err != nil || status != 200 {
		t.Fatalf("init: %d %v %v", status, r, err)
	}
	nonce, _ = r["nonce"].(string)
	return tx, nonce
}

// useRecoveryCode answers the transaction with code and, if that is
// accepted, finalizes it: "authenticated", "refused" (a wrong answer),
// "held" (429), or what went wrong.
func useRecoveryCode(p *process, tx, nonce, code string) string {
	status, r, err := authnDo("PUT", p.base+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`, tx, nonce, code))
	switch {
	case err != nil:
		return err.Error()
	case status == 429:
		return "held"
	case status != 200:
		return fmt.Sprintf("validate: %d %v", status, r)
	}
	if msg, _ := r["statusInfo"].(map[string]any)["message"].(string); strings.Contains(msg, "not correct") {
		return "refused"
	}
	status, r, err = authnDo("PUT", p.base+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Finalize","challengeResult":"Success"}`, tx, r["nonce"]))
	if err != nil || status != 200 {
		return fmt.Sprintf("finalize: %d %v %v", status, r, err)
	}
	s, _ := r["statusInfo"].(map[string]any)["status"].(string)
	return s
}

// privateStores are stores of the test's own, for a fleet of demo
// servers: their demo users (alice) are not another test run's, nor
// their records left behind. Redis is a private redis-server; PostgreSQL
// a schema of the test's own on the test instance.
var privateStores = []struct {
	store string
	args  func(t *testing.T) []string
}{
	{"redis", func(t *testing.T) []string {
		port := servicetest.FreePort(t)
		servicetest.StartRedis(t, port, t.TempDir())
		return []string{"-store", "redis", "-redis-url", fmt.Sprintf("redis://127.0.0.1:%d", port)}
	}},
	{"postgres", func(t *testing.T) []string {
		pool := servicetest.Postgres(t)
		schema := "challengekit_test_" + strings.ToLower(rand.Text())
		if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
		u, err := url.Parse(servicetest.PostgresURL())
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return []string{"-store", "postgres", "-postgres-url", u.String()}
	}},
}

// makeRecoveryCodes signs alice in to a server's settings with her
// security questions and makes her a set of recovery codes.
func makeRecoveryCodes(t *testing.T, p *process) []string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	e := &pageEnv{t: t, base: originOf(strings.TrimPrefix(p.base, "http://"))}
	e.client = &http.Client{Jar: jar, Transport: checkedTransport{e}}
	login := e.get("/demo/bank/settings")
	page := e.choose(e.post("/demo/bank/settings/login", "csrf", field(t, csrfField, login), "person", "p-alice"), kba.Key)
	for i := 0; page.path == confirmPath && i < 5; i++ {
		page = e.answer(page, demoAnswers[html.UnescapeString(field(t, questionLabel, page))])
	}
	page.want(t, 200, "/demo/bank/settings", `id="user">alice<`)
	shown := e.post("/demo/bank/settings/recovery", "csrf", field(t, csrfField, page))
	var codes []string
	for _, m := range recoveryCodes.FindAllStringSubmatch(shown.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != recovery.SetSize {
		t.Fatalf("the settings made %d codes:\n%s", len(codes), shown.body)
	}
	return codes
}
