package authn_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/push"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/questions"
)

const (
	agent      = "demo-agent"
	totpSecret = "JBSWY3DPEHPK3PXP"
	akanaAlice = "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp"
)

// outbox records what the Sender and Notifier were asked to deliver.
type outbox struct {
	mu     sync.Mutex
	codes  []string
	pushes []string
}

func (o *outbox) SendCode(_ context.Context, _, _, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, code)
	return nil
}

func (o *outbox) Notify(_ context.Context, userID string, _ authn.Registration, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pushes = append(o.pushes, userID)
	return nil
}

func (o *outbox) lastCode() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.codes[len(o.codes)-1]
}

type fixture struct {
	svc   *authn.Service
	qs    *questions.Service
	store *challenge.MemoryStore
	clock *challengetest.FakeClock
	box   *outbox
	logs  *challengetest.LogBuffer
}

func newFixture(t testing.TB, opts authn.Options) *fixture {
	t.Helper()
	return newFixtureLogging(t, opts, zerolog.DebugLevel)
}

// newFixtureLogging is newFixture logging at level (benchmarks log
// nothing, so that they measure the flow, not a growing buffer).
func newFixtureLogging(t testing.TB, opts authn.Options, level zerolog.Level) *fixture {
	t.Helper()
	return buildFixture(t, opts, level, nil)
}

// newLimitedFixture is newFixture with a memory Limiter of limits on the
// fixture's clock.
func newLimitedFixture(t testing.TB, opts authn.Options, limits challenge.Limits) *fixture {
	t.Helper()
	return buildFixture(t, opts, zerolog.DebugLevel, &limits)
}

