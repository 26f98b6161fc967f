package challenge_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// fakeStore wraps a real store, counts calls, and lets a test replace any
// method with a ...Fn field.
type fakeStore struct {
	challenge.Store
	GetFn    func(ctx context.Context, kind, id string) (*challenge.Record, error)
	UpdateFn func(ctx context.Context, rec *challenge.Record) error
	gets     atomic.Int64
	updates  atomic.Int64
}

func (f *fakeStore) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	f.gets.Add(1)
	if f.GetFn != nil {
		return f.GetFn(ctx, kind, id)
	}
	return f.Store.Get(ctx, kind, id)
}

func (f *fakeStore) Update(ctx context.Context, rec *challenge.Record) error {
	f.updates.Add(1)
	if f.UpdateFn != nil {
		return f.UpdateFn(ctx, rec)
	}
	return f.Store.Update(ctx, rec)
}

type harness struct {
	engine *challenge.Engine
	store  *fakeStore
	clock  *challengetest.FakeClock
	rec    *challengetest.Recorder
	logs   *challengetest.LogBuffer
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{clock: challengetest.NewClock(), rec: &challengetest.Recorder{}, logs: &challengetest.LogBuffer{}}
	h.store = &fakeStore{Store: newMemory(t, h.clock)}
	var err error
	h.engine, err = challenge.NewEngine(h.store, newConsent(t), challenge.EngineOptions{
		Clock:    h.clock,
		IDs:      &challengetest.SequentialIDs{Prefix: "c"},
		Logger:   zerolog.New(h.logs).Level(zerolog.DebugLevel),
		Observer: h.rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) create(t *testing.T, data string) *challenge.Record {
	t.Helper()
	rec, err := h.engine.Create(context.Background(), challenge.Start{Subject: "p-alice", TTL: 5 * time.Minute, Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (h *harness) stored(t *testing.T, id string) *challenge.Record {
	t.Helper()
	rec, err := h.store.Store.Get(context.Background(), "consent", id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func fire(events ...challenge.Event) func(*challenge.Tx) error {
	return func(tx *challenge.Tx) error {
		for _, ev := range events {
			if err := tx.Fire(ev); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestCreateStartsInTheInitialState(t *testing.T) {
	h := newHarness(t)
	rec := h.create(t, "payload")
	now := h.clock.Now()
	if rec.ID != "c1" || rec.Kind != "consent" || rec.State != "pending" || rec.Version != 1 || rec.Subject != "p-alice" {
		t.Fatalf("created %+v", rec)
	}
	if !rec.CreatedAt.Equal(now) || !rec.ExpiresAt.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("CreatedAt %v, ExpiresAt %v; want %v and 5m later", rec.CreatedAt, rec.ExpiresAt, now)
	}
	if got := h.stored(t, rec.ID); got.State != "pending" || string(got.Data) != "payload" {
		t.Fatalf("stored %+v", got)
	}
	if c := h.rec.Changes(); len(c) != 1 || c[0].From != "" || c[0].To != "pending" {
		t.Fatalf("observed %+v, want one creation", c)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, s := range []challenge.Start{{TTL: -time.Second}, {ID: strings.Repeat("x", challenge.MaxIDLength+1)}} {
		if _, err := h.engine.Create(context.Background(), s); !errors.Is(err, challenge.ErrInvalidRecord) {
			t.Errorf("Create(%+v): %v; want ErrInvalidRecord", s, err)
		}
	}
}

func TestStepFiresSavesAndObservesInOneReadAndOneWrite(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	h.clock.Advance(time.Second)
	h.store.gets.Store(0)
	got, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		if err := fire("enter_credentials", "redirect")(tx); err != nil {
			return err
		}
		tx.SetData([]byte("token"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, u := h.store.gets.Load(), h.store.updates.Load(); g != 1 || u != 1 {
		t.Errorf("store round trips: %d reads, %d writes; want 1 and 1", g, u)
	}
	if got.State != "redirected" || got.Version != 2 || string(got.Data) != "token" || !got.UpdatedAt.Equal(h.clock.Now()) {
		t.Errorf("Step returned %+v", got)
	}
	if s := h.stored(t, id); s.State != "redirected" || s.Version != 2 {
		t.Errorf("stored %+v", s)
	}
	if ev := h.rec.Events(); !slices.Equal(ev, []challenge.Event{"", "enter_credentials", "redirect"}) {
		t.Errorf("observed events %v", ev)
	}
}

func TestStepThatChangesNothingDoesNotWrite(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	if _, err := h.engine.Get(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if u := h.store.updates.Load(); u != 0 {
		t.Fatalf("a read-only step wrote %d times", u)
	}
}

func TestStepErrorDiscardsChanges(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "before").ID
	refusal := errors.New("flow refused")
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		_ = tx.Fire("enter_credentials")
		tx.SetData([]byte("after"))
		return refusal
	})
	if !errors.Is(err, refusal) {
		t.Fatalf("Step: %v; want the flow's error", err)
	}
	if s := h.stored(t, id); s.State != "pending" || string(s.Data) != "before" || s.Version != 1 {
		t.Fatalf("a refused step was saved: %+v", s)
	}
}

func TestWrongAnswersCountAndTheLastOneLocks(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	mismatch := errors.New("iban does not belong to person")
	wrong := func(tx *challenge.Tx) error { return tx.Fail(mismatch) }
	for attempt := 1; attempt <= 3; attempt++ {
		_, err := h.engine.Step(context.Background(), id, wrong)
		if !errors.Is(err, mismatch) {
			t.Fatalf("attempt %d: %v; want the cause", attempt, err)
		}
		if locked := errors.Is(err, challenge.ErrLocked); locked != (attempt == 3) {
			t.Fatalf("attempt %d: errors.Is(err, ErrLocked) = %v", attempt, locked)
		}
		if s := h.stored(t, id); s.Attempts != attempt {
			t.Fatalf("after attempt %d the store counts %d", attempt, s.Attempts)
		}
	}
	if s := h.stored(t, id); s.State != "failed" {
		t.Fatalf("state after 3 failures = %s, want failed", s.State)
	}
	_, err := h.engine.Step(context.Background(), id, fire("enter_credentials"))
	var te *challenge.TransitionError
	if !errors.As(err, &te) || !te.Locked || !errors.Is(err, challenge.ErrFinal) {
		t.Fatalf("operation on a locked challenge: %v; want a locked, final TransitionError", err)
	}
	_, err = h.engine.Step(context.Background(), id, wrong)
	if !errors.Is(err, challenge.ErrInvalidTransition) || h.stored(t, id).Attempts != 3 {
		t.Fatalf("Fail on a locked challenge: %v, attempts %d; want a refusal and no count", err, h.stored(t, id).Attempts)
	}
	changes := h.rec.Changes()
	last := changes[len(changes)-1]
	if !last.Failed || last.Event != "fail" || last.Reason != mismatch.Error() || last.Attempts != 3 {
		t.Fatalf("last observed change %+v, want the lock", last)
	}
}

func TestAnExpiredChallengeIsExpiredOnceAndForAll(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	h.clock.Advance(5 * time.Minute)
	called := false
	_, err := h.engine.Step(context.Background(), id, func(*challenge.Tx) error { called = true; return nil })
	if !errors.Is(err, challenge.ErrExpired) || called {
		t.Fatalf("Step after expiry = %v (fn called: %v); want ErrExpired, fn not called", err, called)
	}
	s := h.stored(t, id)
	if s.State != "expired" {
		t.Fatalf("stored state %s, want expired", s.State)
	}
	if _, err := h.engine.Get(context.Background(), id); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("Get: %v; want ErrExpired", err)
	}
	if again := h.stored(t, id); again.Version != s.Version {
		t.Fatalf("reading an expired challenge wrote it again")
	}
	if ev := h.rec.Events(); !slices.Equal(ev, []challenge.Event{"", "expire"}) {
		t.Fatalf("observed events %v", ev)
	}
}

func TestAFinishedChallengeDoesNotExpire(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	if _, err := h.engine.Step(context.Background(), id, fire("enter_credentials", "redirect", "authorize")); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5*time.Minute + 30*time.Second) // past expiry, within retention
	rec, err := h.engine.Get(context.Background(), id)
	if err != nil || rec.State != "authorized" {
		t.Fatalf("Get of an authorized challenge after its expiry = %+v, %v", rec, err)
	}
}

func TestUnknownAndImpossibleIDsAreNotFound(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"", "nope", strings.Repeat("a", challenge.MaxIDLength+1)} {
		if _, err := h.engine.Get(context.Background(), id); !errors.Is(err, challenge.ErrNotFound) {
			t.Errorf("Get(%.10q…): %v; want ErrNotFound", id, err)
		}
	}
	if g := h.store.gets.Load(); g != 1 {
		t.Errorf("%d store reads; empty and overlong IDs must not reach the store", g)
	}
}

// TestRacingRequestsGetOneOutcome is the engine's idempotency promise: many
// copies of one request racing on one challenge all succeed with the
// winner's outcome, and only one of them changes the record.
func TestRacingRequestsGetOneOutcome(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	const n = 32
	tokens := make([]string, n)
	errs := make([]error, n)
	challengetest.Race(n, func(i int) {
		rec, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
			if tx.State() == "redirected" {
				return nil // a retry of the request that won: answer with its outcome
			}
			if err := fire("enter_credentials", "redirect")(tx); err != nil {
				return err
			}
			tx.SetData(fmt.Appendf(nil, "token-%d", i))
			return nil
		})
		errs[i] = err
		if err == nil {
			tokens[i] = string(rec.Data)
		}
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("request %d got %q, request 0 got %q", i, tokens[i], tokens[0])
		}
	}
	if s := h.stored(t, id); s.Version != 2 || string(s.Data) != tokens[0] {
		t.Fatalf("stored %+v after the race; want one write", s)
	}
	if ev := h.rec.Events(); !slices.Equal(ev, []challenge.Event{"", "enter_credentials", "redirect"}) {
		t.Fatalf("observed %v; the losers' transitions must not be reported", ev)
	}
}

func TestStepRereadsOnceAfterAConflictThenGivesUp(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	h.store.UpdateFn = func(context.Context, *challenge.Record) error { return challenge.ErrConflict }
	calls := 0
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		calls++
		return tx.Fire("enter_credentials")
	})
	if !errors.Is(err, challenge.ErrConflict) || calls != 2 || h.store.gets.Load() != 2 {
		t.Fatalf("Step = %v after %d calls and %d reads; want ErrConflict after 2 of each", err, calls, h.store.gets.Load())
	}
	if len(h.rec.Changes()) != 1 {
		t.Fatalf("unsaved changes were observed: %+v", h.rec.Changes())
	}
}

func TestStoreFailuresReachTheCallerAndNothingIsObserved(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	down := errors.New("store unreachable")
	h.store.UpdateFn = func(context.Context, *challenge.Record) error { return down }
	if _, err := h.engine.Step(context.Background(), id, fire("enter_credentials")); !errors.Is(err, down) {
		t.Fatalf("Step with a failing Update: %v", err)
	}
	h.store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, down }
	if _, err := h.engine.Get(context.Background(), id); !errors.Is(err, down) {
		t.Fatalf("Get with a failing store: %v", err)
	}
	if len(h.rec.Changes()) != 1 {
		t.Fatalf("observed %+v; only the creation was saved", h.rec.Changes())
	}
}

func TestLogsNameTheChangeAndNeverTheData(t *testing.T) {
	h := newHarness(t)
	const secret = "one-time-token-SECRET"
	id := h.create(t, secret).ID
	if _, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.SetData([]byte(secret + "-2"))
		return tx.Fire("enter_credentials")
	}); err != nil {
		t.Fatal(err)
	}
	_, _ = h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error { return tx.Fail(errors.New("wrong answer")) })
	logs := h.logs.String()
	for _, want := range []string{`"message":"challenge created"`, `"event":"enter_credentials"`, `"from":"pending"`,
		`"to":"credentials_entered"`, `"id":"c1"`, `"kind":"consent"`, `"message":"challenge attempt failed"`, `"reason":"wrong answer"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secretish := range []string{secret, "p-alice"} {
		if strings.Contains(logs, secretish) {
			t.Errorf("logs contain %q:\n%s", secretish, logs)
		}
	}
}

func TestNewEngineRejectsBadOptions(t *testing.T) {
	s := newMemory(t, nil)
	m := newConsent(t)
	for name, build := range map[string]func() (*challenge.Engine, error){
		"nil store":   func() (*challenge.Engine, error) { return challenge.NewEngine(nil, m, challenge.EngineOptions{}) },
		"nil machine": func() (*challenge.Engine, error) { return challenge.NewEngine(s, nil, challenge.EngineOptions{}) },
		"negative MaxAttempts": func() (*challenge.Engine, error) {
			return challenge.NewEngine(s, m, challenge.EngineOptions{MaxAttempts: -1})
		},
	} {
		if _, err := build(); err == nil {
			t.Errorf("NewEngine accepted a %s", name)
		}
	}
	e, err := challenge.NewEngine(s, m, challenge.EngineOptions{})
	if err != nil || e.MaxAttempts() != challenge.DefaultMaxAttempts {
		t.Fatalf("zero options: %v, MaxAttempts %d", err, e.MaxAttempts())
	}
	if id := e.NewID(); len(id) != 22 {
		t.Fatalf("default IDs are %q; want 22 base64url characters (128 bits)", id)
	}
}

// TestAfterSaveRunsOnceForTheSavedRun makes the first save lose a race:
// the function runs twice, and what it registers runs once, after the
// record it belongs to is stored.
func TestAfterSaveRunsOnceForTheSavedRun(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	conflicts := 1
	h.store.UpdateFn = func(ctx context.Context, r *challenge.Record) error {
		if conflicts > 0 {
			conflicts--
			return challenge.ErrConflict
		}
		return h.store.Store.Update(ctx, r)
	}
	runs := 0
	var sent []string
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		runs++
		run := fmt.Sprint("run ", runs)
		tx.AfterSave(func(context.Context) error {
			if s := h.stored(t, id); s.State != "credentials_entered" {
				t.Errorf("%s: after-save function ran with the record in %q; want it saved first", run, s.State)
			}
			sent = append(sent, run)
			return nil
		})
		return tx.Fire("enter_credentials")
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || !slices.Equal(sent, []string{"run 2"}) {
		t.Fatalf("the function ran %d times and the after-save functions of %q; want 2 runs and only run 2's", runs, sent)
	}
}

func TestAfterSaveOfADiscardedRunNeverRuns(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	ran := false
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.AfterSave(func(context.Context) error { ran = true; return nil })
		if err := tx.Fire("enter_credentials"); err != nil {
			return err
		}
		return errors.New("refused after all")
	})
	if err == nil || ran {
		t.Fatalf("Step = %v, after-save ran %v; want the error and nothing run", err, ran)
	}
	// A step whose save fails runs nothing either.
	h.store.UpdateFn = func(context.Context, *challenge.Record) error { return errors.New("connection reset") }
	_, err = h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.AfterSave(func(context.Context) error { ran = true; return nil })
		return tx.Fire("enter_credentials")
	})
	if !errors.Is(err, challenge.ErrOutcomeUnknown) || ran {
		t.Fatalf("Step = %v, after-save ran %v; want ErrOutcomeUnknown and nothing run", err, ran)
	}
}

func TestAfterSaveRunsForAFailureAndForAStepThatChangesNothing(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	var ran []string
	wrong := errors.New("wrong answer")
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.AfterSave(func(context.Context) error { ran = append(ran, "failure"); return nil })
		return tx.Fail(wrong)
	})
	if !errors.Is(err, wrong) {
		t.Fatalf("Step = %v; want the failure", err)
	}
	_, err = h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.AfterSave(func(context.Context) error { ran = append(ran, "no change"); return nil })
		return nil
	})
	if err != nil || !slices.Equal(ran, []string{"failure", "no change"}) {
		t.Fatalf("Step = %v, ran %q; want both after-save functions run", err, ran)
	}
}

func TestAfterSaveErrorSaysTheRecordWasSaved(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	down := errors.New("mail server down")
	second := false
	_, err := h.engine.Step(context.Background(), id, func(tx *challenge.Tx) error {
		tx.AfterSave(func(context.Context) error { return down })
		tx.AfterSave(func(context.Context) error { second = true; return nil })
		return tx.Fire("enter_credentials")
	})
	var ae *challenge.AfterSaveError
	if !errors.As(err, &ae) || !errors.Is(err, down) || ae.Record.State != "credentials_entered" || second {
		t.Fatalf("Step = %v (second ran %v); want an AfterSaveError wrapping the cause, with the saved record, and nothing after it run", err, second)
	}
	if s := h.stored(t, id); s.State != "credentials_entered" {
		t.Fatalf("stored %q; the step's changes were to be saved", s.State)
	}
}
