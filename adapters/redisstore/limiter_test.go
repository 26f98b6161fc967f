package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/challenge/limitertest"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// newLimiter returns a limiter under a prefix of its own.
func newLimiter(t *testing.T, client redis.UniversalClient, limits challenge.Limits, clock challenge.Clock) *redisstore.Limiter {
	t.Helper()
	l, err := redisstore.NewLimiter(client, limits, redisstore.Options{Prefix: testPrefix(t, client), Clock: clock, DigestKey: []byte("test key")})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLimiterConformance(t *testing.T) {
	client := servicetest.Redis(t)
	limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
		return newLimiter(t, client, cfg.Limits, cfg.Clock)
	})
}

// TestEveryLimiterCallIsOneRoundTrip counts the commands of each call.
func TestEveryLimiterCallIsOneRoundTrip(t *testing.T) {
	client := servicetest.Redis(t)
	c := &counter{}
	client.AddHook(c)
	l := newLimiter(t, client, challenge.Limits{}, challengetest.NewClock())
	ctx := context.Background()
	if err := l.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c.take()
	a := challenge.Attempt{Kind: "k", Subject: "alice", Source: "ip:203.0.113.9", ID: challenge.NewID()}
	for _, call := range []struct {
		name, want string
		do         func() error
	}{
		{"Start", "evalsha", func() error { return l.Start(ctx, challenge.Origin{Caller: "agent", Source: "ip:203.0.113.9"}) }},
		{"Attempt", "evalsha", func() error { return l.Attempt(ctx, a) }},
		{"Refund", "evalsha", func() error { return l.Refund(ctx, a) }},
		{"Deliver", "evalsha", func() error { return l.Deliver(ctx, challenge.Delivery{Destination: "dest", Source: "ip:203.0.113.9"}) }},
		{"Reset", "del", func() error { return l.Reset(ctx, "k", "alice") }},
	} {
		if err := call.do(); err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
		if got := c.take(); len(got) != 1 || got[0] != call.want {
			t.Fatalf("%s sent %v; want one %s", call.name, got, call.want)
		}
	}
}

// TestLimiterKeysNameNoOne: what the limiter writes to Redis names no
// subject, source or destination in the clear.
func TestLimiterKeysNameNoOne(t *testing.T) {
	client := servicetest.Redis(t)
	// Only this limiter's keys: the server is shared with other tests,
	// whose records may well name alice.
	prefix := testPrefix(t, client)
	l, err := redisstore.NewLimiter(client, challenge.Limits{}, redisstore.Options{Prefix: prefix, Clock: challengetest.NewClock(), DigestKey: []byte("test key")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = l.Start(ctx, challenge.Origin{Caller: "agent-secretive", Source: "ip:203.0.113.99"})
	_ = l.Attempt(ctx, challenge.Attempt{Kind: "k", Subject: "alice@example.com", Source: "ip:203.0.113.99", ID: challenge.NewID()})
	_ = l.Deliver(ctx, challenge.Delivery{Destination: "bob@example.com", Source: "ip:203.0.113.99"})
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("the limiter wrote no key under its prefix")
	}
	for _, k := range keys {
		for _, secret := range []string{"alice", "bob", "203.0.113.99", "secretive"} {
			if strings.Contains(k, secret) {
				t.Fatalf("key %q names %q", k, secret)
			}
		}
		if typ, _ := client.Type(ctx, k).Result(); typ == "hash" {
			fields, _ := client.HGetAll(ctx, k).Result()
			for f := range fields {
				if strings.Contains(f, "203.0.113.99") {
					t.Fatalf("hash %q has field %q", k, f)
				}
			}
		}
	}
}