func buildFixture(t testing.TB, opts authn.Options, level zerolog.Level, limits *challenge.Limits) *fixture {
	t.Helper()
	f := &fixture{clock: challengetest.NewClock(), box: &outbox{}, logs: &challengetest.LogBuffer{}}
	if limits != nil {
		l, err := challenge.NewMemoryLimiter(*limits, f.clock)
		if err != nil {
			t.Fatal(err)
		}
		opts.Engine.Limiter = l
	}
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	logger := zerolog.New(f.logs).Level(level)
	qs, err := questions.NewService(store, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, Engine: challenge.EngineOptions{Clock: f.clock, Logger: logger, Limiter: opts.Engine.Limiter}})
	if err != nil {
		t.Fatal(err)
	}
	min3 := 3
	q := func(code, text string) questions.Question {
		return questions.Question{ChallengeCode: code, ChallengeQuestion: text, MinimumLength: &min3}
	}
	ctx := context.Background()
	if _, err := qs.PutCatalog(ctx, "acmepaymentscorp", questions.Catalog{Questions: []questions.Question{
		q("city", "What is the city of your birth?"), q("color", "What is your favorite color?"), q("pet", "What is the name of your pet?")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := qs.Enroll(ctx, akanaAlice, []questions.Answer{{ChallengeCode: "city", Answer: "Dubai"},
		{ChallengeCode: "color", Answer: "Blue"}, {ChallengeCode: "pet", Answer: "Bucktastic"}}); err != nil {
		t.Fatal(err)
	}
	totpFactor, err := totp.New(store, totp.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	email, err := otpcode.New(otpcode.EmailKey, f.box, []byte(strings.Repeat("k", 32)), otpcode.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := otpcode.New(otpcode.SMSKey, f.box, []byte(strings.Repeat("k", 32)), otpcode.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	kbaFactor, _ := kba.New(qs)
	pushFactor, _ := push.New(f.box)
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{
		"alice": {
			{FactorKey: totp.Key, Secret: totpSecret, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Phone"}}},
			{FactorKey: kba.Key, Subject: akanaAlice},
			{FactorKey: push.Key, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Phone"}}},
		},
		"bob":   {{FactorKey: otpcode.EmailKey, Destination: "bob@example.com"}},
		"carol": nil,
		"dave":  {{FactorKey: otpcode.SMSKey, Destination: "+4915112345678"}},
		"erin":  {{FactorKey: kba.Key, Subject: "erin.acmepaymentscorp"}}, // registered, never enrolled
	})
	opts.Engine.Clock, opts.Engine.Logger = f.clock, logger
	f.qs = qs
	f.svc, err = authn.NewService(store, registry, []authn.Factor{totpFactor, email, sms, kbaFactor, pushFactor}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) begin(t testing.TB, user string) *authn.Response {
	t.Helper()
	r, err := f.svc.Begin(context.Background(), authn.BeginRequest{ClientID: agent, UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) init(t testing.TB, r *authn.Response, key string) *authn.Response {
	t.Helper()
	r, err := f.svc.Init(context.Background(), agent, r.CorrelationID, r.Nonce, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) code(t testing.TB) string {
	t.Helper()
	code, err := otptotp.GenerateCode(totpSecret, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestBeginKnowsTheUserAndTheirFactors(t *testing.T) {
	f := newFixture(t, authn.Options{})
	alice := f.begin(t, "alice")
	if alice.State != authn.StateCreated || !alice.Known || !alice.Registered || len(alice.Challenges) != 3 || alice.Nonce == "" || alice.Remaining != 3 {
		t.Fatalf("alice: %+v", alice)
	}
	if c := alice.Challenges[0]; c.FactorKey != totp.Key || !c.Passive || c.Attributes[0] != (authn.KeyValue{Key: "deviceName", Value: "Phone"}) {
		t.Fatalf("alice's first factor: %+v", c)
	}
	if c := alice.Challenges[2]; c.FactorKey != push.Key || c.Passive {
		t.Fatalf("push is not passive: %+v", c)
	}
	for user, known := range map[string]bool{"carol": true, "mallory": false, "": false} {
		if r := f.begin(t, user); r.State != authn.StateCreated || r.Known != known || r.Registered || len(r.Challenges) != 0 {
			t.Errorf("Begin(%q) = %+v, want known %v and no factor", user, r, known)
		}
	}
}

func TestTOTPFlow(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	if r.State != authn.StateInitiated || len(r.Challenges) != 1 || r.Challenges[0].Prompts[0].Key != "otp" {
		t.Fatalf("Init: %+v", r)
	}
	r, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, f.code(t))
	if err != nil || r.State != authn.StateValidated || r.Wrong || len(r.Challenges[0].Prompts) != 0 {
		t.Fatalf("Validate: %+v, %v", r, err)
	}
	r, err = f.svc.Finalize(context.Background(), agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, "")
	if err != nil || r.State != authn.StateAuthenticated {
		t.Fatalf("Finalize: %+v, %v", r, err)
	}
	if _, err := f.svc.Finalize(context.Background(), agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); !errors.Is(err, authn.ErrClosed) {
		t.Fatalf("an authenticated transaction took another operation: %v", err)
	}
}

func TestATOTPCodeIsAcceptedOnce(t *testing.T) {
	f := newFixture(t, authn.Options{})
	code := f.code(t)
	first := f.init(t, f.begin(t, "alice"), totp.Key)
	if r, err := f.svc.Validate(context.Background(), agent, first.CorrelationID, first.Nonce, code); err != nil || r.Wrong || r.State != authn.StateValidated {
		t.Fatalf("first use: %+v, %v", r, err)
	}
	second := f.init(t, f.begin(t, "alice"), totp.Key)
	r, err := f.svc.Validate(context.Background(), agent, second.CorrelationID, second.Nonce, code)
	if err != nil || !r.Wrong {
		t.Fatalf("the same code in another transaction: %+v, %v; want a wrong answer", r, err)
	}
	f.clock.Advance(30 * time.Second)
	if r, err = f.svc.Validate(context.Background(), agent, second.CorrelationID, r.Nonce, f.code(t)); err != nil || r.Wrong {
		t.Fatalf("the next step's code: %+v, %v", r, err)
	}
}

func TestWrongAnswersUntilBlocked(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	for i := 1; i <= 3; i++ {
		next, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, "000000")
		if err != nil {
			t.Fatalf("wrong answer %d: %v", i, err)
		}
		if next.Nonce == r.Nonce || next.Nonce == "" {
			t.Fatalf("wrong answer %d did not rotate the nonce", i)
		}
		want := authn.StateInitiated
		if i == 3 {
			want = authn.StateBlocked
		}
		if next.State != want || !next.Wrong || next.Remaining != 3-i {
			t.Fatalf("wrong answer %d: %+v, want state %q, Wrong, %d remaining", i, next, want, 3-i)
		}
		r = next
	}
	if _, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, f.code(t)); !errors.Is(err, authn.ErrClosed) {
		t.Fatalf("a right answer after the block: %v; want ErrClosed", err)
	}
}

func TestNonces(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	begun := f.begin(t, "alice")
	r := f.init(t, begun, totp.Key)
	for name, nonce := range map[string]string{"replayed": begun.Nonce, "missing": "", "made up": "x"} {
		_, err := f.svc.Validate(ctx, agent, r.CorrelationID, nonce, f.code(t))
		if !errors.Is(err, challenge.ErrStaleNonce) {
			t.Fatalf("%s nonce: %v; want ErrStaleNonce", name, err)
		}
	}
	if _, err := f.svc.Finalize(ctx, agent, r.CorrelationID, begun.Nonce, authn.ResultSuccess, ""); !errors.Is(err, challenge.ErrStaleNonce) {
		t.Fatalf("Finalize with a replayed nonce: %v", err)
	}
	// The refusals rotated nothing: the latest nonce still works, once.
	v, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, f.code(t))
	if err != nil {
		t.Fatalf("the latest nonce after refusals: %v", err)
	}
	if _, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); !errors.Is(err, challenge.ErrStaleNonce) {
		t.Fatalf("a used nonce authenticated: %v", err)
	}
	if _, err := f.svc.Init(ctx, agent, r.CorrelationID, begun.Nonce, totp.Key, nil); !errors.Is(err, challenge.ErrStaleNonce) {
		t.Fatalf("Init with a stale (non-empty) nonce: %v", err)
	}
	if done, err := f.svc.Finalize(ctx, agent, r.CorrelationID, v.Nonce, authn.ResultSuccess, ""); err != nil || done.State != authn.StateAuthenticated {
		t.Fatalf("Finalize with the latest nonce: %+v, %v", done, err)
	}
}

func TestPushIsFinalizedByTheAgent(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), push.Key)
	if len(f.box.pushes) != 1 || f.box.pushes[0] != "alice" {
		t.Fatalf("notifications: %v", f.box.pushes)
	}
	_, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "approve")
	var fe *challenge.FieldError
	if !errors.As(err, &fe) || fe.Field != "challengeop" {
		t.Fatalf("Validate on push: %v; want a challengeop error", err)
	}
	if done, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); err != nil || done.State != authn.StateAuthenticated {
		t.Fatalf("Finalize Success on push: %+v, %v", done, err)
	}
}

func TestFinalizeResults(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	_, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, "")
	var fe *challenge.FieldError
	if !errors.As(err, &fe) || fe.Field != "challengeResult" {
		t.Fatalf("Success before the passive factor is satisfied: %v", err)
	}
	for _, tc := range []struct {
		result authn.Result
		state  challenge.State
	}{
		{authn.ResultFailure, authn.StateFailed},
		{authn.ResultError, authn.StateError},
	} {
		for _, reason := range []authn.Reason{authn.ReasonWrongAnswer, authn.ReasonTooManyAttempts, authn.ReasonChannelCommError,
			authn.ReasonOtherError, authn.ReasonUnavailableForUser, authn.ReasonUserAbandoned, authn.ReasonUserTimedOut} {
			r := f.init(t, f.begin(t, "alice"), push.Key)
			done, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, tc.result, reason)
			if err != nil || done.State != tc.state || done.Reason != reason {
				t.Fatalf("Finalize %s %s: %+v, %v", tc.result, reason, done, err)
			}
		}
		if _, err := f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, tc.result, "because"); !errors.As(err, &fe) || fe.Field != "challengeResultReason" {
			t.Fatalf("Finalize %s without a reason: %v", tc.result, err)
		}
	}
}

