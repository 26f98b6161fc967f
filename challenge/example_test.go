package challenge_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

var errWrongCode = errors.New("wrong code")

// A one-time-code login on the core: a machine, a store, an engine, and
// one Step per request. Wrong codes count against the challenge's attempt
// budget; the flow decides, the engine saves.
func Example() {
	machine, err := challenge.NewMachine(challenge.Definition{
		Name:    "otp_login",
		Initial: "sent",
		Transitions: []challenge.Transition{
			{Event: "verify", From: []challenge.State{"sent"}, To: "verified"},
			{Event: "lock", From: []challenge.State{"sent"}, To: "locked"},
			{Event: "expire", From: []challenge.State{"sent"}, To: "expired"},
		},
		Expire: "expire", // fired by the engine once ExpiresAt has passed
		Lock:   "lock",   // fired by Tx.Fail when the attempt budget runs out
	})
	if err != nil {
		panic(err)
	}
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		panic(err)
	}
	engine, err := challenge.NewEngine(store, machine, challenge.EngineOptions{MaxAttempts: 3})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	sum := sha256.Sum256([]byte("493817")) // keep a hash of the code, never the code
	rec, err := engine.Create(ctx, challenge.Start{Subject: "alice", TTL: 5 * time.Minute, Data: sum[:]})
	if err != nil {
		panic(err)
	}

	verify := func(code string) error {
		_, err := engine.Step(ctx, rec.ID, func(tx *challenge.Tx) error {
			got := sha256.Sum256([]byte(code))
			if subtle.ConstantTimeCompare(got[:], tx.Data()) != 1 {
				return tx.Fail(errWrongCode) // counted and saved, then returned
			}
			return tx.Fire("verify")
		})
		return err
	}
	fmt.Println(verify("111111"))
	fmt.Println(verify("493817"))
	err = verify("493817")
	fmt.Println(errors.Is(err, challenge.ErrFinal))
	// Output:
	// wrong code
	// <nil>
	// true
}

// The diagram of a machine is generated from its table, never drawn by hand.
func ExampleMachine_Mermaid() {
	m, err := challenge.NewMachine(challenge.Definition{
		Name:    "otp_login",
		Initial: "sent",
		Transitions: []challenge.Transition{
			{Event: "verify", From: []challenge.State{"sent"}, To: "verified"},
			{Event: "expire", From: []challenge.State{"sent"}, To: "expired"},
		},
		Expire: "expire",
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(m.Mermaid())
	// Output:
	// stateDiagram-v2
	//     [*] --> sent
	//     sent --> expired: expire
	//     sent --> verified: verify
	//     expired --> [*]
	//     verified --> [*]
}

// Tests drive expiry with a fake clock instead of sleeping.
func ExampleEngine_Step_expiry() {
	clock := challengetest.NewClock()
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	m, _ := challenge.NewMachine(challenge.Definition{
		Name: "otp_login", Initial: "sent", Expire: "expire",
		Transitions: []challenge.Transition{
			{Event: "verify", From: []challenge.State{"sent"}, To: "verified"},
			{Event: "expire", From: []challenge.State{"sent"}, To: "expired"},
		},
	})
	engine, _ := challenge.NewEngine(store, m, challenge.EngineOptions{Clock: clock})
	ctx := context.Background()
	rec, _ := engine.Create(ctx, challenge.Start{TTL: time.Minute})

	clock.Advance(time.Minute)
	_, err := engine.Step(ctx, rec.ID, func(tx *challenge.Tx) error { return tx.Fire("verify") })
	fmt.Println(errors.Is(err, challenge.ErrExpired))
	// Output: true
}
