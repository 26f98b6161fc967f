package recovery_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/challenge"
)

// A user generates a set of recovery codes, is shown them once, and logs
// in with one; the same code does not log in again.
func ExampleFactor() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	secret := []byte("a server secret of 32 bytes or more, not in the store")
	codes, _ := recovery.New(store, secret, recovery.Options{})
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{
		"alice": {{FactorKey: recovery.Key}},
	})
	svc, err := authn.NewService(store, registry, []authn.Factor{codes}, authn.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	shown, _ := codes.Generate(ctx, "alice") // shown to alice now, and never again
	fmt.Println(len(shown))

	login := func(answer string) bool {
		r, _ := svc.Begin(ctx, authn.BeginRequest{ClientID: "agent", UserID: "alice"})
		r, _ = svc.Init(ctx, "agent", r.CorrelationID, r.Nonce, recovery.Key, nil)
		r, err := svc.Validate(ctx, "agent", r.CorrelationID, r.Nonce, answer)
		return err == nil && !r.Wrong
	}
	fmt.Println(login(strings.ToLower(shown[0]))) // case and dashes do not matter
	fmt.Println(login(shown[0]))                  // each code is good once
	left, _ := codes.Remaining(ctx, "alice")
	fmt.Println(left)
	// Output:
	// 10
	// true
	// false
	// 9
}