func TestEmailCodeFlow(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "bob"), otpcode.EmailKey)
	if !strings.Contains(r.Challenges[0].Prompts[0].Value, "b***@example.com") {
		t.Fatalf("prompt: %+v", r.Challenges[0].Prompts)
	}
	code := f.box.lastCode()
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	v, err := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, code)
	if err != nil || v.Wrong {
		t.Fatalf("right code: %+v, %v", v, err)
	}
	if _, err := f.svc.Validate(ctx, agent, r.CorrelationID, v.Nonce, code); !errors.Is(err, challenge.ErrInvalidRequest) {
		t.Fatalf("the code again: %v; want a refusal", err)
	}
	late := f.init(t, f.begin(t, "bob"), otpcode.EmailKey)
	f.clock.Advance(5 * time.Minute)
	_, err = f.svc.Validate(ctx, agent, late.CorrelationID, late.Nonce, f.box.lastCode())
	if !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("a code after the transaction's TTL: %v", err)
	}
}

func TestKBAFlow(t *testing.T) {
	f := newFixture(t, authn.Options{})
	answers := map[string]string{"city": "dubai", "color": "BLUE", "pet": "Bucktastic"}
	r := f.init(t, f.begin(t, "alice"), kba.Key)
	for range 2 {
		p := r.Challenges[0].Prompts
		if len(p) != 1 || answers[p[0].Key] == "" {
			t.Fatalf("prompts %+v", p)
		}
		var err error
		if r, err = f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, answers[p[0].Key]); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Challenges[0].Prompts) != 0 {
		t.Fatalf("after two right answers: %+v", r)
	}
	if done, err := f.svc.Finalize(context.Background(), agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); err != nil || done.State != authn.StateAuthenticated {
		t.Fatalf("Finalize: %+v, %v", done, err)
	}
}

