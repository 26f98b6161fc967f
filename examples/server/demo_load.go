package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// Bounds of the load-test flags.
const (
	maxDemoLoadUsers = 10_000_000
	maxDemoLoadKBA   = 10_000
	maxDemoHeld      = 10_000_000
)

// demoUsers answers for the named demo users and for the load-test users
// (cmd/challengeload's):
//
//   - load-0 … load-(load-1), each with ChallengeOMATOTP on the demo secret;
//   - mail-0 … mail-(load-1), each with ChallengeEmail to mail-N@example.com,
//     whose codes the demo sender writes to -demo-outbox like bob's;
//   - kba-0 … kba-(kba-1), each with ChallengeKBA on the security answers
//     seedLoad enrolls for kba-N.acmepaymentscorp.
//
// A TOTP code passes once per user and step, a destination gets only so
// many codes an hour, and each user may start only so many transactions
// per window, so a load test spreads its logins over many users, as a
// real one would over its test accounts. The users are computed, not
// stored: a million of them cost no memory, and nothing for the garbage
// collector to scan.
type demoUsers struct {
	named     *authn.MemoryRegistry
	load, kba int
	passkeys  passkey.Credentials
	codes     *recovery.Factor
}

func (d demoUsers) Registrations(ctx context.Context, userID string) ([]authn.Registration, bool, error) {
	if loadUser(userID, "load-", d.load) {
		return []authn.Registration{{FactorKey: totp.Key, Secret: demoTOTPSecret}}, true, nil
	}
	if loadUser(userID, "mail-", d.load) {
		return []authn.Registration{{FactorKey: otpcode.EmailKey, Destination: userID + "@example.com"}}, true, nil
	}
	if loadUser(userID, "kba-", d.kba) {
		return []authn.Registration{{FactorKey: kba.Key, Subject: kbaSubject(userID)}}, true, nil
	}
	regs, known, err := d.named.Registrations(ctx, userID)
	if err != nil || !known {
		return regs, known, err
	}
	regs, err = d.withFactorsSetUp(ctx, userID, regs)
	return regs, err == nil, err
}

// loadUser reports whether userID is prefix followed by a number below n,
// written without leading zeros.
func loadUser(userID, prefix string, n int) bool {
	s, ok := strings.CutPrefix(userID, prefix)
	if !ok {
		return false
	}
	i, err := strconv.Atoi(s)
	return err == nil && i >= 0 && i < n && strconv.Itoa(i) == s
}

// kbaSubject is a kba-N user's ID in the security-questions service.
func kbaSubject(userID string) string { return userID + "." + demoBusiness }

// seedLoad enrolls the kba-N users (alice's answers, hashed as any
// enrollment is) and creates cfg.demoHeld pending PSD2 challenges through
// the service, as a bank's POST would, but charged to no caller's budget.
// Both run on as many goroutines as the hasher and the store take.
func seedLoad(ctx context.Context, cfg *config, qs *questions.Service, challenges *psd2.Service) error {
	answers := []questions.Answer{
		{ChallengeCode: "com.soa.challenge.question.city.birth", Answer: "Dubai"},
		{ChallengeCode: "com.soa.challenge.question.color", Answer: "Blue"},
		{ChallengeCode: "com.soa.challenge.question.pet", Answer: "Bucktastic"},
	}
	err := parallel(ctx, cfg.demoLoadKBA, func(ctx context.Context, i int) error {
		if _, err := qs.Enroll(ctx, kbaSubject("kba-"+strconv.Itoa(i)), answers); err != nil {
			return fmt.Errorf("demo load enrollment: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	req := psd2.CreateRequest{IBAN: demoAccounts[0].IBAN, TPPName: "Held TPP", TPPID: "tpp-held", Scope: "accounts"}
	return parallel(ctx, cfg.demoHeld, func(ctx context.Context, _ int) error {
		if _, err := challenges.Create(ctx, req); err != nil {
			return fmt.Errorf("demo held challenge: %w", err)
		}
		return nil
	})
}

// parallel runs do(0) … do(n-1) on 32 goroutines, and returns the first
// error, after which it starts no more.
func parallel(ctx context.Context, n int, do func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next int
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	for range min(n, 32) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
