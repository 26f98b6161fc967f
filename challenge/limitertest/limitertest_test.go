package limitertest_test

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/limitertest"
	"github.com/challengekit/challengekit/internal/suitetest"
)

func memory(t *testing.T, cfg limitertest.Config) *challenge.MemoryLimiter {
	l, err := challenge.NewMemoryLimiter(cfg.Limits, cfg.Clock)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestMemoryLimiterConforms(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter { return memory(t, cfg) })
}

// buggy wraps the memory limiter and breaks one promise of the contract,
// so that the suite can be shown to catch it.
type buggy struct {
	challenge.Limiter
	bug string
}

func (b buggy) Start(ctx context.Context, o challenge.Origin) error {
	switch b.bug {
	case "ignores-context":
		ctx = context.Background()
	case "charges-the-caller-first":
		if err := b.Limiter.Start(ctx, challenge.Origin{Caller: o.Caller}); err != nil || o.Source == "" {
			return err
		}
		return b.Limiter.Start(ctx, challenge.Origin{Caller: "sources of " + o.Caller, Source: o.Source})
	case "one-source-budget":
		o.Caller = ""
	}
	return b.Limiter.Start(ctx, o)
}

func (b buggy) Attempt(ctx context.Context, a challenge.Attempt) error {
	switch b.bug {
	case "ignores-context":
		ctx = context.Background()
	case "caps-each-source":
		a.Subject += "\x00" + a.Source
	case "holds-every-source":
		a.Source = ""
	}
	return b.Limiter.Attempt(ctx, a)
}

func (b buggy) Refund(ctx context.Context, a challenge.Attempt) error {
	switch b.bug {
	case "never-refunds":
		return nil
	case "refunds-any-charge":
		a.ID = "" // takes back whichever: a refund sent twice takes back two
		return b.Limiter.Refund(ctx, a)
	}
	return b.Limiter.Refund(ctx, a)
}

func (b buggy) Deliver(ctx context.Context, d challenge.Delivery) error {
	switch b.bug {
	case "sends-without-limit":
		return nil
	case "one-delivery-budget":
		d.Source = "" // every source spends one budget: a stranger spends the victim's
	}
	return b.Limiter.Deliver(ctx, d)
}

// TestSuiteCatchesBrokenLimiters runs the suite, in a child process,
// against limiters that each break one promise, and checks that the suite
// fails them in the cases that test that promise.
func TestSuiteCatchesBrokenLimiters(t *testing.T) {
	suitetest.Catches(t, "TestSuiteCatchesBrokenLimiters", "LIMITERTEST_BUG", func(bug string) {
		limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
			return buggy{Limiter: memory(t, cfg), bug: bug}
		})
	}, []suitetest.Bug{
		{Name: "ignores-context", MustFail: []string{"A done context makes every method fail and charge nothing"}},
		{Name: "charges-the-caller-first", MustFail: []string{"Starts: a source has a budget of its own, and a refusal charges neither"}},
		{Name: "one-source-budget", MustFail: []string{"Starts: a source is budgeted per caller"}},
		{Name: "caps-each-source", MustFail: []string{"Attempts: a subject's failures from every source meet one hard cap"}},
		{Name: "holds-every-source", MustFail: []string{"Attempts: holding one source holds no other"}},
		{Name: "never-refunds", MustFail: []string{"Attempts: a refunded attempt is no failure"}},
		{Name: "sends-without-limit", MustFail: []string{"Deliveries: at most Events in any period"}},
		{Name: "one-delivery-budget", MustFail: []string{"Deliveries: one source spends part of a destination's, every source its ceiling"}},
		{Name: "refunds-any-charge", MustFail: []string{"Refunds: a charge is taken back once, and only its own"}},
	})
}
