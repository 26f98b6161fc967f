package psd2_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

const (
	aliceIBAN = "DE02120300000000202051"
	bobIBAN   = "DE02500105170137075030"
	carolIBAN = "GB33BUKB20201555555555"
)

type fixture struct {
	svc   *psd2.Service
	clock *challengetest.FakeClock
	store *challenge.MemoryStore
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := challengetest.NewClock()
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{
		{IBAN: aliceIBAN, Owner: "p-alice", Partner: "acme"},
		{IBAN: bobIBAN, Owner: "p-bob", Partner: "acme"},
		{IBAN: carolIBAN, Owner: "p-carol", Partner: "globex"},
	})
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock, IDs: &challengetest.SequentialIDs{Prefix: "id-"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, clock: clock, store: store}
}

func (f *fixture) create(t testing.TB) *psd2.Challenge {
	t.Helper()
	c, err := f.svc.Create(context.Background(), psd2.CreateRequest{IBAN: "DE02 1203 0000 0000 2020 51", TPPName: "Acme Finance", TPPID: "tpp-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) version(t testing.TB, id string) uint64 {
	t.Helper()
	rec, err := f.store.Get(context.Background(), psd2.Kind, id)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Version
}

// in puts a new challenge into state s the way real requests would.
func (f *fixture) in(t *testing.T, s challenge.State) string {
	t.Helper()
	ctx := context.Background()
	id := f.create(t).ID
	must := func(_ *psd2.Challenge, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	switch s {
	case psd2.StatePending:
	case psd2.StateRedirected:
		must(f.svc.EnterCredentials(ctx, "acme", id, "p-alice"))
	case psd2.StateAuthorized:
		must(f.svc.EnterCredentials(ctx, "acme", id, "p-alice"))
		must(f.svc.CompleteSecondFactor(ctx, id, true))
	case psd2.StateFailed:
		must(f.svc.EnterCredentials(ctx, "acme", id, "p-alice"))
		must(f.svc.CompleteSecondFactor(ctx, id, false))
	case psd2.StateExpired:
		f.clock.Advance(psd2.DefaultTTL)
		if _, err := f.svc.Get(ctx, id); !errors.Is(err, challenge.ErrExpired) {
			t.Fatalf("expiring: %v", err)
		}
	default:
		t.Fatalf("no way into state %s", s)
	}
	return id
}

func TestCreateNormalizesTheIBANAndStartsPending(t *testing.T) {
	f := newFixture(t)
	c := f.create(t)
	if c.IBAN != aliceIBAN || c.Status != psd2.StatePending || c.TPPName != "Acme Finance" || c.TPPID != "tpp-1" {
		t.Fatalf("created %+v", c)
	}
	if c.PersonID != "" || c.RedirectURL != "" {
		t.Fatalf("a new challenge has person %q and redirect %q; want neither", c.PersonID, c.RedirectURL)
	}
	if !c.ExpiresAt.Equal(c.CreatedAt.Add(psd2.DefaultTTL)) {
		t.Fatalf("ExpiresAt %v, want CreatedAt + %v", c.ExpiresAt, psd2.DefaultTTL)
	}
}

func TestCreateNamesTheBadField(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		req   psd2.CreateRequest
		field string
	}{
		{psd2.CreateRequest{TPPName: "x"}, "iban"},
		{psd2.CreateRequest{IBAN: "DE03120300000000202051", TPPName: "x"}, "iban"},
		{psd2.CreateRequest{IBAN: aliceIBAN}, "tpp_name"},
		{psd2.CreateRequest{IBAN: aliceIBAN, TPPName: "x\x00y"}, "tpp_name"},
		{psd2.CreateRequest{IBAN: aliceIBAN, TPPName: "x", Scope: strings.Repeat("s", psd2.MaxFieldLength+1)}, "scope"},
		{psd2.CreateRequest{IBAN: "NL91ABNA0417164300", TPPName: "x"}, "iban"}, // valid, but no account of the bank's
	} {
		_, err := f.svc.Create(context.Background(), tc.req)
		var fe *challenge.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, challenge.ErrInvalidRequest) {
			t.Errorf("Create(%+v) = %v; want a FieldError for %s", tc.req, err, tc.field)
		}
	}
}

// TestEnterCredentialsInEveryState is the PATCH semantics, state by state.
func TestEnterCredentialsInEveryState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		state  challenge.State
		person string
		want   error // nil: success
		then   challenge.State
	}{
		{"pending and the owner: redirected", psd2.StatePending, "p-alice", nil, psd2.StateRedirected},
		{"pending and not the owner: refused, still pending", psd2.StatePending, "p-bob", psd2.ErrIBANNotOwned, psd2.StatePending},
		{"pending and an unknown person: refused", psd2.StatePending, "p-nobody", psd2.ErrIBANNotOwned, psd2.StatePending},
		{"redirected and the same person: the same answer", psd2.StateRedirected, "p-alice", nil, psd2.StateRedirected},
		{"redirected and another person: forbidden", psd2.StateRedirected, "p-bob", psd2.ErrOtherPerson, psd2.StateRedirected},
		{"authorized: final", psd2.StateAuthorized, "p-alice", challenge.ErrFinal, psd2.StateAuthorized},
		{"failed: final", psd2.StateFailed, "p-alice", challenge.ErrFinal, psd2.StateFailed},
		{"expired: expired", psd2.StateExpired, "p-alice", challenge.ErrExpired, psd2.StateExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.in(t, tc.state)
			c, err := f.svc.EnterCredentials(context.Background(), "acme", id, tc.person)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("EnterCredentials = %v; want %v", err, tc.want)
			}
			if err == nil && (c.PersonID != tc.person || !strings.HasPrefix(c.RedirectURL, "https://bank.example/consent?consent_challenge=")) {
				t.Fatalf("answer %+v", c)
			}
			rec, err := f.store.Get(context.Background(), psd2.Kind, id)
			if err != nil || rec.State != tc.then {
				t.Fatalf("state after = %v (%v), want %s", rec.State, err, tc.then)
			}
		})
	}
}

