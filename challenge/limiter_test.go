package challenge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func newLimiter(t *testing.T, clock challenge.Clock) *challenge.MemoryLimiter {
	t.Helper()
	l, err := challenge.NewMemoryLimiter(challenge.LimiterOptions{Clock: clock, Starts: 3, Failures: 2, Window: 10 * time.Minute, MaxBackoff: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var te *challenge.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("%v; want a ThrottledError", err)
	}
	return te.RetryAfter
}

func TestLimiterThrottlesStartsWithADoublingCappedBackoff(t *testing.T) {
	clock := challengetest.NewClock()
	l := newLimiter(t, clock)
	ctx := context.Background()
	for i := range 3 {
		if err := l.Allow(ctx, "alice"); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	var holds []time.Duration
	for range 7 {
		d := retryAfter(t, l.Allow(ctx, "alice"))
		holds = append(holds, d)
		clock.Advance(d) // wait exactly as told: then one start gets through
		if err := l.Allow(ctx, "alice"); err != nil {
			t.Fatalf("after waiting %v as told: %v", d, err)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if holds[i] != want[i] {
			t.Fatalf("holds %v, want %v: doubling from 1 s, capped at MaxBackoff", holds, want)
		}
	}
	if err := l.Allow(ctx, "bob"); err != nil {
		t.Fatalf("another subject was throttled: %v", err)
	}
}

func TestLimiterHoldsNoLongerThanTheCapAfterTheLastEvent(t *testing.T) {
	clock := challengetest.NewClock()
	l := newLimiter(t, clock)
	ctx := context.Background()
	// A stranger trips alice's limit a hundred times, as fast as it can.
	for range 100 {
		_ = l.Allow(ctx, "alice")
		_ = l.Failed(ctx, "alice")
	}
	if d := retryAfter(t, l.Allow(ctx, "alice")); d > 30*time.Second {
		t.Fatalf("alice is held off for %v; the cap is 30 s", d)
	}
	// Attempts made while held do not count, so once the cap has passed
	// after the stranger's last event, alice gets in.
	clock.Advance(30 * time.Second)
	if err := l.Allow(ctx, "alice"); err != nil {
		t.Fatalf("30 s after the last event: %v", err)
	}
}

func TestLimiterThrottlesFailures(t *testing.T) {
	clock := challengetest.NewClock()
	l := newLimiter(t, clock)
	ctx := context.Background()
	_ = l.Failed(ctx, "alice")
	if err := l.Allow(ctx, "alice"); err != nil {
		t.Fatalf("after one failure: %v", err)
	}
	_ = l.Failed(ctx, "alice")
	if d := retryAfter(t, l.Allow(ctx, "alice")); d != time.Second {
		t.Fatalf("after two failures held %v, want 1 s", d)
	}
}

func TestEngineAsksTheLimiter(t *testing.T) {
	clock := challengetest.NewClock()
	store := newMemory(t, clock)
	l := newLimiter(t, clock)
	eng, err := challenge.NewEngine(store, newConsent(t), challenge.EngineOptions{Clock: clock, Limiter: l})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if _, err := eng.Create(ctx, challenge.Start{Subject: "alice", TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Create(ctx, challenge.Start{Subject: "alice", TTL: time.Minute}); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("fourth Create: %v; want ErrThrottled", err)
	}
	if n := store.Len(); n != 3 {
		t.Fatalf("a throttled Create stored a record (%d records)", n)
	}
	if _, err := eng.Create(ctx, challenge.Start{TTL: time.Minute}); err != nil {
		t.Fatalf("a Create without a subject is not throttled: %v", err)
	}
	clock.Advance(time.Hour)
	for range 2 { // failures are reported to the limiter once saved
		rec, _ := eng.Create(ctx, challenge.Start{Subject: "bob", TTL: time.Hour})
		_, _ = eng.Step(ctx, rec.ID, func(tx *challenge.Tx) error { return tx.Fail(errors.New("wrong")) })
	}
	if _, err := eng.Create(ctx, challenge.Start{Subject: "bob", TTL: time.Hour}); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("after two failed attempts: %v; want ErrThrottled", err)
	}
}
