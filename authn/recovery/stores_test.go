package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/internal/fleetstores"
)

// checkFleet runs, on store, what a fleet of two servers must agree on:
// of 32 transactions given one code at once, half through each server,
// exactly one is accepted; that transaction's step run again is accepted
// on either server; and a set either generates replaces the other's.
func checkFleet(t *testing.T, store challenge.Store, userID string) {
	t.Helper()
	ctx := context.Background()
	servers := []*recovery.Factor{newFactor(t, store), newFactor(t, store)}
	codes, err := servers[0].Generate(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(server int, txID, code string) (bool, error) {
		res, err := servers[server].Validate(ctx, authn.ValidateRequest{TransactionID: txID, UserID: userID, Answer: code})
		return res.Correct, err
	}
	won := make([]bool, 32)
	errs := make([]error, 32)
	challengetest.Race(32, func(i int) {
		won[i], errs[i] = answer(i%2, fmt.Sprint("tx-", i), codes[0])
	})
	winner := -1
	for i := range won {
		if errs[i] != nil && !errors.Is(errs[i], challenge.ErrConflict) {
			t.Fatalf("a racing Validate: %v", errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Fatalf("transactions %d and %d were both accepted with one code", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racing transaction was accepted")
	}
	for server := range servers {
		if ok, err := answer(server, fmt.Sprint("tx-", winner), codes[0]); err != nil || !ok {
			t.Fatalf("the winner's step run again on server %d: %v, %v; want accepted", server, ok, err)
		}
		if ok, err := answer(server, "tx-late", codes[0]); err != nil || ok {
			t.Fatalf("another transaction on server %d: %v, %v; want refused", server, ok, err)
		}
	}
	if n, err := servers[1].Remaining(ctx, userID); err != nil || n != recovery.SetSize-1 {
		t.Fatalf("Remaining: %d, %v; want %d", n, err, recovery.SetSize-1)
	}
	fresh, err := servers[1].Generate(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := answer(0, "tx-old", codes[1]); err != nil || ok {
		t.Fatalf("a code of the replaced set: %v, %v; want refused", ok, err)
	}
	if ok, err := answer(0, "tx-new", fresh[1]); err != nil || !ok {
		t.Fatalf("a code of the new set: %v, %v; want accepted", ok, err)
	}
}

func TestAFleetOnTheMemoryStore(t *testing.T) {
	checkFleet(t, newMemoryStore(t), user)
}

func TestAFleetOnRedis(t *testing.T) {
	checkFleet(t, fleetstores.Redis(t), user)
}

func TestAFleetOnPostgres(t *testing.T) {
	store, userID := fleetstores.Postgres(t, recovery.Kind, "recovery-test-")
	checkFleet(t, store, userID)
}