func TestEnterCredentialsRetryGetsTheSameRedirectWithoutAWrite(t *testing.T) {
	f := newFixture(t)
	id := f.create(t).ID
	first, err := f.svc.EnterCredentials(context.Background(), "acme", id, "p-alice")
	if err != nil {
		t.Fatal(err)
	}
	v := f.version(t, id)
	again, err := f.svc.EnterCredentials(context.Background(), "acme", id, "p-alice")
	if err != nil || again.RedirectURL != first.RedirectURL {
		t.Fatalf("retry = %+v, %v; want the first answer %q", again, err, first.RedirectURL)
	}
	if f.version(t, id) != v {
		t.Fatal("a retry wrote the challenge")
	}
}

func TestThirdMismatchFailsTheChallenge(t *testing.T) {
	f := newFixture(t)
	id := f.create(t).ID
	ctx := context.Background()
	for i, person := range []string{"p-bob", "p-nobody", "p-carol"} {
		i++
		_, err := f.svc.EnterCredentials(ctx, "acme", id, person)
		if !errors.Is(err, psd2.ErrIBANNotOwned) {
			t.Fatalf("mismatch %d: %v; want ErrIBANNotOwned", i, err)
		}
		if locked := errors.Is(err, challenge.ErrLocked); locked != (i == 3) {
			t.Fatalf("mismatch %d: locked = %v", i, locked)
		}
	}
	if _, err := f.svc.EnterCredentials(ctx, "acme", id, "p-alice"); !errors.Is(err, challenge.ErrFinal) {
		t.Fatalf("the owner after the lock: %v; want ErrFinal", err)
	}
	if c, err := f.svc.Get(ctx, id); err != nil || c.Status != psd2.StateFailed {
		t.Fatalf("Get = %+v, %v; want failed", c, err)
	}
}

