package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// getJSON GETs url and decodes its JSON answer.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("GET %s: %d, body not JSON: %q", url, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// waitReady polls /readyz until it answers 200, failing after a deadline.
func waitReady(t *testing.T, p *process, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, body := getJSON(t, p.base+"/readyz")
		if status == 200 {
			if body["status"] != "ready" {
				t.Fatalf("readyz: 200 %v", body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d %v after %v\n%s", status, body, within, p.logs)
		}
		time.Sleep(20 * time.Millisecond) // polling, bounded by the deadline
	}
}

// assertJSONLogs fails unless every line the server wrote to stderr is a
// JSON object: its store clients' own messages included.
func assertJSONLogs(t *testing.T, p *process) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(p.logs.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("a line of stderr is not JSON: %q", line)
		}
	}
}

// TestStartsWithTheStoreDown starts the server on a Redis that is not
// there yet: it serves, says it is alive but not ready (naming the cause,
// never the URL's password), answers the APIs with their 503 envelope;
// once Redis is started it loads its demo data and serves every flow,
// without a restart.
// With -redis-autopipeline, the same.
func TestStartsWithTheStoreDown(t *testing.T) {
	servicetest.Programs(t, "redis-server")
	forRedisCommandPaths(t, startsWithTheStoreDown)
}

func startsWithTheStoreDown(t *testing.T, extra ...string) {
	port := servicetest.FreePort(t)
	const password = "s3cret-pass"
	p := startProcess(t, append([]string{"-store", "redis", "-redis-url", fmt.Sprintf("redis://:%s@127.0.0.1:%d/0", password, port), "-store-retry-max", "100ms"}, extra...)...)

	if status, body := getJSON(t, p.base+"/livez"); status != 200 || body["status"] != "ok" {
		t.Fatalf("livez with the store down: %d %v", status, body)
	}
	if status, body := getJSON(t, p.base+"/healthz"); status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz with the store down: %d %v", status, body)
	}
	status, body := getJSON(t, p.base+"/readyz")
	reason, _ := body["reason"].(string)
	if status != 503 || body["status"] != "unavailable" || reason != "store: unavailable" {
		t.Fatalf("readyz with the store down: %d %v; want 503 naming the store", status, body)
	}
	// The detail (an internal address) is logged, not answered.
	waitCtx, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelWait()
	if logs, ok := p.logs.WaitFor(waitCtx, `"message":"not ready"`, "connection refused"); !ok {
		t.Fatalf("no log line with the cause:\n%s", logs)
	} else if strings.Contains(logs, password) {
		t.Fatalf("the log names the URL's password")
	}
	if strings.Contains(reason, password) {
		t.Fatalf("readyz names the URL's password: %q", reason)
	}
	status, body = psd2Call(t, "POST", p.base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02120300000000202051","tpp_name":"Ops"}`)
	if status != 503 || body["code"] != "service_unavailable" {
		t.Fatalf("PSD2 with the store down: %d %v; want its 503 envelope", status, body)
	}
	status, body, err := authnDo("POST", p.base+"/authn/v1", `{"userInfo":{"userId":"alice"}}`)
	if err != nil || status != 503 {
		t.Fatalf("authn with the store down: %d %v %v; want its 503 envelope", status, body, err)
	}

	if status, body := getJSON(t, p.base+"/api/businesses/"+demoBusiness+"/challenges"); status != 503 {
		t.Fatalf("security questions with the store down: %d %v; want their 503 envelope", status, body)
	}

	servicetest.StartRedis(t, port, t.TempDir(), "--requirepass", password)
	waitReady(t, p, 10*time.Second)
	create(t, p)
	// The demo data is there: the catalog the server stores at start.
	status, body = getJSON(t, p.base+"/api/businesses/"+demoBusiness+"/challenges")
	if cat, _ := body["Challenge"].([]any); status != 200 || len(cat) != 5 {
		t.Fatalf("the demo catalog after the store came back: %d %v", status, body)
	}
	if err := totpLogin(p.base, "alice"); err != nil {
		t.Fatal(err)
	}
	if logs := p.logs.String(); strings.Contains(logs, password) {
		t.Fatalf("the URL's password reached the logs:\n%s", logs)
	}
	assertJSONLogs(t, p)
}

