package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/totpsteps"
)

// BenchmarkTOTPLogin runs a whole factor transaction on the memory store, as
// the PUT /authn/v1 endpoint does: Begin, Init with ChallengeOMATOTP,
// Validate the code, Finalize with success (four nonce rotations, four
// store writes and the per-user TOTP replay guard). The clock moves one
// TOTP step (30 s) per login, so every login has a fresh code, and old
// transactions expire and are reclaimed as in production. Codes are
// computed before the timer runs: they are the user's work, not the
// server's. Nothing is logged. The second run has a memory Limiter: Begin
// charges the agent's starts, Validate charges and refunds an attempt.
func BenchmarkTOTPLogin(b *testing.B) {
	b.Run("no limiter", func(b *testing.B) { benchmarkTOTPLogin(b, newFixtureLogging(b, authn.Options{}, zerolog.Disabled)) })
	b.Run("memory limiter", func(b *testing.B) {
		limits := challenge.Limits{}
		benchmarkTOTPLogin(b, buildFixture(b, authn.Options{}, zerolog.Disabled, &limits))
	})
}

func benchmarkTOTPLogin(b *testing.B, f *fixture) {
	ctx := context.Background()
	start := f.clock.Now()
	codes := totpsteps.Steps{Secret: totpSecret, Start: start}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r, err := f.svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice"})
		if err != nil {
			b.Fatal(err)
		}
		if r, err = f.svc.Init(ctx, agent, r.CorrelationID, r.Nonce, totp.Key, nil); err != nil {
			b.Fatal(err)
		}
		if r, err = f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, codes.Code(b, i)); err != nil {
			b.Fatal(err)
		}
		if r, err = f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); err != nil || r.State != authn.StateAuthenticated {
			b.Fatalf("Finalize: %+v, %v", r, err)
		}
		i++
		f.clock.Advance(30 * time.Second)
	}
}