func TestSecondFactor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.in(t, psd2.StateRedirected)
	for i := range 2 { // the second report is a retry
		c, err := f.svc.CompleteSecondFactor(ctx, id, true)
		if err != nil || c.Status != psd2.StateAuthorized {
			t.Fatalf("success report %d = %+v, %v", i+1, c, err)
		}
	}
	if _, err := f.svc.CompleteSecondFactor(ctx, id, false); !errors.Is(err, challenge.ErrFinal) {
		t.Fatalf("failure after authorization: %v; want ErrFinal", err)
	}
	pending := f.create(t).ID
	_, err := f.svc.CompleteSecondFactor(ctx, pending, true)
	if !errors.Is(err, challenge.ErrInvalidTransition) || errors.Is(err, challenge.ErrFinal) {
		t.Fatalf("second factor on a pending challenge: %v; want an invalid, non-final transition", err)
	}
	failed := f.in(t, psd2.StateRedirected)
	if c, err := f.svc.CompleteSecondFactor(ctx, failed, false); err != nil || c.Status != psd2.StateFailed {
		t.Fatalf("failure report = %+v, %v", c, err)
	}
}

func TestAChallengeExpiresAfterItsTTL(t *testing.T) {
	f := newFixture(t)
	id := f.create(t).ID
	f.clock.Advance(psd2.DefaultTTL - time.Microsecond)
	if _, err := f.svc.Get(context.Background(), id); err != nil {
		t.Fatalf("just before the TTL: %v", err)
	}
	f.clock.Advance(time.Microsecond)
	if _, err := f.svc.EnterCredentials(context.Background(), "acme", id, "p-alice"); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("at the TTL: %v; want ErrExpired", err)
	}
}

func TestUnknownIDsAreNotFound(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Get(context.Background(), "nope"); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	if _, err := f.svc.EnterCredentials(context.Background(), "acme", "nope", "p-alice"); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("EnterCredentials: %v", err)
	}
}

