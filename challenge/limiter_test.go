package challenge_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func TestLimitsDefaultAndRefuseNonsense(t *testing.T) {
	l, err := challenge.Limits{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := challenge.Limits{CallerStarts: challenge.DefaultCallerStarts, SourceStarts: challenge.DefaultSourceStarts,
		FreeFailures: 5, MinHold: time.Second, MaxHold: 15 * time.Minute, FailureWindow: 15 * time.Minute,
		SubjectFailures: challenge.Rate{Events: 100, Per: 24 * time.Hour}, Deliveries: challenge.Rate{Events: 5, Per: time.Hour},
		DestinationDeliveries: challenge.Rate{Events: 20, Per: time.Hour}}
	if l != want {
		t.Fatalf("defaults %+v, want %+v", l, want)
	}
	for name, bad := range map[string]challenge.Limits{
		"negative free failures":      {FreeFailures: -1},
		"a rate without a period":     {SourceStarts: challenge.Rate{Events: 3}},
		"a rate with no events":       {Deliveries: challenge.Rate{Per: time.Hour}},
		"more events than µs":         {CallerStarts: challenge.Rate{Events: 2000, Per: time.Millisecond}},
		"a cap shorter than the hold": {MinHold: time.Minute, MaxHold: time.Second},
		"a negative window":           {FailureWindow: -time.Second},
	} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%s: accepted %+v", name, bad)
		}
	}
}

func TestHoldsDoubleFromMinHoldUpToMaxHold(t *testing.T) {
	l, _ := challenge.Limits{}.WithDefaults()
	got := []time.Duration{}
	for n := 0; n <= 16; n++ {
		got = append(got, l.Hold(n))
	}
	s := time.Second
	want := []time.Duration{0, 0, 0, 0, 0, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s, 512 * s, 900 * s, 900 * s}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("holds after 0…16 failures: %v, want %v", got, want)
		}
	}
	if l.Hold(1<<30) != 15*time.Minute {
		t.Fatalf("a huge count overflows the hold: %v", l.Hold(1<<30))
	}
}

// countingLimiter records the calls an engine makes.
type countingLimiter struct {
	challenge.Limiter
	mu       sync.Mutex
	attempts []challenge.Attempt
	refunds  []challenge.Attempt
}

func (c *countingLimiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	c.mu.Lock()
	c.attempts = append(c.attempts, a)
	c.mu.Unlock()
	return c.Limiter.Attempt(ctx, a)
}

func (c *countingLimiter) Refund(ctx context.Context, a challenge.Attempt) error {
	c.mu.Lock()
	c.refunds = append(c.refunds, a)
	c.mu.Unlock()
	return c.Limiter.Refund(ctx, a)
}

func (c *countingLimiter) counts() (attempts, refunds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.attempts), len(c.refunds)
}

func limitedEngine(t *testing.T, limits challenge.Limits) (*challenge.Engine, *fakeStore, *countingLimiter, *challengetest.FakeClock) {
	t.Helper()
	clock := challengetest.NewClock()
	store := &fakeStore{Store: newMemory(t, clock)}
	mem, err := challenge.NewMemoryLimiter(limits, clock)
	if err != nil {
		t.Fatal(err)
	}
	l := &countingLimiter{Limiter: mem}
	eng, err := challenge.NewEngine(store, newConsent(t), challenge.EngineOptions{Clock: clock, Limiter: l})
	if err != nil {
		t.Fatal(err)
	}
	return eng, store, l, clock
}

func TestStartsAreChargedToTheCallerAndSourceNeverToTheSubject(t *testing.T) {
	eng, store, _, _ := limitedEngine(t, challenge.Limits{SourceStarts: challenge.Rate{Events: 3, Per: time.Hour}})
	ctx := context.Background()
	attacker := challenge.Origin{Caller: "agent", Source: "ip:198.51.100.7"}
	for range 3 {
		if _, err := eng.Create(ctx, challenge.Start{Subject: "alice", TTL: time.Minute, Origin: attacker}); err != nil {
			t.Fatal(err)
		}
	}
	before := store.Store.(*challenge.MemoryStore).Len()
	if _, err := eng.Create(ctx, challenge.Start{Subject: "alice", TTL: time.Minute, Origin: attacker}); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("the source's fourth start: %v; want ErrThrottled", err)
	}
	if n := store.Store.(*challenge.MemoryStore).Len(); n != before {
		t.Fatal("a refused start stored a record")
	}
	victim := challenge.Origin{Caller: "agent", Source: "ip:203.0.113.9"}
	for range 3 {
		if _, err := eng.Create(ctx, challenge.Start{Subject: "alice", TTL: time.Minute, Origin: victim}); err != nil {
			t.Fatalf("alice, from her own address, while a stranger is throttled: %v", err)
		}
	}
}

