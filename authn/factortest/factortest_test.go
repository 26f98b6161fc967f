package factortest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/suitetest"
)

// words is a passive factor that sends a notice at Init and then asks for
// two words, one at a time; each word is good once a minute, like a TOTP
// code. Written to the contract, it keeps which word it asks in its
// state, and claims a word for its transaction. bug breaks it.
type words struct {
	bug   string
	clock challenge.Clock

	mu    sync.Mutex
	sent  int
	asked map[string]int  // by transaction: "keeps-state-outside"
	used  map[string]bool // words accepted, by user and word
}

var list = []string{"alpha", "beta"}

func (w *words) Key() string   { return "Words" }
func (w *words) Passive() bool { return true }

func (w *words) send(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent++
	return nil
}

func (w *words) Init(ctx context.Context, req authn.InitRequest) (authn.InitResult, error) {
	res := authn.InitResult{State: []byte("0"), Prompts: []authn.KeyValue{{Key: "word", Value: "0"}}}
	if w.bug == "sends-before-the-save" {
		if err := w.send(ctx); err != nil {
			return authn.InitResult{}, err
		}
	} else {
		res.Deliver = w.send
	}
	w.mu.Lock()
	w.asked[req.TransactionID] = 0
	w.mu.Unlock()
	return res, nil
}

func (w *words) Validate(_ context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, _ := strconv.Atoi(string(req.State))
	if w.bug == "keeps-state-outside" {
		i = w.asked[req.TransactionID]
	}
	key := fmt.Sprint(req.UserID, "\x00", req.Answer, "\x00", w.clock.Now().Unix()/60)
	// A word claimed by this transaction is this transaction's (the
	// contract's key); "claims-for-anyone" forgets whose it was.
	claimer := req.TransactionID
	if w.bug == "claims-for-anyone" {
		claimer = ""
	}
	if i >= len(list) || req.Answer != list[i] || (w.used[key] && w.bug != "reuses-words" && !w.claimedBy(key, claimer)) {
		if w.bug == "wrong-is-an-error" {
			return authn.ValidateResult{}, errors.New("wrong word")
		}
		return authn.ValidateResult{State: req.State}, nil
	}
	w.used[key] = true
	w.used[key+"\x00"+claimer] = true
	w.asked[req.TransactionID] = i + 1
	next := strconv.Itoa(i + 1)
	res := authn.ValidateResult{State: []byte(next), Correct: true, Satisfied: i+1 == len(list)}
	if !res.Satisfied {
		res.Prompts = []authn.KeyValue{{Key: "word", Value: next}}
	}
	return res, nil
}

func (w *words) claimedBy(key, claimer string) bool {
	return claimer != "" && w.used[key+"\x00"+claimer]
}

func subject(bug string, cfg factortest.Config) factortest.Subject {
	w := &words{bug: bug, clock: cfg.Clock, asked: map[string]int{}, used: map[string]bool{}}
	return factortest.Subject{
		Factor: w,
		Right: func(prompts []authn.KeyValue) string {
			i, _ := strconv.Atoi(prompts[0].Value)
			return list[i]
		},
		Wrong: func([]authn.KeyValue) string { return "gamma" },
		Delivered: func() int {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.sent
		},
		OneTime: true,
	}
}

func TestAFactorWrittenToTheContractConforms(t *testing.T) {
	factortest.Run(t, func(_ *testing.T, cfg factortest.Config) factortest.Subject { return subject("", cfg) })
}

// TestSuiteCatchesBrokenFactors runs the suite, in a child process,
// against the words factor broken in each way a factor's author can
// break the contract, and expects it to fail.
func TestSuiteCatchesBrokenFactors(t *testing.T) {
	suitetest.Catches(t, "TestSuiteCatchesBrokenFactors", "FACTORTEST_BUG", func(bug string) {
		factortest.Run(t, func(_ *testing.T, cfg factortest.Config) factortest.Subject { return subject(bug, cfg) })
	}, []suitetest.Bug{
		{Name: "sends-before-the-save", MustFail: []string{"a login whose step 1 loses the race to save authn"}},
		{Name: "keeps-state-outside", MustFail: []string{"a login whose step 2 loses the race to save authn"}},
		{Name: "claims-for-anyone", MustFail: []string{"a login whose step 2 loses the race to save authn"}},
		{Name: "wrong-is-an-error", MustFail: []string{"a wrong answer is no error, and the budget runs out",
			"a wrong answer whose save loses a race counts once"}},
		{Name: "reuses-words", MustFail: []string{"a right answer is good once"}},
	})
}
