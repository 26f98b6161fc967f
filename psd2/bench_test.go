package psd2_test

import (
	"context"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

// BenchmarkServiceFlow runs a whole PSD2 consent challenge through the
// service on the memory store: Create, EnterCredentials (ownership check,
// two transitions, a fresh redirect token) and CompleteSecondFactor.
// DESIGN.md's budget for this is 5 µs and 40 allocations. The clock jumps
// past TTL and retention every 4096 flows, so the store keeps a bounded
// working set, as in production. The second run has a memory Limiter,
// which charges each creation to the bank's starts.
func BenchmarkServiceFlow(b *testing.B) {
	b.Run("no limiter", func(b *testing.B) { benchmarkServiceFlow(b, false) })
	b.Run("memory limiter", func(b *testing.B) { benchmarkServiceFlow(b, true) })
}

func benchmarkServiceFlow(b *testing.B, limited bool) {
	clock := challengetest.NewClock()
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	opts := psd2.Options{Engine: challenge.EngineOptions{Clock: clock}}
	if limited {
		opts.Engine.Limiter, _ = challenge.NewMemoryLimiter(challenge.Limits{}, clock)
	}
	svc, err := psd2.NewService(store, accounts, redirects, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := psd2.CreateRequest{IBAN: "DE02120300000000202051", TPPName: "Acme Finance", Caller: "bank"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n++; n%4096 == 0 {
			clock.Advance(2 * time.Hour)
		}
		c, err := svc.Create(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.EnterCredentials(ctx, "acme", c.ID, "p-alice"); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.CompleteSecondFactor(ctx, c.ID, true); err != nil {
			b.Fatal(err)
		}
	}
}
