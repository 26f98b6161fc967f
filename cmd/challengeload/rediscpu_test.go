package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/internal/servicetest"
)

func TestParseRedisCPU(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:167.515546\r\nused_cpu_user:249.944359\r\nused_cpu_sys_children:9.000000\r\nused_cpu_user_children:9.000000\r\nused_cpu_sys_main_thread:167.490530\r\n"
	got, err := parseRedisCPU(info)
	if want := 417459905 * time.Microsecond; err != nil || got != want {
		t.Errorf("parseRedisCPU = %v, %v; want %v (user + sys, not the children's nor the main thread's again)", got, err, want)
	}
	for _, bad := range []string{"", "# CPU\r\nused_cpu_sys:1.0\r\n", "used_cpu_sys:x\r\nused_cpu_user:1\r\n", "used_cpu_sys:-1\r\nused_cpu_user:1\r\n"} {
		if d, err := parseRedisCPU(bad); err == nil {
			t.Errorf("parseRedisCPU(%q) = %v, want an error", bad, d)
		}
	}
}

func TestRedisCPUGrowsWithWork(t *testing.T) {
	servicetest.Programs(t, "redis-server")
	port := servicetest.FreePort(t)
	servicetest.StartRedis(t, port, t.TempDir())
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	read, closeFn, err := redisCPU(url)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	opts, _ := redis.ParseURL(url)
	client := redis.NewClient(opts)
	defer client.Close()
	before := read()
	// A Redis of its own, so only these commands move its clock; enough
	// of them that its accounting (ticks on some kernels) must move.
	for range 3000 {
		if err := client.Set(t.Context(), "k", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if after := read(); after <= before {
		t.Errorf("Redis CPU went from %v to %v over 3,000 commands", before, after)
	}
}

func TestRedisCPUSaysWhyItCannotRead(t *testing.T) {
	port := servicetest.FreePort(t) // nothing listens there
	if _, _, err := redisCPU(fmt.Sprintf("redis://127.0.0.1:%d/0", port)); err == nil {
		t.Fatal("redisCPU on a port where no Redis listens gave no error")
	}
}

func TestReportShowsRedisCPUWhenKnown(t *testing.T) {
	sc, _ := scenarioNamed("authn")
	at := func(rps, serverUS, redisUS int) result {
		return result{requests: rps, flows: rps / 4, elapsed: time.Second, cpu: time.Duration(rps*serverUS) * time.Microsecond,
			redisCPU: time.Duration(rps*redisUS) * time.Microsecond}
	}
	c := comparison{sc: sc, bare: []result{at(8000, 100, 40)}, real: []result{at(6000, 150, 50)}}
	var out bytes.Buffer
	c.print(&out)
	for _, want := range []string{
		"| server CPU per request | Redis CPU per request |",
		"| bare net/http | 8000 | 0.00 ms | 0.00 ms | 100.0 µs | 40.0 µs | 0 |",
		"| examples/server | 6000 | 0.00 ms | 0.00 ms | 150.0 µs | 50.0 µs | 0 |",
		"Redis CPU per request, bare ÷ examples/server: 0.80× (at 50.0 µs each, a second of Redis CPU serves about 20000 of examples/server's requests)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	c.bare[0].redisCPU, c.real[0].redisCPU = 0, 0
	out.Reset()
	c.print(&out)
	if strings.Contains(out.String(), "Redis CPU") {
		t.Errorf("without Redis, the report still has a Redis column:\n%s", out.String())
	}
}
