package psd2_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

// A consent challenge from creation to authorization, without HTTP.
func ExampleService() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{
		IDs: &challengetest.SequentialIDs{Prefix: "demo-"}, // predictable for this example; omit in production
	}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	c, _ := svc.Create(ctx, psd2.CreateRequest{IBAN: "DE02 1203 0000 0000 2020 51", TPPName: "Acme Finance"})
	fmt.Println(c.ID, c.Status)

	_, err = svc.EnterCredentials(ctx, "acme", c.ID, "p-bob")
	fmt.Println(errors.Is(err, psd2.ErrIBANNotOwned))

	c, _ = svc.EnterCredentials(ctx, "acme", c.ID, "p-alice")
	fmt.Println(c.Status, c.RedirectURL)

	c, _ = svc.CompleteSecondFactor(ctx, c.ID, true)
	fmt.Println(c.Status)
	// Output:
	// demo-1 pending
	// true
	// redirected https://bank.example/consent?consent_challenge=demo-2
	// authorized
}