func TestAuthenticateOnValidate(t *testing.T) {
	f := newFixture(t, authn.Options{AuthenticateOnValidate: true})
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	if r, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, f.code(t)); err != nil || r.State != authn.StateAuthenticated {
		t.Fatalf("Validate: %+v, %v", r, err)
	}
}

func TestExpiryUnknownIDsAndOtherAgents(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.begin(t, "alice")
	if _, err := f.svc.Init(ctx, "other-agent", r.CorrelationID, r.Nonce, totp.Key, nil); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("another agent's transaction: %v; want ErrNotFound", err)
	}
	if _, err := f.svc.Init(ctx, agent, "no-such-id", "", totp.Key, nil); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := f.svc.Init(ctx, agent, r.CorrelationID, r.Nonce, otpcode.EmailKey, nil); !errors.Is(err, challenge.ErrInvalidRequest) {
		t.Fatalf("a factor alice has not registered: %v", err)
	}
	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.Init(ctx, agent, r.CorrelationID, r.Nonce, totp.Key, nil); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("after the TTL: %v", err)
	}
	if _, err := f.svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice", TTL: 2 * time.Hour}); !errors.Is(err, challenge.ErrInvalidRequest) {
		t.Fatalf("a TTL over the maximum: %v", err)
	}
}

func TestNoSecretReachesTheLogs(t *testing.T) {
	f := newFixture(t, authn.Options{})
	ctx := context.Background()
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	code := f.code(t)
	w, _ := f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "135790")
	v, _ := f.svc.Validate(ctx, agent, r.CorrelationID, w.Nonce, code)
	_, _ = f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, code) // a replay, refused
	e := f.init(t, f.begin(t, "bob"), otpcode.EmailKey)
	_, _ = f.svc.Validate(ctx, agent, e.CorrelationID, e.Nonce, f.box.lastCode())
	k := f.init(t, f.begin(t, "alice"), kba.Key)
	_, _ = f.svc.Validate(ctx, agent, k.CorrelationID, k.Nonce, "Dubai")
	logs := f.logs.String()
	if !strings.Contains(logs, `"kind":"authn"`) {
		t.Fatalf("nothing was logged; the test proves nothing")
	}
	for _, secret := range []string{code, "135790", f.box.lastCode(), r.Nonce, w.Nonce, v.Nonce, e.Nonce, totpSecret, "Dubai", "bob@example.com"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestSMSCodeFlow(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.init(t, f.begin(t, "dave"), otpcode.SMSKey)
	if !strings.Contains(r.Challenges[0].Prompts[0].Value, "***5678") {
		t.Fatalf("prompt: %+v", r.Challenges[0].Prompts)
	}
	wrong, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, "1"+f.box.lastCode()[1:]+"0")
	if err != nil || !wrong.Wrong {
		t.Fatalf("a wrong code: %+v, %v", wrong, err)
	}
	v, err := f.svc.Validate(context.Background(), agent, r.CorrelationID, wrong.Nonce, f.box.lastCode())
	if err != nil || v.State != authn.StateValidated || v.Wrong {
		t.Fatalf("the right code: %+v, %v", v, err)
	}
}

