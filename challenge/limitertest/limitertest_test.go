package limitertest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/limitertest"
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
	if b.bug == "never-refunds" {
		return nil
	}
	return b.Limiter.Refund(ctx, a)
}

func (b buggy) Deliver(ctx context.Context, destination string) error {
	if b.bug == "sends-without-limit" {
		return nil
	}
	return b.Limiter.Deliver(ctx, destination)
}

const bugEnv = "LIMITERTEST_BUG"

// TestSuiteCatchesBrokenLimiters runs the suite, in a child process,
// against limiters that each break one promise, and checks that the suite
// fails them in the cases that test that promise. In the child (bugEnv
// set) it is the suite run itself.
func TestSuiteCatchesBrokenLimiters(t *testing.T) {
	if bug := os.Getenv(bugEnv); bug != "" {
		limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
			return buggy{Limiter: memory(t, cfg), bug: bug}
		})
		return
	}
	for _, tc := range []struct {
		bug      string
		mustFail []string
	}{
		{"ignores-context", []string{"A done context makes every method fail and charge nothing"}},
		{"charges-the-caller-first", []string{"Starts: a source has a budget of its own, and a refusal charges neither"}},
		{"one-source-budget", []string{"Starts: a source is budgeted per caller"}},
		{"caps-each-source", []string{"Attempts: a subject's failures from every source meet one hard cap"}},
		{"holds-every-source", []string{"Attempts: holding one source holds no other"}},
		{"never-refunds", []string{"Attempts: a refunded attempt is no failure"}},
		{"sends-without-limit", []string{"Deliveries: at most Events in any period"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesBrokenLimiters$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+tc.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a limiter that %s:\n%s", tc.bug, out)
			}
			for _, name := range tc.mustFail {
				line := "--- FAIL: TestSuiteCatchesBrokenLimiters/" + strings.ReplaceAll(name, " ", "_") + " "
				if !strings.Contains(string(out), line) {
					t.Errorf("the suite did not fail %q for a limiter that %s", name, tc.bug)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
