package questions_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/questions"
)

type fixture struct {
	svc   *questions.Service
	clock *challengetest.FakeClock
	logs  *challengetest.LogBuffer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, fastParams, zerolog.DebugLevel)
}

// newFixtureWith is newFixture with other argon2id parameters and log level
// (benchmarks log nothing, so that they measure the flow, not a buffer).
func newFixtureWith(t testing.TB, params questions.Params, level zerolog.Level) *fixture {
	t.Helper()
	f := &fixture{clock: challengetest.NewClock(), logs: &challengetest.LogBuffer{}}
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = questions.NewService(store, questions.Options{Params: params, Engine: challenge.EngineOptions{Clock: f.clock, Logger: zerolog.New(f.logs).Level(level)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutCatalog(context.Background(), business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) enrollAlice(t testing.TB) {
	t.Helper()
	if _, err := f.svc.Enroll(context.Background(), alice, aliceAnswers()); err != nil {
		t.Fatal(err)
	}
}

// answerFor returns alice's answer to a question, as she might type it.
func answerFor(code string) string {
	for _, a := range aliceAnswers() {
		if a.ChallengeCode == code {
			return "  " + strings.ToUpper(a.Answer) + " " // normalization forgives case and spaces
		}
	}
	return ""
}

func TestEnrollStoresAndEchoesButNeverReturnsAnswers(t *testing.T) {
	f := newFixture(t)
	answers := aliceAnswers()
	for i := range answers {
		answers[i].UserID = "" // entries may leave the user out
	}
	echo, err := f.svc.Enroll(context.Background(), alice, answers)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(echo, aliceAnswers()) {
		t.Fatalf("echo %+v, want the answers with the user's ID", echo)
	}
	got, err := f.svc.Enrolled(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	want := []questions.EnrolledQuestion{
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.city.birth", ChallengeQuestion: "What is the city of your birth?"},
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.color", ChallengeQuestion: "What is your favorite color?"},
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.pet", ChallengeQuestion: "What is the name of your pet?"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Enrolled = %+v", got)
	}
	if none, err := f.svc.Enrolled(context.Background(), bob); err != nil || len(none) != 0 {
		t.Fatalf("Enrolled(bob) = %v, %v; want none", none, err)
	}
}

func TestEnrollIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	v, err := f.svc.StartVerification(context.Background(), alice, challenge.Origin{Caller: "test"})
	if err != nil {
		t.Fatal(err)
	}
	bad := aliceAnswers()
	bad[0].Answer = "Paris" // fine
	bad[2].Answer = "x"     // too short: the whole update must be refused
	_, err = f.svc.Enroll(context.Background(), alice, bad)
	var re *questions.RuleError
	if !errors.As(err, &re) || !errors.Is(err, questions.ErrInvalid) || len(re.Violations) != 1 || re.Violations[0].Entry != 2 {
		t.Fatalf("Enroll with one bad answer: %v", err)
	}
	// The old answers still verify: nothing of the refused set was stored.
	for v.Question != nil {
		if v, err = f.svc.Answer(context.Background(), v.ID, answerFor(v.Question.ChallengeCode)); err != nil {
			t.Fatalf("old answer after a refused update: %v", err)
		}
	}
	if v.Status != questions.StateVerified {
		t.Fatalf("status %s", v.Status)
	}
}

func TestEnrollRefusesUnknownBusinessesAndBadIDs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Enroll(ctx, "someone.otherbusiness", aliceAnswers()); !errors.Is(err, questions.ErrUnknownBusiness) {
		t.Errorf("other business: %v", err)
	}
	if _, err := f.svc.Enroll(ctx, "nodot", aliceAnswers()); !errors.Is(err, questions.ErrUnknownBusiness) {
		t.Errorf("no business suffix: %v", err)
	}
	if _, err := f.svc.Enroll(ctx, strings.Repeat("x", 200)+".acmepaymentscorp", aliceAnswers()); !errors.Is(err, questions.ErrInvalid) {
		t.Errorf("overlong user ID: %v", err)
	}
	if _, err := f.svc.Catalog(ctx, "nobody"); !errors.Is(err, questions.ErrUnknownBusiness) {
		t.Errorf("Catalog(unknown): %v", err)
	}
}

func TestVerificationWithRightAnswers(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	ctx := context.Background()
	v, err := f.svc.StartVerification(ctx, alice, challenge.Origin{Caller: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != questions.StateAsked || v.Needed != 2 || v.Right != 0 || v.Question == nil || v.AttemptsLeft != 3 {
		t.Fatalf("started %+v", v)
	}
	asked := map[string]bool{}
	for v.Question != nil {
		if asked[v.Question.ChallengeCode] {
			t.Fatalf("question %s asked twice", v.Question.ChallengeCode)
		}
		asked[v.Question.ChallengeCode] = true
		if v, err = f.svc.Answer(ctx, v.ID, answerFor(v.Question.ChallengeCode)); err != nil {
			t.Fatal(err)
		}
	}
	if v.Status != questions.StateVerified || v.Right != 2 {
		t.Fatalf("after two right answers: %+v", v)
	}
	if _, err := f.svc.Answer(ctx, v.ID, "anything"); !errors.Is(err, challenge.ErrFinal) {
		t.Fatalf("answering a verified challenge: %v; want ErrFinal", err)
	}
}

func TestVerificationLocksAfterTheBudget(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	ctx := context.Background()
	v, _ := f.svc.StartVerification(ctx, alice, challenge.Origin{Caller: "test"})
	for i := 1; i <= 3; i++ {
		_, err := f.svc.Answer(ctx, v.ID, "wrong guess")
		if !errors.Is(err, questions.ErrWrongAnswer) || errors.Is(err, challenge.ErrLocked) != (i == 3) {
			t.Fatalf("wrong answer %d: %v", i, err)
		}
		if i < 3 {
			if got, _ := f.svc.Verification(ctx, v.ID); got.AttemptsLeft != 3-i {
				t.Fatalf("after %d wrong answers: %d attempts left", i, got.AttemptsLeft)
			}
		}
	}
	got, err := f.svc.Verification(ctx, v.ID)
	if err != nil || got.Status != questions.StateLocked || got.Question != nil {
		t.Fatalf("after the budget: %+v, %v", got, err)
	}
	if _, err := f.svc.Answer(ctx, v.ID, answerFor("com.soa.challenge.question.color")); !errors.Is(err, challenge.ErrLocked) {
		t.Fatalf("a right answer after the lock: %v; want ErrLocked", err)
	}
}

func TestVerificationExpires(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	v, _ := f.svc.StartVerification(context.Background(), alice, challenge.Origin{Caller: "test"})
	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.Answer(context.Background(), v.ID, answerFor(v.Question.ChallengeCode)); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("answer after expiry: %v", err)
	}
}

func TestVerificationNeedsAnEnrollment(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.StartVerification(context.Background(), bob, challenge.Origin{Caller: "test"}); !errors.Is(err, questions.ErrNotEnrolled) {
		t.Fatalf("StartVerification(bob): %v", err)
	}
	f.enrollAlice(t)
	v, _ := f.svc.StartVerification(context.Background(), alice, challenge.Origin{Caller: "test"})
	if got, err := f.svc.Abandon(context.Background(), v.ID); err != nil || got.Status != questions.StateFailed {
		t.Fatalf("Abandon = %+v, %v", got, err)
	}
}

// TestNoAnswerReachesTheLogs drives an enrollment, a refused enrollment and
// a verification with right and wrong answers, logging at debug level.
func TestNoAnswerReachesTheLogs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.enrollAlice(t)
	bad := aliceAnswers()
	bad[1].Answer = "Turquoise-Secret-Z"
	bad[2].Answer = "q"
	_, _ = f.svc.Enroll(ctx, alice, bad)
	v, _ := f.svc.StartVerification(ctx, alice, challenge.Origin{Caller: "test"})
	_, _ = f.svc.Answer(ctx, v.ID, "Wrong-Guess-Q")
	_, _ = f.svc.Answer(ctx, v.ID, answerFor(v.Question.ChallengeCode))
	logs := strings.ToLower(f.logs.String())
	if !strings.Contains(logs, "questions_verification") {
		t.Fatalf("nothing was logged; the test would prove nothing:\n%s", logs)
	}
	for _, secret := range []string{"dubai", "blue", "bucktastic", "turquoise-secret-z", "wrong-guess-q", "$argon2id$"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
	}
}

// TestConcurrentUpdatesLoseNone: updates of different questions racing
// each other are each applied whole, and none is lost.
func TestConcurrentUpdatesLoseNone(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	ctx := context.Background()
	sets := [][]questions.Answer{
		{{ChallengeCode: "com.soa.challenge.question.mothers.name", Answer: "Smith"}, {ChallengeCode: "com.soa.challenge.question.color", Answer: "Green"}},
		{{ChallengeCode: "com.soa.challenge.question.school", Answer: "Lincoln"}, {ChallengeCode: "com.soa.challenge.question.pet", Answer: "Rex"}},
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := f.svc.Enroll(ctx, alice, sets[i%2]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := f.svc.Enrolled(ctx, alice); len(got) != 5 {
		t.Fatalf("after concurrent updates alice has %d answers, want 5: %+v", len(got), got)
	}
	for _, a := range append(append([]questions.Answer{aliceAnswers()[0]}, sets[0]...), sets[1]...) {
		if ok, err := f.svc.CheckAnswer(ctx, alice, a.ChallengeCode, a.Answer); err != nil || !ok {
			t.Errorf("the answer to %s was lost: %v, %v", a.ChallengeCode, ok, err)
		}
	}
}

func TestCatalogIsTheCallersToChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.svc.Catalog(ctx, business)
	if err != nil {
		t.Fatal(err)
	}
	want := demoCatalog()
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("catalog %+v; want %+v", *c, want)
	}
	c.Questions[0].ChallengeQuestion = "changed"
	*c.Questions[0].MinimumLength = 99
	*c.Questions[1].IsCaseSensitive = true
	c.Questions = c.Questions[:1]
	again, err := f.svc.Catalog(ctx, business)
	if err != nil || !reflect.DeepEqual(*again, want) {
		t.Fatalf("after a caller changed its copy: %+v, %v", again, err)
	}
	f.enrollAlice(t) // enrollment checks the rules of the stored catalog, not the caller's copy
}

// ViewCatalog lends the catalog Catalog copies, answers an unknown
// business as Catalog does, and returns its function's error as it is.
func TestViewCatalogLendsWhatCatalogCopies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var lent questions.Catalog
	if err := f.svc.ViewCatalog(ctx, business, func(c *questions.Catalog) error {
		lent = *c
		return nil
	}); err != nil || !reflect.DeepEqual(lent, demoCatalog()) {
		t.Fatalf("ViewCatalog lent %+v, %v; want the demo catalog", lent, err)
	}
	errFn := errors.New("does not encode")
	if err := f.svc.ViewCatalog(ctx, business, func(*questions.Catalog) error { return errFn }); err != errFn {
		t.Fatalf("ViewCatalog = %v; want fn's error as it is", err)
	}
	if err := f.svc.ViewCatalog(ctx, "nobody", func(*questions.Catalog) error {
		t.Fatal("fn called for an unknown business")
		return nil
	}); !errors.Is(err, questions.ErrUnknownBusiness) {
		t.Fatalf("ViewCatalog(unknown) = %v; want ErrUnknownBusiness", err)
	}
}

// TestACatalogStoredElsewhereIsSeenAtOnce: two services over one store, as
// two servers of a fleet. Each decodes a catalog once, but a catalog the
// other stored is never answered from what was decoded before: whether
// the store stamps its records, so that an unchanged one is not read
// again, or lends it on every read.
func TestACatalogStoredElsewhereIsSeenAtOnce(t *testing.T) {
	for name, wrap := range map[string]func(*challenge.MemoryStore) challenge.Store{
		"stamping store":               func(m *challenge.MemoryStore) challenge.Store { return m },
		"store with View but no stamp": func(m *challenge.MemoryStore) challenge.Store { return viewOnly{m} },
		"store with neither":           func(m *challenge.MemoryStore) challenge.Store { return struct{ challenge.Store }{m} },
	} {
		t.Run(name, func(t *testing.T) {
			mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			catalogStoredElsewhere(t, wrap(mem))
		})
	}
}

// viewOnly hides its store's ViewChanged, as pgstore has none.
type viewOnly struct{ *challenge.MemoryStore }

func (v viewOnly) ViewChanged() {} // not challenge.ChangeViewer's

// lending counts the records its store lends to View's and ViewChanged's
// functions.
type lending struct {
	*challenge.MemoryStore
	lent *atomic.Int64
}

func (l lending) ViewChanged(ctx context.Context, kind, id, seen string, fn func(*challenge.Record) error) (string, error) {
	return l.MemoryStore.ViewChanged(ctx, kind, id, seen, func(rec *challenge.Record) error {
		l.lent.Add(1)
		return fn(rec)
	})
}

// TestAnUnchangedCatalogIsNotLentAgain: over a store that stamps its
// records, reading a catalog again costs no copy of it while it is
// unchanged; one stored again (even as it was) is read once more.
func TestAnUnchangedCatalogIsNotLentAgain(t *testing.T) {
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := lending{mem, new(atomic.Int64)}
	svc, _ := questions.NewService(store, questions.Options{Params: fastParams})
	ctx := context.Background()
	if _, err := svc.PutCatalog(ctx, business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	read := func(times int) int64 {
		t.Helper()
		before := store.lent.Load()
		for range times {
			if c, err := svc.Catalog(ctx, business); err != nil || len(c.Questions) != 5 {
				t.Fatalf("Catalog = %v, %v", c, err)
			}
		}
		return store.lent.Load() - before
	}
	if n := read(3); n != 1 {
		t.Fatalf("three reads of a catalog were lent it %d times; want once, the first", n)
	}
	if _, err := svc.PutCatalog(ctx, business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	if n := read(3); n != 1 {
		t.Fatalf("after the catalog was stored again, three reads were lent it %d times; want once", n)
	}
}

func catalogStoredElsewhere(t *testing.T, store challenge.Store) {
	ctx := context.Background()
	a, _ := questions.NewService(store, questions.Options{Params: fastParams})
	b, _ := questions.NewService(store, questions.Options{Params: fastParams})
	if _, err := a.PutCatalog(ctx, business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	if c, err := b.Catalog(ctx, business); err != nil || len(c.Questions) != 5 {
		t.Fatalf("b reads %v, %v", c, err)
	}
	smaller := demoCatalog()
	smaller.Questions, smaller.RequiredAnswers = smaller.Questions[:3], 2
	for _, put := range []questions.Catalog{demoCatalog(), smaller} { // the same catalog again, then another
		if _, err := a.PutCatalog(ctx, business, put); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if c, err := b.Catalog(ctx, business); err != nil || !reflect.DeepEqual(*c, put) {
				t.Fatalf("b reads %+v, %v after a stored a catalog of %d questions", c, err, len(put.Questions))
			}
		}
	}
	// b's rules follow too: two answers now suffice.
	if _, err := b.Enroll(ctx, alice, aliceAnswers()[:2]); err != nil {
		t.Fatalf("enrolling under the new catalog: %v", err)
	}
}

// clobbering lends copies of its store's records and overwrites them once
// the function returns, as a store that reuses its buffers may: whatever
// a reader keeps of a lent record must be its own copy.
type clobbering struct{ *challenge.MemoryStore }

func (c clobbering) View(ctx context.Context, kind, id string, fn func(*challenge.Record) error) error {
	return c.MemoryStore.View(ctx, kind, id, func(rec *challenge.Record) error {
		lent := rec.Clone()
		err := fn(lent)
		for i := range lent.Data {
			lent.Data[i] = 0xFF
		}
		return err
	})
}

func (c clobbering) ViewChanged(context.Context) {} // hides the store's: every read goes through View

// TestEnrollmentsReadFromLentRecordsKeepNothingOfThem: the questions a
// user enrolled in, and the check of an answer against its hash, come out
// right from a store whose lent records are overwritten after each read.
func TestEnrollmentsReadFromLentRecordsKeepNothingOfThem(t *testing.T) {
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := questions.NewService(clobbering{mem}, questions.Options{Params: fastParams})
	ctx := context.Background()
	if _, err := svc.PutCatalog(ctx, business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Enroll(ctx, alice, aliceAnswers()); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Enrolled(ctx, alice)
	if err != nil || len(got) != 3 {
		t.Fatalf("Enrolled = %v, %v", got, err)
	}
	for _, q := range got {
		if q.ChallengeQuestion == "" || strings.Contains(q.ChallengeCode, "\xff") {
			t.Errorf("enrolled question %+v: text or code lost with the lent record", q)
		}
		ok, err := svc.CheckAnswer(ctx, alice, q.ChallengeCode, answerFor(q.ChallengeCode))
		if err != nil || !ok {
			t.Errorf("CheckAnswer(%s, right answer) = %v, %v", q.ChallengeCode, ok, err)
		}
	}
}
