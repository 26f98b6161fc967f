// Package limitertest is the conformance suite every [challenge.Limiter]
// must pass. A backend calls [Run] from its own tests:
//
//	func TestLimiterConformance(t *testing.T) {
//		limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
//			l, err := mybackend.NewLimiter(client, cfg.Limits, cfg.Clock)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return l
//		})
//	}
//
// Every case drives the limiter with a fake clock and fresh random keys, so
// a limiter over a shared backend need not be emptied between cases, and
// races [Racers] goroutines on one budget to show that none is over-spent.
package limitertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// Config is how the suite wants a limiter built for one case.
type Config struct {
	// Clock is the clock the limiter must read the time from.
	Clock challenge.Clock
	// Limits are the budgets the limiter must keep.
	Limits challenge.Limits
}

// NewLimiter builds the limiter under test for one case. It may call
// t.Cleanup to release what it opened, and t.Skip if its backend is
// unavailable.
type NewLimiter func(t *testing.T, cfg Config) challenge.Limiter

// Limits are the budgets the suite configures: small, so that every case
// runs in a few calls.
var Limits = challenge.Limits{
	CallerStarts:          challenge.Rate{Events: 10, Per: 10 * time.Second},
	SourceStarts:          challenge.Rate{Events: 3, Per: 30 * time.Second},
	FreeFailures:          3,
	MinHold:               time.Second,
	MaxHold:               8 * time.Second,
	FailureWindow:         time.Minute,
	SubjectFailures:       challenge.Rate{Events: 10, Per: time.Hour},
	Deliveries:            challenge.Rate{Events: 3, Per: time.Hour},
	DestinationDeliveries: challenge.Rate{Events: 5, Per: time.Hour},
}

// Racers is how many goroutines race on one budget.
const Racers = 64

// Run runs every conformance case against limiters built by newLimiter,
// each as a subtest.
func Run(t *testing.T, newLimiter NewLimiter) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := challengetest.NewClock()
			l := newLimiter(t, Config{Clock: clock, Limits: Limits})
			c.run(t, &env{l: l, clock: clock, prefix: challenge.NewID()[:10] + "-"})
		})
	}
}

type env struct {
	l      challenge.Limiter
	clock  *challengetest.FakeClock
	prefix string
	n      int
}

// key returns a name no other case or run uses.
func (e *env) key(what string) string {
	e.n++
	return fmt.Sprintf("%s%s-%d", e.prefix, what, e.n)
}

// attempt names an attempt of subject from source; charge and try give
// each charge an ID of its own, as the engine does.
func (e *env) attempt(subject, source string) challenge.Attempt {
	return challenge.Attempt{Kind: "limitertest", Subject: subject, Source: source}
}

// charge charges a as a fresh attempt and returns it, ID included.
func (e *env) charge(a challenge.Attempt) (challenge.Attempt, error) {
	a.ID = challenge.NewID()
	return a, e.l.Attempt(context.Background(), a)
}

// try charges a as a fresh attempt.
func (e *env) try(a challenge.Attempt) error {
	_, err := e.charge(a)
	return err
}

// deliver charges a delivery to destination asked from source.
func (e *env) deliver(destination, source string) error {
	return e.l.Deliver(context.Background(), challenge.Delivery{Destination: destination, Source: source})
}

// allowed fails t unless err is nil.
func allowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v; want it allowed", what, err)
	}
}

// refused fails t unless err is a *ThrottledError asking to wait exactly
// want.
func refused(t *testing.T, what string, err error, want time.Duration) {
	t.Helper()
	var te *challenge.ThrottledError
	switch {
	case err == nil:
		t.Fatalf("%s: allowed; want it refused for %v", what, want)
	case !errors.As(err, &te) || !errors.Is(err, challenge.ErrThrottled):
		t.Fatalf("%s: %v; want a *challenge.ThrottledError matching ErrThrottled", what, err)
	case te.RetryAfter != want:
		t.Fatalf("%s: refused for %v; want %v", what, te.RetryAfter, want)
	}
}

// race starts n goroutines at once, each running fn(i), and returns how
// many returned nil; any error but a refusal fails t.
func race(t *testing.T, n int, fn func(i int) error) int {
	t.Helper()
	errs := make([]error, n)
	challengetest.Race(n, func(i int) { errs[i] = fn(i) })
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, challenge.ErrThrottled):
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	return won
}