func TestAccountDirectoryFailureCountsNothing(t *testing.T) {
	clock := challengetest.NewClock()
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	down := errors.New("core banking unreachable")
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, err := psd2.NewService(store, accountsFunc(func(context.Context, string, string) (bool, error) { return false, down }),
		redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(context.Background(), psd2.CreateRequest{IBAN: aliceIBAN, TPPName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EnterCredentials(context.Background(), "acme", c.ID, "p-alice"); !errors.Is(err, down) {
		t.Fatalf("EnterCredentials: %v; want the directory's error", err)
	}
	rec, _ := store.Get(context.Background(), psd2.Kind, c.ID)
	if rec.Attempts != 0 || rec.State != psd2.StatePending {
		t.Fatalf("after a directory failure: attempts %d, state %s", rec.Attempts, rec.State)
	}
}

type accountsFunc func(ctx context.Context, person, iban string) (bool, error)

func (f accountsFunc) OwnsIBAN(ctx context.Context, person, iban string) (bool, error) {
	return f(ctx, person, iban)
}

func (f accountsFunc) PartnerOf(context.Context, string) (string, error) { return "acme", nil }

func TestNewServiceRejectsBadConfiguration(t *testing.T) {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	accounts, _ := psd2.NewMemoryAccounts(nil)
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	for name, opts := range map[string]psd2.Options{"negative TTL": {TTL: -1}, "negative MaxAttempts": {Engine: challenge.EngineOptions{MaxAttempts: -1}}} {
		if _, err := psd2.NewService(store, accounts, redirects, opts); err == nil {
			t.Errorf("NewService accepted a %s", name)
		}
	}
	if _, err := psd2.NewService(store, nil, redirects, psd2.Options{}); err == nil {
		t.Error("NewService accepted a nil AccountDirectory")
	}
	for name, bad := range map[string][]psd2.Account{
		"an invalid IBAN":     {{IBAN: "DE00", Owner: "p", Partner: "acme"}},
		"no partner":          {{IBAN: aliceIBAN, Owner: "p"}},
		"no owner":            {{IBAN: aliceIBAN, Partner: "acme"}},
		"an IBAN given twice": {{IBAN: aliceIBAN, Owner: "p", Partner: "acme"}, {IBAN: "DE02 1203 0000 0000 2020 51", Owner: "q", Partner: "acme"}},
	} {
		if _, err := psd2.NewMemoryAccounts(bad); err == nil {
			t.Errorf("NewMemoryAccounts accepted %s", name)
		}
	}
}

func TestAPartnerSeesOnlyItsCustomersChallenges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme := f.create(t).ID // alice's account: acme's customer
	if _, err := f.svc.GetForPartner(ctx, "acme", acme); err != nil {
		t.Fatalf("acme reading its own challenge: %v", err)
	}
	for name, call := range map[string]func() error{
		"GET":                 func() error { _, err := f.svc.GetForPartner(ctx, "globex", acme); return err },
		"PATCH":               func() error { _, err := f.svc.EnterCredentials(ctx, "globex", acme, "p-alice"); return err },
		"GET with no partner": func() error { _, err := f.svc.GetForPartner(ctx, "", acme); return err },
	} {
		if err := call(); !errors.Is(err, challenge.ErrNotFound) {
			t.Errorf("globex's %s of acme's challenge: %v; want ErrNotFound", name, err)
		}
	}
	if rec, _ := f.store.Get(ctx, psd2.Kind, acme); rec.Version != 1 || rec.Attempts != 0 {
		t.Fatalf("another partner's requests changed the challenge: %+v", rec)
	}
	// Expired, it is still none of globex's business: not found, not expired.
	f.clock.Advance(psd2.DefaultTTL)
	if _, err := f.svc.GetForPartner(ctx, "globex", acme); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("globex reading acme's expired challenge: %v; want ErrNotFound", err)
	}
	if _, err := f.svc.GetForPartner(ctx, "acme", acme); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("acme reading its expired challenge: %v; want ErrExpired", err)
	}
	c, err := f.svc.Create(ctx, psd2.CreateRequest{IBAN: carolIBAN, TPPName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EnterCredentials(ctx, "globex", c.ID, "p-carol"); err != nil {
		t.Fatalf("globex's customer on globex's challenge: %v", err)
	}
}

func TestARepeatedMismatchIsCountedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.create(t).ID
	for i := range 5 {
		if _, err := f.svc.EnterCredentials(ctx, "acme", id, "p-bob"); !errors.Is(err, psd2.ErrIBANNotOwned) || errors.Is(err, challenge.ErrLocked) {
			t.Fatalf("p-bob, time %d: %v; want ErrIBANNotOwned, unlocked", i+1, err)
		}
	}
	if rec, _ := f.store.Get(ctx, psd2.Kind, id); rec.Attempts != 1 {
		t.Fatalf("one wrong person sent five times counted %d attempts; want 1", rec.Attempts)
	}
	if _, err := f.svc.EnterCredentials(ctx, "acme", id, "p-alice"); err != nil {
		t.Fatalf("the owner after the repeats: %v", err)
	}
}

func TestFailedPatchesAreChargedToThePersonFromThePartner(t *testing.T) {
	clock := challengetest.NewClock()
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	limiter, err := challenge.NewMemoryLimiter(challenge.Limits{FreeFailures: 2}, clock)
	if err != nil {
		t.Fatal(err)
	}
	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: aliceIBAN, Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock, Limiter: limiter}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newID := func() string {
		c, err := svc.Create(ctx, psd2.CreateRequest{IBAN: aliceIBAN, TPPName: "x", Caller: "bank"})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	// Two challenges, one wrong person each: the person's free failures
	// from acme are spent, whatever challenge they were on.
	for range 2 {
		if _, err := svc.EnterCredentials(ctx, "acme", newID(), "p-mallory"); !errors.Is(err, psd2.ErrIBANNotOwned) {
			t.Fatal(err)
		}
	}
	id := newID()
	if _, err := svc.EnterCredentials(ctx, "acme", id, "p-mallory"); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("the third wrong PATCH naming p-mallory: %v; want ErrThrottled", err)
	}
	if rec, _ := store.Get(ctx, psd2.Kind, id); rec.Attempts != 0 {
		t.Fatal("a throttled PATCH was counted against the challenge")
	}
	if _, err := svc.EnterCredentials(ctx, "acme", id, "p-alice"); err != nil {
		t.Fatalf("the owner, never held for another person's failures: %v", err)
	}
	if err := svc.ResetLimits(ctx, "p-mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EnterCredentials(ctx, "acme", newID(), "p-mallory"); !errors.Is(err, psd2.ErrIBANNotOwned) {
		t.Fatalf("after ResetLimits: %v; want the mismatch evaluated", err)
	}
}
