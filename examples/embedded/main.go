// Command embedded uses challengekit as a library, without HTTP: a PSD2
// consent challenge and a TOTP login, driven by plain function calls on the
// in-memory store. It is the shortest path to the core's guarantees for a
// service that speaks its own protocol (gRPC, a message queue, a CLI).
//
//	go run ./examples/embedded
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

func main() {
	if err := run(context.Background(), os.Stdout, challenge.SystemClock{}); err != nil {
		fmt.Fprintln(os.Stderr, "embedded:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, clock challenge.Clock) error {
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		return err
	}

	// A PSD2 consent challenge.
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	if err != nil {
		return err
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		return err
	}
	consent, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock}})
	if err != nil {
		return err
	}
	c, err := consent.Create(ctx, psd2.CreateRequest{IBAN: "DE02 1203 0000 0000 2020 51", TPPName: "Acme Finance"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "psd2: created, %s\n", c.Status)
	if _, err := consent.EnterCredentials(ctx, "acme", c.ID, "p-mallory"); errors.Is(err, psd2.ErrIBANNotOwned) {
		fmt.Fprintln(out, "psd2: p-mallory does not own the IBAN (1 attempt counted)")
	}
	if c, err = consent.EnterCredentials(ctx, "acme", c.ID, "p-alice"); err != nil {
		return err
	}
	fmt.Fprintf(out, "psd2: p-alice logged in, %s\n", c.Status)
	if c, err = consent.CompleteSecondFactor(ctx, c.ID, true); err != nil {
		return err
	}
	fmt.Fprintf(out, "psd2: second factor passed, %s\n", c.Status)

	// A TOTP login.
	const secret = "JBSWY3DPEHPK3PXP"
	totpFactor, err := totp.New(store, totp.Options{Clock: clock})
	if err != nil {
		return err
	}
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{"alice": {{FactorKey: totp.Key, Secret: secret}}})
	logins, err := authn.NewService(store, registry, []authn.Factor{totpFactor}, authn.Options{Engine: challenge.EngineOptions{Clock: clock}})
	if err != nil {
		return err
	}
	const agent = "embedded"
	r, err := logins.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice"})
	if err != nil {
		return err
	}
	if r, err = logins.Init(ctx, agent, r.CorrelationID, r.Nonce, totp.Key, nil); err != nil {
		return err
	}
	code, err := otptotp.GenerateCode(secret, clock.Now()) // what alice's app shows
	if err != nil {
		return err
	}
	if r, err = logins.Validate(ctx, agent, r.CorrelationID, r.Nonce, code); err != nil {
		return err
	}
	if r, err = logins.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); err != nil {
		return err
	}
	fmt.Fprintf(out, "authn: alice is %s\n", r.State)
	return nil
}