// TestRacingRequestsWithOneNonce: eight copies of a Validate with the same
// nonce and the right code race. One is applied. Every other either finds
// it applied and gets its answer (the same status and next nonce), or, if
// it checked its own answer while that one was being saved, is refused as
// stale: an answer is never taken for another's. Only the applied one's
// next nonce can go on.
func TestRacingRequestsWithOneNonce(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.init(t, f.begin(t, "alice"), totp.Key)
	code := f.code(t)
	const n = 8
	results := make([]*authn.Response, n)
	errs := make([]error, n)
	challengetest.Race(n, func(i int) {
		results[i], errs[i] = f.svc.Validate(context.Background(), agent, r.CorrelationID, r.Nonce, code)
	})
	var answered *authn.Response
	for i := range n {
		switch {
		case errors.Is(errs[i], challenge.ErrStaleNonce):
		case errs[i] != nil:
			t.Fatalf("request %d: %v", i, errs[i])
		case answered != nil && results[i].Nonce != answered.Nonce:
			t.Fatalf("requests with one nonce were answered with two next nonces: %+v and %+v", answered, results[i])
		case results[i].State != authn.StateValidated || results[i].Wrong:
			t.Fatalf("request %d: %+v; want the right code accepted", i, results[i])
		default:
			answered = results[i]
		}
	}
	if answered == nil {
		t.Fatal("no request was answered")
	}
	for _, nonce := range []string{r.Nonce, "made-up"} {
		if _, err := f.svc.Finalize(context.Background(), agent, r.CorrelationID, nonce, authn.ResultSuccess, ""); !errors.Is(err, challenge.ErrStaleNonce) {
			t.Fatalf("Finalize with a nonce the race did not hand out: %v", err)
		}
	}
	done, err := f.svc.Finalize(context.Background(), agent, r.CorrelationID, answered.Nonce, authn.ResultSuccess, "")
	if err != nil || done.State != authn.StateAuthenticated {
		t.Fatalf("Finalize with the answered nonce: %+v, %v", done, err)
	}
}

// hookStore runs beforeUpdate before the first Update of a transaction
// it is armed for: the way to make another request win a race
// deterministically.
type hookStore struct {
	challenge.Store
	beforeUpdate func()
}

func (h *hookStore) Update(ctx context.Context, rec *challenge.Record) error {
	if hook := h.beforeUpdate; hook != nil && rec.Kind == authn.Kind {
		h.beforeUpdate = nil
		hook()
	}
	return h.Store.Update(ctx, rec)
}

// TestARacingGuessIsCountedAndNotAnsweredAsAnother: a wrong code whose
// save loses the race to another request with the same nonce was checked:
// it is counted by the Limiter, and refused as stale rather than answered
// with the other's outcome.
func TestARacingGuessIsCountedAndNotAnsweredAsAnother(t *testing.T) {
	clock := challengetest.NewClock()
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	store := &hookStore{Store: mem}
	limiter, _ := challenge.NewMemoryLimiter(challenge.Limits{FreeFailures: 10}, clock)
	totpFactor, _ := totp.New(store, totp.Options{Clock: clock})
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{"alice": {{FactorKey: totp.Key, Secret: totpSecret}}})
	svc, err := authn.NewService(store, registry, []authn.Factor{totpFactor}, authn.Options{Engine: challenge.EngineOptions{Clock: clock, Limiter: limiter}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, _ := svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice"})
	r, _ = svc.Init(ctx, agent, r.CorrelationID, r.Nonce, totp.Key, nil)
	var winner *authn.Response
	store.beforeUpdate = func() { // another guess with the same nonce is saved first
		var err error
		if winner, err = svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000001"); err != nil {
			t.Errorf("the winning guess: %v", err)
		}
	}
	_, err = svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000002")
	if !errors.Is(err, challenge.ErrStaleNonce) {
		t.Fatalf("the guess that lost the race: %v; want ErrStaleNonce, not the winner's answer %+v", err, winner)
	}
	// Both wrong codes were checked: both count, against one hold after 10.
	for i := range 8 {
		if err := limiter.Attempt(ctx, challenge.Attempt{Kind: authn.Kind, Subject: "alice", Source: "agent:" + agent, ID: challenge.NewID()}); err != nil {
			t.Fatalf("free failure %d after the race: %v", i+3, err)
		}
	}
	if err := limiter.Attempt(ctx, challenge.Attempt{Kind: authn.Kind, Subject: "alice", Source: "agent:" + agent, ID: challenge.NewID()}); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("the 11th failure: %v; want it held: the two racing guesses counted two", err)
	}
}

func TestKBAWithoutAnswersIsAFieldError(t *testing.T) {
	f := newFixture(t, authn.Options{})
	r := f.begin(t, "erin")
	_, err := f.svc.Init(context.Background(), agent, r.CorrelationID, r.Nonce, kba.Key, nil)
	var fe *challenge.FieldError
	if !errors.As(err, &fe) || fe.Field != "challengedata.factorKey" {
		t.Fatalf("Init KBA for a user without answers: %v; want a field error", err)
	}
}
