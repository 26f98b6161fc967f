package recovery_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

const user = "alice"

func TestFactorConforms(t *testing.T) {
	factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
		f, err := recovery.New(cfg.Store, secret, recovery.Options{Clock: cfg.Clock})
		if err != nil {
			t.Fatal(err)
		}
		codes, err := f.Generate(context.Background(), cfg.UserID)
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		return factortest.Subject{
			Factor: f,
			Right: func([]authn.KeyValue) string {
				if next == len(codes) {
					t.Fatal("the test used up the user's recovery codes")
				}
				next++
				return codes[next-1]
			},
			Wrong:   func([]authn.KeyValue) string { return "AAAAA-AAAAA" },
			OneTime: true,
		}
	})
}

func newMemoryStore(t *testing.T) challenge.Store {
	t.Helper()
	s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: challengetest.NewClock()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFactor(t *testing.T, store challenge.Store) *recovery.Factor {
	t.Helper()
	f, err := recovery.New(store, secret, recovery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// generate makes user a new set of codes with f.
func generate(t *testing.T, f *recovery.Factor) []string {
	t.Helper()
	codes, err := f.Generate(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// validate answers code for user in transaction txID.
func validate(t *testing.T, f *recovery.Factor, txID, code string) bool {
	t.Helper()
	res, err := f.Validate(context.Background(), authn.ValidateRequest{TransactionID: txID, UserID: user, Answer: code})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if res.Correct != res.Satisfied {
		t.Fatalf("Validate: Correct %v but Satisfied %v", res.Correct, res.Satisfied)
	}
	return res.Correct
}

func remaining(t *testing.T, f *recovery.Factor) int {
	t.Helper()
	n, err := f.Remaining(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewRefusesAShortSecret(t *testing.T) {
	if _, err := recovery.New(newMemoryStore(t), secret[:31], recovery.Options{}); err == nil {
		t.Fatal("New accepted a secret of 31 bytes")
	}
}

func TestGenerateMakesTenDistinctReadableCodes(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	codes := generate(t, f)
	if len(codes) != recovery.SetSize || recovery.SetSize != 10 {
		t.Fatalf("Generate made %d codes; want 10", len(codes))
	}
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Fatalf("code %q is not two groups of five Crockford base32 characters", c)
		}
		if seen[c] {
			t.Fatalf("code %q was made twice", c)
		}
		seen[c] = true
	}
	if n := remaining(t, f); n != 10 {
		t.Fatalf("Remaining after Generate is %d; want 10", n)
	}
}

func TestTheStoreHoldsNoCode(t *testing.T) {
	store := newMemoryStore(t)
	f := newFactor(t, store)
	codes := generate(t, f)
	rec, err := store.Get(context.Background(), recovery.Kind, user)
	if err != nil {
		t.Fatal(err)
	}
	data := strings.ToUpper(string(rec.Data))
	for _, c := range codes {
		if strings.Contains(data, c) || strings.Contains(data, strings.ReplaceAll(c, "-", "")) {
			t.Fatal("the stored record holds a code")
		}
	}
	if rec.Subject != user {
		t.Fatalf("the record is about %q; want %q", rec.Subject, user)
	}
}

func TestEachCodeIsAcceptedOnce(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	codes := generate(t, f)
	for i, c := range codes {
		if !validate(t, f, "tx-a"+c, c) {
			t.Fatalf("code %d was refused", i+1)
		}
		if validate(t, f, "tx-b"+c, c) {
			t.Fatalf("code %d was accepted again, by another transaction", i+1)
		}
		if n := remaining(t, f); n != len(codes)-i-1 {
			t.Fatalf("after %d codes used, Remaining is %d; want %d", i+1, n, len(codes)-i-1)
		}
	}
}

func TestAWrongCodeIsWrongAndNoError(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	if validate(t, f, "tx-1", "AAAAA-AAAAA") {
		t.Fatal("a code was accepted for a user with no set")
	}
	generate(t, f)
	for _, answer := range []string{"", "AAAAA-AAAAA", "not a code", "AAAAA-AAAAU", "AAAAA-AAAAAA", strings.Repeat("A", 10000)} {
		if validate(t, f, "tx-1", answer) {
			t.Fatalf("answer %q was accepted", answer)
		}
	}
	if n := remaining(t, f); n != 10 {
		t.Fatalf("wrong answers used codes: %d remaining", n)
	}
}

func TestANewSetInvalidatesTheOld(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	old := generate(t, f)
	if !validate(t, f, "tx-1", old[0]) {
		t.Fatal("a code of the first set was refused")
	}
	codes := generate(t, f)
	if n := remaining(t, f); n != 10 {
		t.Fatalf("a new set has %d codes left; want 10", n)
	}
	for _, c := range old[1:] {
		if validate(t, f, "tx-2", c) {
			t.Fatal("a code of the replaced set was accepted")
		}
	}
	if validate(t, f, "tx-1", old[0]) {
		t.Fatal("a code of the replaced set was accepted again by the transaction that used it")
	}
	if !validate(t, f, "tx-3", codes[0]) {
		t.Fatal("a code of the new set was refused")
	}
}

func TestAnswersAreNormalized(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	codes := generate(t, f)
	// How each code is typed: its variants, all the same code.
	variants := []func(string) string{
		func(c string) string { return c },
		strings.ToLower,
		func(c string) string { return strings.ReplaceAll(c, "-", "") },
		func(c string) string { return strings.ReplaceAll(strings.ToLower(c), "-", " ") },
		func(c string) string { return " " + c[:3] + " " + c[3:8] + "-" + c[8:] + " " },
		// The ambiguous letters read as the digits they look like.
		func(c string) string {
			return strings.NewReplacer("0", "o", "1", "l").Replace(c)
		},
		func(c string) string { return strings.NewReplacer("0", "O", "1", "I").Replace(c) },
	}
	for i, v := range variants {
		typed := v(codes[i])
		if !validate(t, f, "tx-norm", typed) {
			t.Fatalf("variant %d of a code, %q, was refused", i, typed)
		}
	}
}

func TestARunAgainOfTheSameTransactionIsAccepted(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	codes := generate(t, f)
	for run := 1; run <= 3; run++ {
		if !validate(t, f, "tx-1", codes[0]) {
			t.Fatalf("run %d of the same transaction's Validate was refused", run)
		}
	}
	if !validate(t, f, "tx-1", strings.ToLower(codes[0])) {
		t.Fatal("the same code typed otherwise, in the same transaction, was refused")
	}
	if validate(t, f, "tx-2", codes[0]) {
		t.Fatal("another transaction reused the code")
	}
	if !validate(t, f, "", codes[1]) {
		t.Fatal("a fresh code was refused to a request without a transaction")
	}
	if validate(t, f, "", codes[1]) {
		t.Fatal("a code used without a transaction was accepted again")
	}
	if n := remaining(t, f); n != 8 {
		t.Fatalf("Remaining is %d; want 8", n)
	}
}

// TestOneCodeRacedHasOneWinner: 32 requests of 32 transactions give one
// code at once; exactly one is accepted. The others are refused, or lose
// the record's compare-and-set twice (ErrConflict, which the engine
// answers by running the step again).
func TestOneCodeRacedHasOneWinner(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	codes := generate(t, f)
	var won, refused atomic.Int32
	errs := make([]error, 32)
	challengetest.Race(32, func(i int) {
		res, err := f.Validate(context.Background(), authn.ValidateRequest{TransactionID: "tx-" + string(rune('a'+i)), UserID: user, Answer: codes[3]})
		switch {
		case err != nil:
			errs[i] = err
		case res.Correct:
			won.Add(1)
		default:
			refused.Add(1)
		}
	})
	for _, err := range errs {
		if err != nil && !errors.Is(err, challenge.ErrConflict) {
			t.Fatalf("a racing Validate: %v", err)
		}
	}
	if won.Load() != 1 {
		t.Fatalf("%d of 32 racing transactions were accepted with one code; want 1 (%d refused)", won.Load(), refused.Load())
	}
	if n := remaining(t, f); n != 9 {
		t.Fatalf("Remaining after the race is %d; want 9", n)
	}
}

// TestTwoServersShareTheSets: factors of two servers over one store
// accept each code once between them, and see each other's sets.
func TestTwoServersShareTheSets(t *testing.T) {
	store := newMemoryStore(t)
	a, b := newFactor(t, store), newFactor(t, store)
	codes := generate(t, a)
	if !validate(t, b, "tx-1", codes[0]) {
		t.Fatal("server b refused a code server a generated")
	}
	if validate(t, a, "tx-2", codes[0]) {
		t.Fatal("server a accepted a code server b accepted")
	}
	if !validate(t, a, "tx-1", codes[0]) {
		t.Fatal("server a refused the run again of the transaction server b accepted")
	}
	if n := remaining(t, a); n != 9 {
		t.Fatalf("server a counts %d remaining; want 9", n)
	}
	fresh := generate(t, b)
	if validate(t, a, "tx-3", codes[1]) || !validate(t, a, "tx-3", fresh[1]) {
		t.Fatal("server a did not follow the set server b generated")
	}
}

// TestOneCodeRacedOnARacingStoreHasOneWinner: two servers given one code
// at once, the save of the first losing its race to the second's.
func TestOneCodeRacedOnARacingStoreHasOneWinner(t *testing.T) {
	store := challengetest.NewRacingStore(newMemoryStore(t))
	a, b := newFactor(t, store), newFactor(t, store)
	codes := generate(t, a)
	// The racing writer stores the record unchanged: model the other
	// server by accepting the code through b first, then a's save loses.
	if !validate(t, b, "tx-b", codes[0]) {
		t.Fatal("server b refused the code")
	}
	store.LoseNextUpdate(recovery.Kind)
	if !validate(t, a, "tx-a", codes[1]) {
		t.Fatal("a fresh code was refused after a lost race")
	}
	if store.Lost() != 1 {
		t.Fatal("the save did not lose its race")
	}
	store.LoseNextUpdate(recovery.Kind)
	if validate(t, a, "tx-a2", codes[0]) {
		t.Fatal("server a accepted the code server b accepted")
	}
	store.Calm()
	if n := remaining(t, a); n != 8 {
		t.Fatalf("Remaining is %d; want 8", n)
	}
}

func TestInitAsksForACode(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	_, err := f.Init(context.Background(), authn.InitRequest{TransactionID: "tx-1", UserID: user})
	var fe *challenge.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Init for a user with no codes: %v; want a FieldError", err)
	}
	codes := generate(t, f)
	res, err := f.Init(context.Background(), authn.InitRequest{TransactionID: "tx-1", UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	want := authn.KeyValue{Key: "recoveryCode", Value: "Enter one of your recovery codes"}
	if len(res.Prompts) != 1 || res.Prompts[0] != want || res.Deliver != nil {
		t.Fatalf("Init: %+v; want the prompt %+v and nothing delivered", res, want)
	}
	for i, c := range codes {
		if !validate(t, f, "tx-"+c, c) {
			t.Fatalf("code %d was refused", i+1)
		}
	}
	if _, err := f.Init(context.Background(), authn.InitRequest{TransactionID: "tx-2", UserID: user}); !errors.As(err, &fe) {
		t.Fatalf("Init for a user with every code used: %v; want a FieldError", err)
	}
}

func TestNoErrorNamesACode(t *testing.T) {
	store := newMemoryStore(t)
	f := newFactor(t, store)
	codes := generate(t, f)
	// A corrupt record: Validate fails, and says nothing of the answer.
	rec, err := store.Get(context.Background(), recovery.Kind, user)
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = []byte{9}
	if err := store.Update(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	_, err = f.Validate(context.Background(), authn.ValidateRequest{TransactionID: "tx-1", UserID: user, Answer: codes[0]})
	if err == nil {
		t.Fatal("Validate over a corrupt record succeeded")
	}
	if msg := strings.ToUpper(err.Error()); strings.Contains(msg, codes[0]) || strings.Contains(msg, strings.ReplaceAll(codes[0], "-", "")) {
		t.Fatalf("the error names the code: %v", err)
	}
	if _, err := f.Remaining(context.Background(), user); err == nil {
		t.Fatal("Remaining over a corrupt record succeeded")
	}
}
