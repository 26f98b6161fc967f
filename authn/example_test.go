package authn_test

import (
	"context"
	"errors"
	"fmt"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// A TOTP login: Begin, Init, Validate, Finalize, each with the nonce the
// previous response returned.
func ExampleService() {
	clock := challengetest.NewClock() // fixed time, so the example is repeatable
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	totpFactor, _ := totp.New(store, totp.Options{Clock: clock})
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{
		"alice": {{FactorKey: totp.Key, Secret: "JBSWY3DPEHPK3PXP"}},
	})
	svc, err := authn.NewService(store, registry, []authn.Factor{totpFactor}, authn.Options{Engine: challenge.EngineOptions{Clock: clock}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	r, _ := svc.Begin(ctx, authn.BeginRequest{ClientID: "agent", UserID: "alice"})
	fmt.Println(r.State)
	first := r.Nonce
	r, _ = svc.Init(ctx, "agent", r.CorrelationID, r.Nonce, totp.Key, nil)
	code, _ := otptotp.GenerateCode("JBSWY3DPEHPK3PXP", clock.Now())
	r, _ = svc.Validate(ctx, "agent", r.CorrelationID, r.Nonce, code)
	_, err = svc.Finalize(ctx, "agent", r.CorrelationID, first, authn.ResultSuccess, "")
	fmt.Println(errors.Is(err, challenge.ErrStaleNonce)) // an old nonce never authenticates
	r, _ = svc.Finalize(ctx, "agent", r.CorrelationID, r.Nonce, authn.ResultSuccess, "")
	fmt.Println(r.State)
	// Output:
	// created
	// true
	// authenticated
}
