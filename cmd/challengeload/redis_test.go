package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/internal/bareserver"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// TestBareServerPaysTheServersRoundTrips counts examples/server's Redis
// round trips per step on a private Redis, then counts the bare server's
// given those: they must be the same, and every step of these flows must
// reach the store. Both auto-pipelined, the same.
func TestBareServerPaysTheServersRoundTrips(t *testing.T) {
	t.Run("one by one", func(t *testing.T) { bareServerPaysTheServersRoundTrips(t, false) })
	t.Run("auto-pipelined", func(t *testing.T) { bareServerPaysTheServersRoundTrips(t, true) })
}

// bareServerPaysTheServersRoundTrips runs on a Redis of its own: the load
// users' TOTP codes pass once per step, which another run's logins on a
// shared Redis would have spent.
func bareServerPaysTheServersRoundTrips(t *testing.T, autoPipeline bool) {
	port := servicetest.FreePort(t)
	servicetest.StartRedis(t, port, t.TempDir())
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	extra := "-store redis -redis-url " + url
	if autoPipeline {
		extra += " -redis-autopipeline"
	}
	c, err := startServer(context.Background(), serverOptions{logLevel: "warn", users: 100, extra: extra}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	var chosen []scenario
	for _, name := range []string{"psd2", "authn"} {
		sc, _ := scenarioNamed(name)
		chosen = append(chosen, sc)
	}
	opts := loadOptions{users: 100}
	real, err := countTrips(context.Background(), url, c.base, chosen, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"psd2 create", "psd2 get", "psd2 patch", "psd2 second_factor", "authn begin", "authn init", "authn validate", "authn finalize"} {
		if tr, ok := real[step]; !ok || tr.Reads+tr.Writes == 0 {
			t.Errorf("%s: %+v round trips", step, tr)
		}
	}
	ropts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(ropts)
	defer client.Close()
	var cmds redis.Cmdable = client
	if autoPipeline {
		ap, err := client.AutoPipeline()
		if err != nil {
			t.Fatal(err)
		}
		defer ap.Close()
		cmds = ap
	}
	ctx := context.Background()
	for _, kind := range []bareserver.TripKind{bareserver.RecordTrips, bareserver.PlainTrips} {
		bare := httptest.NewServer(bareserver.New(bareserver.Options{Redis: cmds, Trips: real, TripKind: kind}))
		got, err := countTrips(ctx, url, bare.URL, chosen, opts)
		bare.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, real) {
			t.Errorf("%s trips: the bare server makes %v round trips, examples/server %v", kind, got, real)
		}
	}
	// What each kind wrote: records as a store writes them (four fields,
	// a TTL), or one plain value.
	rec, err := client.HGetAll(ctx, "challengeload:bare:1").Result()
	if err != nil || len(rec) != 4 || len(rec["r"]) != 400 || rec["v"] == "" || client.PTTL(ctx, "challengeload:bare:1").Val() <= 0 {
		t.Errorf("a record the bare server writes: %d fields (v %q, r of %d bytes), %v; want v, p, r (400 bytes), t and a TTL", len(rec), rec["v"], len(rec["r"]), err)
	}
	if v, err := client.Get(ctx, "challengeload:bare").Result(); err != nil || len(v) != 400 {
		t.Errorf("the plain value: %d bytes, %v", len(v), err)
	}
}

func TestTripsOfCountsBetweenMarkersOnly(t *testing.T) {
	lines := []string{
		`1.0 [0 127.0.0.1:1] "get" "before"`,
		`1.1 [0 127.0.0.1:2] "echo" "challengeload begin psd2 get"`,
		`1.2 [0 127.0.0.1:3] "hmget" "challengekit:psd2:x" "v"`,
		`1.3 [0 127.0.0.1:3] "evalsha" "abc" "1" "k"`,
		`1.4 [0 lua] "hset" "k" "v" "1"`,
		`1.5 [0 127.0.0.1:2] "echo" "challengeload end psd2 get"`,
		`1.6 [0 127.0.0.1:2] "echo" "challengeload begin psd2 get"`, // a second sample, with a stranger's command
		`1.7 [0 127.0.0.1:3] "hmget" "challengekit:psd2:y" "v"`,
		`1.8 [0 127.0.0.1:9] "ping"`,
		`1.9 [0 127.0.0.1:3] "evalsha" "abc" "1" "k"`,
		`2.0 [0 127.0.0.1:2] "echo" "challengeload end psd2 get"`,
		`2.1 [0 127.0.0.1:2] "echo" "challengeload done -"`,
	}
	got := tripsOf(lines)
	want := map[string]bareserver.Trips{"psd2 get": {Reads: 1, Writes: 1}}
	if !maps.Equal(got, want) {
		t.Fatalf("tripsOf = %v, want %v", got, want)
	}
}

func TestRedisOfServer(t *testing.T) {
	for args, want := range map[string]string{
		"":                                     "",
		"-store memory":                        "",
		"-store redis":                         "redis://127.0.0.1:6379/0",
		"-store=redis -redis-url redis://h/3":  "redis://h/3",
		"-redis-url=redis://h/2 -store redis":  "redis://h/2",
		"-store postgres -redis-url redis://h": "",
	} {
		if got := redisOfServer(args); got != want {
			t.Errorf("redisOfServer(%q) = %q, want %q", args, got, want)
		}
	}
}

// TestTheBareServerPipelinesAsExamplesServerDoes: unless told otherwise,
// the bare server auto-pipelines its round trips exactly when
// examples/server does.
func TestTheBareServerPipelinesAsExamplesServerDoes(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		args, env    string
		given        *bool
		server, bare bool
	}{
		{"-store redis", "", nil, false, false},
		{"-store redis -redis-autopipeline", "", nil, true, true},
		{"-redis-autopipeline=true -store redis", "", nil, true, true},
		{"-store redis --redis-autopipeline=false", "", nil, false, false},
		{"-store redis", "true", nil, true, true},
		{"-store redis -redis-autopipeline=0", "true", nil, false, false},
		{"-store redis -redis-autopipeline", "", &no, true, false},
		{"-store redis", "", &yes, false, true},
	} {
		getenv := func(k string) string {
			if k == "CHALLENGEKIT_REDIS_AUTOPIPELINE" {
				return tc.env
			}
			return ""
		}
		if server, bare := pipelining(tc.args, getenv, tc.given); server != tc.server || bare != tc.bare {
			t.Errorf("-server-args %q, variable %q, -bare-autopipeline %v: server %v, bare %v; want %v, %v",
				tc.args, tc.env, tc.given, server, bare, tc.server, tc.bare)
		}
	}
}

func TestParseCounts(t *testing.T) {
	if got, err := parseCounts("0, 100000,1000000"); err != nil || len(got) != 3 || got[2] != 1000000 {
		t.Errorf("parseCounts = %v, %v", got, err)
	}
	for _, bad := range []string{"1,,2", "-1", "many"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("parseCounts(%q) accepted it", bad)
		}
	}
}
