// Package factortest checks that an [authn.Factor] keeps the contract
// written on it: run inside a transaction whose steps can run more than
// once, a right answer is accepted exactly once, a wrong one is counted
// exactly once, and nothing is sent twice.
//
// Run drives the factor through an [authn.Service] on a store that loses
// races on demand ([challengetest.RacingStore]): at every step of a login
// (Init, each answer, Finalize), the save of the transaction, and in turn
// the save of every record the factor keeps of its own, loses a race once,
// so that the step reads again and runs again. Every factor that ships
// with challengekit passes Run; so must any other:
//
//	func TestMyFactorConforms(t *testing.T) {
//		factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
//			f, err := myfactor.New(cfg.Store, myfactor.Options{Clock: cfg.Clock})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return factortest.Subject{Factor: f, Right: ..., Wrong: ...}
//		})
//	}
package factortest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// UserID is the user the transactions are for.
const UserID = "factortest-user"

// Config is what Run gives the function that makes the factor under test.
type Config struct {
	// Store is where the factor keeps what it keeps beside the
	// transaction. It loses races when Run tells it to.
	Store challenge.Store
	// Clock is the test's clock: the factor must read time from it.
	Clock *challengetest.FakeClock
	// UserID is the user the transactions are for: a factor that needs
	// the user set up elsewhere (enrolled answers) sets them up for this
	// ID, or names another in Subject.Registration.
	UserID string
}

// Subject is a factor under test, and how to drive it.
type Subject struct {
	Factor authn.Factor
	// Registration is the user's registration of the factor (its
	// FactorKey may be left empty).
	Registration authn.Registration
	// Right returns the right answer to what the factor asks now, given
	// the prompts it asked with. Passive factors only.
	Right func(prompts []authn.KeyValue) string
	// Wrong returns an answer that is not right. Passive factors only.
	Wrong func(prompts []authn.KeyValue) string
	// Delivered returns how many deliveries (codes sent, notifications
	// pushed) the factor has made so far; nil for a factor that makes
	// none.
	Delivered func() int
	// OneTime is set for a factor whose right answer is good once: the
	// same answer to another transaction is wrong (a TOTP code, a code
	// sent).
	OneTime bool
}

// maxAttempts is the transactions' budget of wrong answers.
const maxAttempts = 3

