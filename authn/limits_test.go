package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

func (f *fixture) attempts(t *testing.T, id string) int {
	t.Helper()
	rec, err := f.store.Get(context.Background(), authn.Kind, id)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Attempts
}

func throttledFor(t *testing.T, what string, err error) time.Duration {
	t.Helper()
	var te *challenge.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("%s: %v; want a *challenge.ThrottledError", what, err)
	}
	return te.RetryAfter
}

// TestARepeatedStepIsAnsweredAsItWas: a step repeated with the nonce it
// presented (as an agent repeats a request whose answer it lost) gets the
// answer it got, with the same next nonce, and counts once.
func TestARepeatedStepIsAnsweredAsItWas(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	wrong, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000000")
	if err != nil || !wrong.Wrong || wrong.Remaining != 2 {
		t.Fatalf("a wrong code: %+v, %v", wrong, err)
	}
	for range 3 {
		again, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000000")
		if err != nil || again.Nonce != wrong.Nonce || again.Wrong != wrong.Wrong || again.Remaining != wrong.Remaining || again.State != wrong.State {
			t.Fatalf("the repeat: %+v, %v; want the first answer %+v", again, err, wrong)
		}
	}
	if n := f.attempts(t, r.CorrelationID); n != 1 {
		t.Fatalf("one wrong answer and its repeats counted %d attempts", n)
	}
	// Another operation with the used nonce is no repeat: stale.
	if _, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultFailure, "user_abandoned"); !errors.Is(err, challenge.ErrStaleNonce) {
		t.Fatalf("Finalize with Validate's used nonce: %v; want ErrStaleNonce", err)
	}
	right, err := f.svc.Validate(ctx, agent, r.CorrelationID, wrong.Nonce, f.code(t))
	if err != nil || right.Wrong {
		t.Fatalf("the right code: %+v, %v", right, err)
	}
	if again, err := f.svc.Validate(ctx, agent, r.CorrelationID, wrong.Nonce, f.code(t)); err != nil || again.Nonce != right.Nonce || again.State != right.State || again.Wrong {
		t.Fatalf("the right code repeated: %+v, %v; want %+v", again, err, right)
	}
	done, err := f.svc.Finalize(ctx, agent, r.CorrelationID, right.Nonce, authn.ResultSuccess, "")
	if err != nil || done.State != authn.StateAuthenticated {
		t.Fatalf("Finalize: %+v, %v", done, err)
	}
	if again, err := f.svc.Finalize(ctx, agent, r.CorrelationID, right.Nonce, authn.ResultSuccess, ""); err != nil || again.State != authn.StateAuthenticated || again.Nonce != done.Nonce {
		t.Fatalf("Finalize repeated on the closed transaction: %+v, %v; want %+v", again, err, done)
	}
	// An older step is history: the transaction is closed to it.
	if _, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000000"); !errors.Is(err, authn.ErrClosed) {
		t.Fatalf("a step two behind: %v; want ErrClosed", err)
	}
}

func TestTheBlockingAnswerRepeatedIsStillBlocked(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	nonce, presented := r.Nonce, ""
	var last *authn.Response
	for range 3 {
		var err error
		if last, err = f.svc.Validate(ctx, agent, r.CorrelationID, nonce, "000000"); err != nil {
			t.Fatal(err)
		}
		presented, nonce = nonce, last.Nonce
	}
	if last.State != authn.StateBlocked {
		t.Fatalf("the third wrong answer: %+v", last)
	}
	again, err := f.svc.Validate(ctx, agent, r.CorrelationID, presented, "000000")
	if err != nil || again.State != authn.StateBlocked || again.Nonce != last.Nonce {
		t.Fatalf("the blocking answer repeated: %+v, %v; want %+v", again, err, last)
	}
	if n := f.attempts(t, r.CorrelationID); n != 3 {
		t.Fatalf("%d attempts counted; want 3", n)
	}
	if _, err := f.svc.Validate(ctx, agent, r.CorrelationID, last.Nonce, f.code(t)); !errors.Is(err, authn.ErrClosed) {
		t.Fatalf("the blocked transaction's latest nonce: %v; want ErrClosed", err)
	}
}

func TestInitDeliversAtMostThreeTimesThirtySecondsApart(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.begin(t, "bob")
	nonce := ""
	for i := range 3 {
		next, err := f.svc.Init(ctx, agent, r.CorrelationID, nonce, otpcode.EmailKey, nil)
		if err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
		nonce = next.Nonce
		if i < 2 {
			_, err := f.svc.Init(ctx, agent, r.CorrelationID, nonce, otpcode.EmailKey, nil)
			if !errors.Is(err, authn.ErrTooManySends) || throttledFor(t, "a send straight after", err) != 30*time.Second {
				t.Fatalf("send %d straight after: %v; want ErrTooManySends for 30 s", i+2, err)
			}
			f.clock.Advance(30 * time.Second)
		}
	}
	f.clock.Advance(time.Minute)
	_, err := f.svc.Init(ctx, agent, r.CorrelationID, nonce, otpcode.EmailKey, nil)
	if !errors.Is(err, authn.ErrTooManySends) {
		t.Fatalf("a fourth send in one transaction: %v; want ErrTooManySends", err)
	}
	if got := len(f.box.codes); got != 3 {
		t.Fatalf("%d codes sent; want 3", got)
	}
	// The refusals changed nothing: the last nonce and code still work.
	if v, err := f.svc.Validate(ctx, agent, r.CorrelationID, nonce, f.box.lastCode()); err != nil || v.Wrong {
		t.Fatalf("the last code after the refusals: %+v, %v", v, err)
	}
}