// totpLogin runs a whole TOTP login for user (alice's secret) against a
// server process.
func totpLogin(base, user string) error {
	status, r, err := authnDo("POST", base+"/authn/v1", fmt.Sprintf(`{"userInfo":{"userId":%q},"context":{"ipAddress":%q}}`, user, freshIPv6()))
	if err != nil || status != 200 {
		return fmt.Errorf("begin: %d %v %v", status, r, err)
	}
	tx := str(r, "correlationId")
	step := func(nonce, fields string) (int, map[string]any, error) {
		return authnDo("PUT", base+"/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields))
	}
	status, r, err = step(str(r, "nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	if err != nil || status != 200 {
		return fmt.Errorf("init: %d %v %v", status, r, err)
	}
	code, _ := totp.GenerateCode(demoTOTPSecret, time.Now())
	status, r, err = step(str(r, "nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	if err != nil || status != 200 || strings.Contains(str(r, "statusInfo", "message"), "not correct") {
		return fmt.Errorf("validate: %d %v %v", status, r, err)
	}
	status, r, err = step(str(r, "nonce"), `"challengeop":"Finalize","challengeResult":"Success"`)
	if err != nil || status != 200 || str(r, "statusInfo", "status") != "authenticated" {
		return fmt.Errorf("finalize: %d %v %v", status, r, err)
	}
	return nil
}

// TestServesOverARedisCluster runs the server on a private Redis Cluster
// of three masters, named by a redis+cluster:// URL: the PSD2 and
// factor-transaction flows, and the demo data, work across its slots.
func TestServesOverARedisCluster(t *testing.T) {
	addrs := servicetest.RedisCluster(t)
	url := "redis+cluster://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
	forRedisCommandPaths(t, func(t *testing.T, extra ...string) {
		p := startProcess(t, append([]string{"-store", "redis", "-redis-url", url, "-demo-load-users", "1"}, extra...)...)
		servesOverARedisCluster(t, p, totpUser(extra))
	})
}

// totpUser is a user with alice's TOTP secret for each run of
// forRedisCommandPaths over one Redis (on a server with
// -demo-load-users 1): a code is accepted once per user.
func totpUser(extra []string) string {
	if len(extra) == 0 {
		return "alice"
	}
	return "load-0"
}

func servesOverARedisCluster(t *testing.T, p *process, user string) {
	waitReady(t, p, 10*time.Second)

	for range 3 { // challenges land in different slots, so on different masters
		id := create(t, p)
		if status, c := psd2Call(t, "PATCH", p.base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-alice"}`); status != 200 || c["redirect_url"] == nil {
			t.Fatalf("PATCH: %d %v", status, c)
		}
		if status, c := psd2Call(t, "POST", p.base+"/v1/psd2/challenges/"+id+"/second_factor", demoBankToken, `{"result":"success"}`); status != 200 || c["status"] != "authorized" {
			t.Fatalf("second factor: %d %v", status, c)
		}
	}
	status, body := getJSON(t, p.base+"/api/businesses/"+demoBusiness+"/challenges")
	if cat, _ := body["Challenge"].([]any); status != 200 || len(cat) != 5 {
		t.Fatalf("the demo catalog: %d %v", status, body)
	}
	if err := totpLogin(p.base, user); err != nil {
		t.Fatal(err)
	}
	assertJSONLogs(t, p)
}

func TestRedisURLForms(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // the client's type, or the error's start
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client"},
		{"rediss://user:pw@127.0.0.1:6380/1", "*redis.Client"},
		{"unix:///run/redis.sock", "*redis.Client"},
		{"redis+cluster://h1:7000?addr=h2:7001&addr=h3:7002", "*redis.ClusterClient"},
		{"rediss+cluster://h1:7000", "*redis.ClusterClient"},
		{"redis+sentinel://s1:26379/0?master_name=mymaster&addr=s2:26379", "*redis.Client"},
		{"redis+sentinel://s1:26379", "a Sentinel URL names its master"},
		{"http://h1:6379", `unknown scheme "http"`},
		{"redis+ring://h1:6379", `unknown scheme "redis+ring"`},
		{"h1:6379", "want a URL"},
		{"redis://h1:6379/0?no_such_option=1", "redis: unexpected option"},
		{"redis://:topsecret@127.0.0.1:63x79/0", "invalid port"},
		{"redis://user:top%zzsecret@127.0.0.1:6379/0", "invalid URL escape"},
		{"redis+cluster://:topsecret@h1:70x0", "invalid port"},
	} {
		client, _, err := newRedisClient(tc.url)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprintf("%T", client)
			_ = client.Close()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %s; want %s", tc.url, got, tc.want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("%s: the error shows the password: %s", tc.url, got)
		}
	}
	_, secrets, err := newRedisClient("redis://:pa%3Ass@127.0.0.1:6379/0")
	if err != nil || len(secrets) != 1 || secrets[0] != "pa:ss" {
		t.Errorf("the URL's password, decoded, is a secret to redact: %q %v", secrets, err)
	}
}

// TestRedisAutoPipelineOnEveryTopology: -redis-autopipeline puts
// go-redis's AutoPipeliner in front of every client a URL can name, and
// closing the store closes both.
func TestRedisAutoPipelineOnEveryTopology(t *testing.T) {
	for _, url := range []string{
		"redis://127.0.0.1:6379/0",
		"redis+cluster://h1:7000?addr=h2:7001",
		"redis+sentinel://s1:26379/0?master_name=mymaster",
	} {
		client, _, err := newRedisClient(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		cmds, closeRedis, err := redisCommands(client, true)
		if err != nil {
			t.Fatalf("%s: -redis-autopipeline: %v", url, err)
		}
		if _, ok := cmds.(*redis.AutoPipeliner); !ok {
			t.Errorf("%s: -redis-autopipeline sends through a %T", url, cmds)
		}
		closeRedis()
		ctx := context.Background()
		if err := cmds.Get(ctx, "k").Err(); !errors.Is(err, redis.ErrClosed) {
			t.Errorf("%s: the pipeliner after close: %v; want ErrClosed", url, err)
		}
		if err := client.Get(ctx, "k").Err(); !errors.Is(err, redis.ErrClosed) {
			t.Errorf("%s: the client after close: %v; want ErrClosed", url, err)
		}
	}
}

// TestAPostgresTableThatDisappears drops the server's tables under it, as
// restoring an old backup does: the next request recreates them and
// succeeds, and /readyz stays ready.
func TestAPostgresTableThatDisappears(t *testing.T) {
	admin := servicetest.Postgres(t)
	schema := "challengekit_test_" + strings.ToLower(strings.ReplaceAll(challenge.NewID(), "-", "_"))
	ctx := context.Background()
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`) })
	url := servicetest.PostgresURL()
	if strings.Contains(url, "?") {
		url += "&search_path=" + schema
	} else {
		url += "?search_path=" + schema
	}
	p := startProcess(t, "-store", "postgres", "-postgres-url", url)
	waitReady(t, p, 10*time.Second)
	create(t, p)

	if _, err := admin.Exec(ctx, `DROP TABLE "`+schema+`".challengekit_records, "`+schema+`".challengekit_limit_buckets CASCADE`); err != nil {
		t.Fatal(err)
	}
	id := create(t, p)
	if status, c := psd2Call(t, "GET", p.base+"/v1/psd2/challenges/"+id, demoPartnerToken, ""); status != 200 || c["status"] != "pending" {
		t.Fatalf("GET after the tables were recreated: %d %v", status, c)
	}
	waitReady(t, p, 10*time.Second)
	assertJSONLogs(t, p)
}

// TestStartsWithPostgresDown starts the server on a PostgreSQL that is not
// there: it serves, not ready, the APIs answering 503, and logs only JSON
// (pgx's messages included), never the URL's password.
func TestStartsWithPostgresDown(t *testing.T) {
	const password = "pg-s3cret"
	url := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, servicetest.FreePort(t))
	p := startProcess(t, "-store", "postgres", "-postgres-url", url, "-store-retry-max", "100ms")
	if status, _ := getJSON(t, p.base+"/livez"); status != 200 {
		t.Fatalf("livez with PostgreSQL down: %d", status)
	}
	status, body := getJSON(t, p.base+"/readyz")
	if reason, _ := body["reason"].(string); status != 503 || reason != "store: unavailable" {
		t.Fatalf("readyz with PostgreSQL down: %d %v; want 503 naming the cause, not the password", status, body)
	}
	status, body = psd2Call(t, "POST", p.base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02120300000000202051","tpp_name":"Ops"}`)
	if status != 503 || body["code"] != "service_unavailable" {
		t.Fatalf("PSD2 with PostgreSQL down: %d %v; want its 503 envelope", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if logs, ok := p.logs.WaitFor(ctx, `"component":"pgx"`); !ok {
		t.Fatalf("no pgx line in the logs:\n%s", logs)
	}
	if logs := p.logs.String(); strings.Contains(logs, password) {
		t.Fatalf("the URL's password reached the logs:\n%s", logs)
	}
	assertJSONLogs(t, p)
}

// TestServesThroughSentinel runs the server on a master found through a
// private Sentinel, named by a redis+sentinel:// URL.
func TestServesThroughSentinel(t *testing.T) {
	sentinel := servicetest.RedisSentinel(t, "ckmaster")
	forRedisCommandPaths(t, func(t *testing.T, extra ...string) {
		p := startProcess(t, append([]string{"-store", "redis", "-redis-url", "redis+sentinel://" + sentinel + "/0?master_name=ckmaster", "-demo-load-users", "1"}, extra...)...)
		waitReady(t, p, 10*time.Second)
		id := create(t, p)
		if status, c := psd2Call(t, "GET", p.base+"/v1/psd2/challenges/"+id, demoPartnerToken, ""); status != 200 || c["status"] != "pending" {
			t.Fatalf("GET: %d %v", status, c)
		}
		if err := totpLogin(p.base, totpUser(extra)); err != nil {
			t.Fatal(err)
		}
		assertJSONLogs(t, p)
	})
}