// Run checks the factor newSubject makes. Every case makes a fresh one,
// over a fresh store, clock and Limiter, for a user who has logged in
// with it once before (a minute before: the clock moves on).
func Run(t *testing.T, newSubject func(t *testing.T, cfg Config) Subject) {
	t.Helper()
	probe := newEnv(t, newSubject)
	passive := probe.sub.Factor.Passive()
	if passive && (probe.sub.Right == nil || probe.sub.Wrong == nil) {
		t.Fatal("factortest: a passive factor's Subject needs Right and Wrong")
	}
	// A race-free login: how many answers the factor asks for, and which
	// kinds of record each step updates.
	answers, written := probe.login(t, nil)
	for step, kinds := range written {
		for _, kind := range kinds {
			name := fmt.Sprintf("a login whose step %d loses the race to save %s", step+1, kind)
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, newSubject)
				got, _ := e.login(t, &race{kind: kind, step: step})
				if e.store.Lost() != 1 {
					t.Fatalf("factortest: %d saves lost their race; want 1", e.store.Lost())
				}
				if got != answers {
					t.Fatalf("the login took %d right answers; without the race it takes %d", got, answers)
				}
				e.checkNoFailureCounted(t)
			})
		}
	}

	if passive {
		t.Run("a wrong answer whose save loses a race counts once", func(t *testing.T) {
			e := newEnv(t, newSubject)
			r := e.init(t, e.begin(t))
			e.store.LoseNextUpdate(authn.Kind)
			w, err := e.svc.Validate(context.Background(), agentID, r.CorrelationID, r.Nonce, e.sub.Wrong(prompts(r)))
			if err != nil {
				t.Fatalf("a wrong answer: %v; want it answered as wrong", err)
			}
			if e.store.Lost() != 1 {
				t.Fatal("factortest: the transaction's save did not lose its race")
			}
			if !w.Wrong || w.Remaining != maxAttempts-1 {
				t.Fatalf("a wrong answer after a lost race: Wrong %v, %d remaining; want Wrong, %d remaining", w.Wrong, w.Remaining, maxAttempts-1)
			}
			if kept := e.limiter.kept(); kept != 1 {
				t.Fatalf("the Limiter keeps %d failures after one wrong answer; want 1", kept)
			}
			// The factor's state survived: the right answer is accepted.
			ok, err := e.svc.Validate(context.Background(), agentID, w.CorrelationID, w.Nonce, e.sub.Right(prompts(w)))
			if err != nil || ok.Wrong {
				t.Fatalf("the right answer after a wrong one: %+v, %v", ok, err)
			}
		})

		t.Run("answering delivers nothing", func(t *testing.T) {
			e := newEnv(t, newSubject)
			r := e.init(t, e.begin(t))
			before := e.delivered()
			e.store.LoseNextUpdate(authn.Kind)
			w, err := e.svc.Validate(context.Background(), agentID, r.CorrelationID, r.Nonce, e.sub.Wrong(prompts(r)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Validate(context.Background(), agentID, w.CorrelationID, w.Nonce, e.sub.Right(prompts(w))); err != nil {
				t.Fatal(err)
			}
			if n := e.delivered() - before; n != 0 {
				t.Fatalf("answering delivered %d times; want none", n)
			}
		})

		t.Run("a wrong answer is no error, and the budget runs out", func(t *testing.T) {
			e := newEnv(t, newSubject)
			r := e.init(t, e.begin(t))
			for i := 1; i <= maxAttempts; i++ {
				w, err := e.svc.Validate(context.Background(), agentID, r.CorrelationID, r.Nonce, e.sub.Wrong(prompts(r)))
				if err != nil || !w.Wrong || w.Remaining != maxAttempts-i {
					t.Fatalf("wrong answer %d: %+v, %v; want Wrong with %d remaining", i, w, err, maxAttempts-i)
				}
				r = w
			}
			if r.State != authn.StateBlocked {
				t.Fatalf("after %d wrong answers the transaction is %q; want blocked", maxAttempts, r.State)
			}
		})
	} else {
		t.Run("a factor that is not passive checks no answer and counts nothing", func(t *testing.T) {
			e := newEnv(t, newSubject)
			r := e.init(t, e.begin(t))
			if _, err := e.svc.Validate(context.Background(), agentID, r.CorrelationID, r.Nonce, "anything"); err == nil {
				t.Fatal("Validate of a factor that is not passive succeeded")
			}
			if n := e.limiter.charged(); n != 0 {
				t.Fatalf("Validate of a factor that is not passive charged the Limiter %d times", n)
			}
		})
	}

	if probe.sub.OneTime {
		t.Run("a right answer is good once", func(t *testing.T) {
			e := newEnv(t, newSubject)
			r := e.init(t, e.begin(t))
			answer := e.sub.Right(prompts(r))
			e.store.LoseNextUpdate(authn.Kind)
			ok, err := e.svc.Validate(context.Background(), agentID, r.CorrelationID, r.Nonce, answer)
			e.store.Calm()
			if err != nil || ok.Wrong {
				t.Fatalf("the right answer: %+v, %v", ok, err)
			}
			other := e.init(t, e.begin(t))
			again, err := e.svc.Validate(context.Background(), agentID, other.CorrelationID, other.Nonce, answer)
			if err != nil || !again.Wrong {
				t.Fatalf("the same answer to another transaction: %+v, %v; want it wrong", again, err)
			}
		})
	}
}

// agentID is the agent that runs the transactions.
const agentID = "factortest-agent"

// race names the step of a login whose save of a record of kind loses
// its race (0 is Init; the last is Finalize).
type race struct {
	kind string
	step int
}

type env struct {
	svc     *authn.Service
	store   *challengetest.RacingStore
	clock   *challengetest.FakeClock
	limiter *countingLimiter
	sub     Subject
}

func newEnv(t *testing.T, newSubject func(t *testing.T, cfg Config) Subject) *env {
	t.Helper()
	clock := challengetest.NewClock()
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	store := challengetest.NewRacingStore(mem)
	sub := newSubject(t, Config{Store: store, Clock: clock, UserID: UserID})
	if sub.Factor == nil {
		t.Fatal("factortest: the Subject has no Factor")
	}
	ml, err := challenge.NewMemoryLimiter(challenge.Limits{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	limiter := &countingLimiter{Limiter: ml}
	reg := sub.Registration
	if reg.FactorKey == "" {
		reg.FactorKey = sub.Factor.Key()
	}
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{UserID: {reg}})
	svc, err := authn.NewService(store, registry, []authn.Factor{sub.Factor},
		authn.Options{Engine: challenge.EngineOptions{Clock: clock, Limiter: limiter, MaxAttempts: maxAttempts}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, store: store, clock: clock, limiter: limiter, sub: sub}
	// A login before, so that the records a factor keeps across
	// logins exist and are updated, not created, by the logins tested.
	e.login(t, nil)
	clock.Advance(time.Minute)
	return e
}

func (e *env) delivered() int {
	if e.sub.Delivered == nil {
		return 0
	}
	return e.sub.Delivered()
}

func (e *env) begin(t *testing.T) *authn.Response {
	t.Helper()
	r, err := e.svc.Begin(context.Background(), authn.BeginRequest{ClientID: agentID, UserID: UserID})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) init(t *testing.T, r *authn.Response) *authn.Response {
	t.Helper()
	r, err := e.svc.Init(context.Background(), agentID, r.CorrelationID, r.Nonce, e.sub.Factor.Key(), nil)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return r
}

// login runs a whole login, answering right until the factor is
// satisfied, with the race, if any, at its step. It returns how many
// answers it took, and the kinds of record each step wrote.
func (e *env) login(t *testing.T, r *race) (answers int, written [][]string) {
	t.Helper()
	var before map[string]int
	arm := func() {
		before = map[string]int{}
		for _, k := range e.store.Kinds() {
			before[k] = e.store.Updates(k)
		}
		if r != nil && r.step == len(written) {
			e.store.LoseNextUpdate(r.kind)
		}
	}
	done := func() {
		e.store.Calm()
		var kinds []string
		for _, k := range e.store.Kinds() {
			if e.store.Updates(k) > before[k] {
				kinds = append(kinds, k)
			}
		}
		written = append(written, kinds)
	}
	ctx := context.Background()
	deliveredBefore := e.delivered()
	resp := e.begin(t)
	arm()
	resp = e.init(t, resp)
	done()
	if e.sub.Delivered != nil && e.delivered()-deliveredBefore != 1 {
		t.Fatalf("Init delivered %d times; want once", e.delivered()-deliveredBefore)
	}
	for e.sub.Factor.Passive() && resp.State == authn.StateInitiated {
		if answers > 16 {
			t.Fatal("the factor asked for more than 16 right answers")
		}
		arm()
		next, err := e.svc.Validate(ctx, agentID, resp.CorrelationID, resp.Nonce, e.sub.Right(prompts(resp)))
		done()
		if err != nil {
			t.Fatalf("right answer %d: %v", answers+1, err)
		}
		if next.Wrong {
			t.Fatalf("right answer %d came back wrong", answers+1)
		}
		resp = next
		answers++
	}
	arm()
	final, err := e.svc.Finalize(ctx, agentID, resp.CorrelationID, resp.Nonce, authn.ResultSuccess, "")
	done()
	if err != nil {
		t.Fatalf("Finalize Success after %d right answers: %v", answers, err)
	}
	if final.State != authn.StateAuthenticated || final.Remaining != maxAttempts {
		t.Fatalf("after the login: state %q, %d remaining; want authenticated with the whole budget", final.State, final.Remaining)
	}
	if e.sub.Delivered != nil && e.delivered()-deliveredBefore != 1 {
		t.Fatalf("the login delivered %d times; want once", e.delivered()-deliveredBefore)
	}
	return answers, written
}

func (e *env) checkNoFailureCounted(t *testing.T) {
	t.Helper()
	if kept := e.limiter.kept(); kept != 0 {
		t.Fatalf("the Limiter keeps %d failures after a login with right answers only", kept)
	}
}

func prompts(r *authn.Response) []authn.KeyValue {
	if len(r.Challenges) == 0 {
		return nil
	}
	return r.Challenges[0].Prompts
}

// countingLimiter counts the Limiter's charges and refunds.
type countingLimiter struct {
	challenge.Limiter
	mu       sync.Mutex
	attempts []string // charge IDs
	refunds  []string
}

func (c *countingLimiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	err := c.Limiter.Attempt(ctx, a)
	if err == nil {
		c.mu.Lock()
		c.attempts = append(c.attempts, a.ID)
		c.mu.Unlock()
	}
	return err
}

func (c *countingLimiter) Refund(ctx context.Context, a challenge.Attempt) error {
	err := c.Limiter.Refund(ctx, a)
	if err == nil {
		c.mu.Lock()
		if !slices.Contains(c.refunds, a.ID) {
			c.refunds = append(c.refunds, a.ID)
		}
		c.mu.Unlock()
	}
	return err
}

func (c *countingLimiter) charged() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.attempts)
}

// kept is how many charges were not refunded: failures.
func (c *countingLimiter) kept() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range c.attempts {
		if !slices.Contains(c.refunds, id) {
			n++
		}
	}
	return n
}