// wrongOrRight is a step that charges an attempt by alice from a source
// and records a failure unless the answer is right.
func wrongOrRight(right bool) func(tx *challenge.Tx) error {
	return func(tx *challenge.Tx) error {
		if err := tx.Attempt("p-alice", "ip:198.51.100.7"); err != nil {
			return err
		}
		if !right {
			return tx.Fail(errors.New("wrong answer"))
		}
		return tx.Fire("enter_credentials")
	}
}

func TestAttemptsAreChargedOnceAndRefundedWhenRight(t *testing.T) {
	eng, store, l, _ := limitedEngine(t, challenge.Limits{})
	ctx := context.Background()
	rec, _ := eng.Create(ctx, challenge.Start{TTL: time.Minute})
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(false)); err == nil {
		t.Fatal("a wrong answer succeeded")
	}
	if a, r := l.counts(); a != 1 || r != 0 {
		t.Fatalf("a wrong answer: %d charges, %d refunds; want 1 and 0", a, r)
	}
	// The first save loses a race: the step runs twice, and is charged once.
	conflicts := 1
	store.UpdateFn = func(ctx context.Context, r *challenge.Record) error {
		if conflicts > 0 {
			conflicts--
			return challenge.ErrConflict
		}
		return store.Store.Update(ctx, r)
	}
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(true)); err != nil {
		t.Fatal(err)
	}
	if a, r := l.counts(); a != 2 || r != 1 {
		t.Fatalf("a right answer re-run after a conflict: %d charges, %d refunds in all; want 2 and 1", a, r)
	}
}

func TestALostFailureIsRefundedAndAFailedSaveIsNot(t *testing.T) {
	eng, store, l, _ := limitedEngine(t, challenge.Limits{})
	ctx := context.Background()
	rec, _ := eng.Create(ctx, challenge.Start{TTL: time.Minute})
	// A wrong answer loses its race to a right one: the re-run finds the
	// challenge answered and evaluates nothing, but the wrong answer was
	// checked: its charge stays.
	raced := false
	store.UpdateFn = func(ctx context.Context, r *challenge.Record) error {
		if !raced {
			raced = true
			winner := r.Clone()
			winner.State, winner.Attempts = "credentials_entered", 0
			if err := store.Store.Update(ctx, winner); err != nil {
				return err
			}
			return challenge.ErrConflict
		}
		return store.Store.Update(ctx, r)
	}
	_, err := eng.Step(ctx, rec.ID, func(tx *challenge.Tx) error {
		if tx.State() != "pending" {
			return nil // answered meanwhile
		}
		return wrongOrRight(false)(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, r := l.counts(); a != 1 || r != 0 {
		t.Fatalf("a failure that lost its race: %d charges, %d refunds; want 1 and 0", a, r)
	}
	// A wrong answer whose save fails stays charged: failing closed.
	rec, _ = eng.Create(ctx, challenge.Start{TTL: time.Minute})
	store.UpdateFn = func(context.Context, *challenge.Record) error { return errors.New("connection reset") }
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(false)); !errors.Is(err, challenge.ErrOutcomeUnknown) {
		t.Fatalf("a failure whose save failed: %v; want ErrOutcomeUnknown", err)
	}
	if a, r := l.counts(); a != 2 || r != 0 {
		t.Fatalf("a failure whose save failed: %d charges, %d refunds in all; want 2 and 0", a, r)
	}
}

func TestAThrottledAttemptChangesNothing(t *testing.T) {
	eng, store, _, clock := limitedEngine(t, challenge.Limits{FreeFailures: 1})
	ctx := context.Background()
	rec, _ := eng.Create(ctx, challenge.Start{TTL: time.Hour})
	_, _ = eng.Step(ctx, rec.ID, wrongOrRight(false))
	before := store.Store.(*challenge.MemoryStore)
	_, err := eng.Step(ctx, rec.ID, wrongOrRight(false))
	var te *challenge.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != time.Second {
		t.Fatalf("an attempt during the hold: %v; want a 1 s ThrottledError", err)
	}
	if got, _ := before.Get(ctx, "consent", rec.ID); got.Attempts != 1 {
		t.Fatalf("a throttled attempt was counted: %d attempts", got.Attempts)
	}
	clock.Advance(time.Second)
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(true)); err != nil {
		t.Fatalf("after the hold: %v", err)
	}
}

func TestResetLimitsForgivesTheSubject(t *testing.T) {
	eng, _, _, _ := limitedEngine(t, challenge.Limits{FreeFailures: 1})
	ctx := context.Background()
	rec, _ := eng.Create(ctx, challenge.Start{TTL: time.Hour})
	_, _ = eng.Step(ctx, rec.ID, wrongOrRight(false))
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(false)); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("held: %v", err)
	}
	if err := eng.ResetLimits(ctx, "p-alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Step(ctx, rec.ID, wrongOrRight(true)); err != nil {
		t.Fatalf("after ResetLimits: %v", err)
	}
}

