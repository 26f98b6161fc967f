package passkey_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/internal/fleetstores"
)

// checkFleet runs, on store, what a fleet of two servers must agree on:
// of 32 transactions answered at once, half through each server, by
// copies of one authenticator that all sign with the same count (a
// clone), exactly one is accepted; that transaction's step run again is
// accepted on either server; and the authenticator's next count is
// accepted.
func checkFleet(t *testing.T, store challenge.Store, userID string) {
	t.Helper()
	ctx := context.Background()
	servers := []*passkey.Factor{newFactor(t, store), newFactor(t, store)}
	d := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(userID)})
	if err := d.register(servers[0], userID); err != nil {
		t.Fatalf("registering: %v", err)
	}
	d.cred.Counter = 5
	const n = 32
	inits := make([]authn.InitResult, n)
	answers := make([]string, n)
	for i := range inits {
		r, err := servers[i%2].Init(ctx, authn.InitRequest{TransactionID: fmt.Sprint("tx-", i), UserID: userID})
		if err != nil {
			t.Fatal(err)
		}
		inits[i], answers[i] = r, d.assertAgain(r.Prompts)
	}
	answer := func(server, i int) (bool, error) {
		res, err := servers[server].Validate(ctx, authn.ValidateRequest{TransactionID: fmt.Sprint("tx-", i), UserID: userID, State: inits[i].State, Answer: answers[i]})
		return res.Correct, err
	}
	won := make([]bool, n)
	errs := make([]error, n)
	challengetest.Race(n, func(i int) { won[i], errs[i] = answer(i%2, i) })
	winner := -1
	for i := range won {
		if errs[i] != nil && !errors.Is(errs[i], challenge.ErrConflict) {
			t.Fatalf("a racing Validate: %v", errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Fatalf("transactions %d and %d were both accepted with sign count 5", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racing transaction was accepted")
	}
	for server := range servers {
		if ok, err := answer(server, winner); err != nil || !ok {
			t.Fatalf("the winner's step run again on server %d: %v, %v; want accepted", server, ok, err)
		}
	}
	late := (winner + 1) % n
	if ok, err := answer(1, late); err != nil || ok {
		t.Fatalf("another transaction with sign count 5: %v, %v; want refused", ok, err)
	}
	answers[late] = d.assert(inits[late].Prompts)
	if ok, err := answer(0, late); err != nil || !ok {
		t.Fatalf("sign count 6: %v, %v; want accepted", ok, err)
	}
}

func TestAFleetOnTheMemoryStore(t *testing.T) {
	checkFleet(t, newMemoryStore(t), user)
}

func TestAFleetOnRedis(t *testing.T) {
	checkFleet(t, fleetstores.Redis(t), user)
}

func TestAFleetOnPostgres(t *testing.T) {
	store, userID := fleetstores.Postgres(t, passkey.CredentialsKind, "passkey-test-")
	checkFleet(t, store, userID)
}