func TestADestinationGetsFiveDeliveriesAnHourAcrossTransactions(t *testing.T) {
	f := newLimitedFixture(t, authn.Options{TTL: time.Hour}, challenge.Limits{})
	ctx := context.Background()
	sent := 0
	var refusal error
	for tx := 0; tx < 3 && refusal == nil; tx++ {
		r := f.begin(t, "bob")
		nonce := ""
		for range 3 {
			next, err := f.svc.Init(ctx, agent, r.CorrelationID, nonce, otpcode.EmailKey, nil)
			if err != nil {
				refusal = err
				break
			}
			sent++
			nonce = next.Nonce
			f.clock.Advance(30 * time.Second)
		}
	}
	if sent != 5 || !errors.Is(refusal, authn.ErrTooManySends) {
		t.Fatalf("%d codes sent to one address before %v; want 5, then ErrTooManySends", sent, refusal)
	}
	if wait := throttledFor(t, "the sixth", refusal); wait != time.Hour-5*30*time.Second {
		t.Fatalf("the sixth send is told to wait %v; want until the first is an hour old", wait)
	}
	if len(f.box.codes) != 5 {
		t.Fatalf("%d codes delivered; want 5", len(f.box.codes))
	}
}

// TestValidateIsBudgetedPerUserAndAddress: wrong answers from one address
// hold that address off for the user, and never the user's own address.
func TestValidateIsBudgetedPerUserAndAddress(t *testing.T) {
	f := newLimitedFixture(t, authn.Options{}, challenge.Limits{FreeFailures: 2})
	ctx := context.Background()
	attacker := func() *authn.Response {
		r, err := f.svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice", Source: "ip:198.51.100.7"})
		if err != nil {
			t.Fatal(err)
		}
		return f.init(t, r, totp.Key)
	}
	for range 2 {
		r := attacker()
		if v, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000000"); err != nil || !v.Wrong {
			t.Fatalf("a wrong guess: %+v, %v", v, err)
		}
	}
	r := attacker()
	_, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, f.code(t))
	if throttledFor(t, "the attacker's third guess", err) != time.Second {
		t.Fatalf("held for %v; want 1 s", throttledFor(t, "", err))
	}
	if n := f.attempts(t, r.CorrelationID); n != 0 {
		t.Fatal("a refused guess was counted against the transaction")
	}
	victim, err := f.svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice", Source: "ip:203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	v := f.init(t, victim, totp.Key)
	if ok, err := f.svc.Validate(ctx, agent, v.CorrelationID, v.Nonce, f.code(t)); err != nil || ok.Wrong {
		t.Fatalf("alice from her own address: %+v, %v", ok, err)
	}
}

func TestAnotherAgentsExpiredTransactionIsNotFound(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.begin(t, "alice")
	f.clock.Advance(time.Hour)
	if _, err := f.svc.Init(context.Background(), "other-agent", r.CorrelationID, "", totp.Key, nil); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("another agent, on an expired transaction: %v; want ErrNotFound", err)
	}
	if _, err := f.svc.Init(context.Background(), agent, r.CorrelationID, "", totp.Key, nil); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("its own agent: %v; want ErrExpired", err)
	}
}

// TestResetLimitsForgivesEveryFactorsFailures: ChallengeKBA's wrong answers
// count against the user's security answers, a budget the factor shares
// with package questions; authn's ResetLimits forgives it too.
func TestResetLimitsForgivesEveryFactorsFailures(t *testing.T) {
	f := newLimitedFixture(t, authn.Options{}, challenge.Limits{SubjectFailures: challenge.Rate{Events: 2, Per: 24 * time.Hour}})
	ctx := context.Background()
	guess := func() (*authn.Response, error) {
		r := f.init(t, f.begin(t, "alice"), kba.Key)
		return f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "not the answer")
	}
	for range 2 {
		if r, err := guess(); err != nil || !r.Wrong {
			t.Fatalf("a wrong answer: %+v, %v", r, err)
		}
	}
	if _, err := guess(); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("past the cap: %v; want ErrThrottled", err)
	}
	if err := f.svc.ResetLimits(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if r, err := guess(); err != nil || !r.Wrong {
		t.Fatalf("after ResetLimits: %+v, %v; want the answer checked", r, err)
	}
}

// TestSecurityAnswersHaveOneBudgetWhicheverChallengeAsks: wrong answers to
// alice's security questions through ChallengeKBA spend the budget her
// questions' own verifications are held to, and the other way round.
func TestSecurityAnswersHaveOneBudgetWhicheverChallengeAsks(t *testing.T) {
	f := newLimitedFixture(t, authn.Options{}, challenge.Limits{SubjectFailures: challenge.Rate{Events: 2, Per: 24 * time.Hour}})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), kba.Key)
	if w, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "not the answer"); err != nil || !w.Wrong {
		t.Fatalf("a wrong answer through ChallengeKBA: %+v, %v", w, err)
	}
	v, err := f.qs.StartVerification(ctx, akanaAlice, challenge.Origin{Caller: "app", Source: "ip:203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.qs.Answer(ctx, v.ID, "not the answer"); !errors.Is(err, questions.ErrWrongAnswer) {
		t.Fatalf("a wrong answer to her verification: %v; want ErrWrongAnswer", err)
	}
	// Two failures in all: the cap is reached for both kinds of challenge.
	if _, err := f.qs.Answer(ctx, v.ID, "not the answer"); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("a third answer to her verification: %v; want ErrThrottled", err)
	}
	r = f.init(t, f.begin(t, "alice"), kba.Key)
	if _, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "not the answer"); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("a third answer through ChallengeKBA: %v; want ErrThrottled", err)
	}
}