func TestStoreFailuresAreUnavailableOrOutcomeUnknown(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	ctx := context.Background()
	reset := errors.New("read tcp: connection reset by peer")
	h.store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, reset }
	if _, err := h.engine.Step(ctx, id, fire("enter_credentials")); !errors.Is(err, challenge.ErrUnavailable) || !errors.Is(err, reset) {
		t.Fatalf("a failed read: %v; want ErrUnavailable wrapping the cause", err)
	}
	h.store.GetFn = nil
	h.store.UpdateFn = func(context.Context, *challenge.Record) error { return reset }
	if _, err := h.engine.Step(ctx, id, fire("enter_credentials")); !errors.Is(err, challenge.ErrOutcomeUnknown) || !errors.Is(err, reset) {
		t.Fatalf("a failed write: %v; want ErrOutcomeUnknown wrapping the cause", err)
	}
	refused := errors.New("dial tcp: connection refused")
	h.store.UpdateFn = func(context.Context, *challenge.Record) error {
		return errors.Join(challenge.ErrUnavailable, refused)
	}
	if _, err := h.engine.Step(ctx, id, fire("enter_credentials")); !errors.Is(err, challenge.ErrUnavailable) || errors.Is(err, challenge.ErrOutcomeUnknown) {
		t.Fatalf("a write the store says it never sent: %v; want ErrUnavailable only", err)
	}
	h.store.UpdateFn = func(context.Context, *challenge.Record) error { return challenge.ErrConflict }
	if _, err := h.engine.Step(ctx, id, fire("enter_credentials")); !errors.Is(err, challenge.ErrConflict) || errors.Is(err, challenge.ErrOutcomeUnknown) {
		t.Fatalf("a conflict: %v; want ErrConflict as it is", err)
	}
}

func TestAttemptInChargesAnotherKindsBudget(t *testing.T) {
	eng, _, l, _ := limitedEngine(t, challenge.Limits{})
	ctx := context.Background()
	rec, _ := eng.Create(ctx, challenge.Start{TTL: time.Minute})
	_, err := eng.Step(ctx, rec.ID, func(tx *challenge.Tx) error {
		if err := tx.AttemptIn("security_answers", "alice", "ip:198.51.100.7"); err != nil {
			return err
		}
		return tx.Fail(errors.New("wrong answer"))
	})
	if err == nil {
		t.Fatal("a wrong answer succeeded")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.attempts) != 1 || l.attempts[0].Kind != "security_answers" || l.attempts[0].Subject != "alice" || len(l.refunds) != 0 {
		t.Fatalf("charges %+v, refunds %+v; want one charge in kind security_answers, for alice, kept", l.attempts, l.refunds)
	}
}
