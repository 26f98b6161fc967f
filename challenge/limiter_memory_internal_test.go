package challenge

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// stepClock is a Clock moved by hand (challengetest's FakeClock imports
// this package, so an internal test cannot use it).
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (l *MemoryLimiter) entries() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets) + len(l.subjects) + len(l.deliveries)
}

// TestMemoryLimiterKeepsNothingForRightAnswers charges and refunds the
// attempts of many users, as a site whose users all answer right the
// first time does, and expects the limiter to hold nothing for them.
func TestMemoryLimiterKeepsNothingForRightAnswers(t *testing.T) {
	ctx := context.Background()
	l, err := NewMemoryLimiter(Limits{}, &stepClock{now: time.Unix(1e9, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10_000 {
		a := Attempt{Kind: "login", Subject: fmt.Sprint("user", i), Source: "ip:192.0.2.1", ID: fmt.Sprint("charge", i)}
		if err := l.Attempt(ctx, a); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if err := l.Refund(ctx, a); err != nil {
			t.Fatalf("refund %d: %v", i, err)
		}
	}
	if n := l.entries(); n != 0 {
		t.Errorf("after 10,000 right answers the limiter holds %d entries; want 0", n)
	}
}

// TestMemoryLimiterForgetsWhatExpired fills the limiter with starts,
// failures and deliveries from many sources, lets every budget run out of
// its period, and expects ordinary traffic to sweep them away without a
// background goroutine.
func TestMemoryLimiterForgetsWhatExpired(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Unix(1e9, 0)}
	l, err := NewMemoryLimiter(Limits{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2_000
	for i := range n {
		src := fmt.Sprint("ip:198.51.100.", i)
		if err := l.Start(ctx, Origin{Caller: fmt.Sprint("agent", i), Source: src}); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if err := l.Attempt(ctx, Attempt{Kind: "login", Subject: fmt.Sprint("user", i), Source: src, ID: fmt.Sprint("charge", i)}); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if err := l.Deliver(ctx, Delivery{Destination: fmt.Sprint("phone", i), Source: src}); err != nil {
			t.Fatalf("deliver %d: %v", i, err)
		}
	}
	full := l.entries()
	if full < 3*n {
		t.Fatalf("the limiter holds %d entries after %d sources; the test expects at least %d", full, n, 3*n)
	}
	lim := l.Limits()
	clock.advance(max(lim.FailureWindow, lim.SubjectFailures.Per, lim.Deliveries.Per, lim.DestinationDeliveries.Per) + time.Second)
	// One steady caller's traffic: each call sweeps a few entries and
	// adds at most one per map (its own bucket, which it keeps).
	for i := range 20 * n {
		if err := l.Start(ctx, Origin{Caller: "steady"}); err != nil {
			t.Fatalf("steady start %d: %v", i, err)
		}
		clock.advance(time.Millisecond)
	}
	if left := l.entries(); left > full/100 {
		t.Errorf("after every budget expired and %d calls, the limiter still holds %d of %d entries", 20*n, left, full)
	}
}

// TestMemoryLimiterHoldsASourceForgivenBefore: a source forgiven once
// (quiet for longer than its hold), whose pair the sweep has not reached
// yet, fails afresh and is held again after as many failures. Many other
// subjects keep the sweep away from this one, as on a busy server.
func TestMemoryLimiterHoldsASourceForgivenBefore(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l, err := NewMemoryLimiter(Limits{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 {
		_ = l.Attempt(ctx, Attempt{Kind: "k", Subject: fmt.Sprint("user-", i), Source: "ip:192.0.2.1", ID: fmt.Sprint("other-", i)})
	}
	failures := func(tag string) int {
		n := 0
		for ; n < 50 && l.Attempt(ctx, Attempt{Kind: "k", Subject: "victim", Source: "ip:198.51.100.7", ID: fmt.Sprint(tag, n)}) == nil; n++ {
		}
		return n
	}
	first := failures("a")
	clock.advance(time.Second + 15*time.Minute + time.Second) // the longest hold, and more: forgiven
	if again := failures("b"); again != first {
		t.Fatalf("%d failures before the first hold; %d after the source was forgiven; want the same", first, again)
	}
}
