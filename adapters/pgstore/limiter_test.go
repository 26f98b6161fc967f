package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/challengekit/challengekit/adapters/pgstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/challenge/limitertest"
	"github.com/challengekit/challengekit/internal/servicetest"
)

func TestLimiterConformance(t *testing.T) {
	pool := servicetest.Postgres(t)
	migrated(t, pool)
	limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
		l, err := pgstore.NewLimiter(pool, cfg.Limits, pgstore.LimiterOptions{Clock: cfg.Clock, DigestKey: []byte("test key")})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestEveryLimiterCallIsOneStatement counts the statements of each call.
func TestEveryLimiterCallIsOneStatement(t *testing.T) {
	pool, tr := tracedPool(t)
	migrated(t, pool)
	l, err := pgstore.NewLimiter(pool, challenge.Limits{}, pgstore.LimiterOptions{Clock: challengetest.NewClock()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	subject := challenge.NewID()
	a := challenge.Attempt{Kind: "k", Subject: subject, Source: "ip:203.0.113.9", ID: challenge.NewID()}
	for _, call := range []struct {
		name string
		do   func() error
	}{
		{"Start", func() error { return l.Start(ctx, challenge.Origin{Caller: subject, Source: "ip:203.0.113.9"}) }},
		{"Attempt", func() error { return l.Attempt(ctx, a) }},
		{"Refund", func() error { return l.Refund(ctx, a) }},
		{"Deliver", func() error {
			return l.Deliver(ctx, challenge.Delivery{Destination: subject, Source: "ip:203.0.113.9"})
		}},
		{"Reset", func() error { return l.Reset(ctx, "k", subject) }},
	} {
		tr.take()
		if err := call.do(); err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
		if got := tr.take(); len(got) != 1 {
			t.Fatalf("%s sent %d statements: %q", call.name, len(got), got)
		}
	}
}

func TestLimiterRowsNameNoOneAndExpire(t *testing.T) {
	pool := servicetest.Postgres(t)
	migrated(t, pool)
	// In the past: DeleteExpired must not reach the live budgets of
	// servers that other tests run on the same database meanwhile.
	clock := challengetest.NewClock()
	clock.Set(pastEpoch())
	l, err := pgstore.NewLimiter(pool, challenge.Limits{}, pgstore.LimiterOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	who := "subject-" + challenge.NewID()
	_ = l.Start(ctx, challenge.Origin{Caller: who, Source: "ip:" + who})
	_ = l.Attempt(ctx, challenge.Attempt{Kind: "k", Subject: who, Source: "ip:" + who, ID: challenge.NewID()})
	_ = l.Deliver(ctx, challenge.Delivery{Destination: who, Source: "ip:" + who})
	var found int
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM challengekit_limit_buckets WHERE key LIKE '%'||$1||'%') +
		(SELECT count(*) FROM challengekit_limit_logs WHERE key LIKE '%'||$1||'%') +
		(SELECT count(*) FROM challengekit_limit_pairs WHERE subject LIKE '%'||$1||'%' OR source LIKE '%'||$1||'%')`, who).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found != 0 {
		t.Fatalf("%d limiter rows name %q in the clear", found, who)
	}
	clock.Advance(48 * time.Hour)
	n, err := l.DeleteExpired(ctx, 10_000)
	if err != nil || n < 5 {
		t.Fatalf("DeleteExpired two days on removed %d rows (%v); want at least the 5 this test wrote", n, err)
	}
}
