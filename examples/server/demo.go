package main

import (
	"context"
	"fmt"
	"io"

	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// Demo credentials and data.
const (
	demoPartnerToken  = "demo-partner-token"
	demoPartner2Token = "demo-partner2-token"
	demoBankToken     = "demo-bank-token"
	demoBusiness      = "acmepaymentscorp"
	demoAlice         = "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp"
	demoBob           = "eceffbe3-3386-495b-80d3-7526f0eb0edc.acmepaymentscorp"
	demoAdmin         = "admin.acmepaymentscorp"
)

// The PSD2 partners: acme's customers are alice and bob, globex's carol.
var demoPartnerTokens = map[string][]string{
	"acme":   {demoPartnerToken},
	"globex": {demoPartner2Token},
}

var demoAccounts = []psd2.Account{
	{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"},
	{IBAN: "DE02500105170137075030", Owner: "p-bob", Partner: "acme"},
	{IBAN: "GB33BUKB20201555555555", Owner: "p-carol", Partner: "globex"},
}

var demoSessions = []questionshttp.Session{
	{Token: "TokenID=alice-demo", CSRFToken: "csrf-alice-demo", Caller: questionshttp.Caller{UserID: demoAlice}},
	{Token: "TokenID=bob-demo", CSRFToken: "csrf-bob-demo", Caller: questionshttp.Caller{UserID: demoBob}},
	{Token: "TokenID=admin-demo", CSRFToken: "csrf-admin-demo", Caller: questionshttp.Caller{UserID: demoAdmin, SiteAdmin: true}},
}

// seedQuestions stores the demo business's catalog and alice's answers.
// Every question refuses answers that repeat its words, contain the
// user's ID or equal another of the user's answers: rules the catalog
// shows, as it shows the lengths.
func seedQuestions(ctx context.Context, svc *questions.Service) error {
	q := func(code, text string) questions.Question {
		minLen, maxLen, no := 3, 64, false
		return questions.Question{ChallengeCode: "com.soa.challenge.question." + code, ChallengeQuestion: text,
			MinimumLength: &minLen, MaximumLength: &maxLen, IsCaseSensitive: &no,
			CanContainQuestionWords: &no, CanContainUserID: &no, CanEqualOtherAnswers: &no}
	}
	cat := questions.Catalog{RequiredAnswers: 3, Questions: []questions.Question{
		q("city.birth", "What is the city of your birth?"),
		q("color", "What is your favorite color?"),
		q("pet", "What is the name of your pet?"),
		q("mothers.name", "What is your mother's maiden name?"),
		q("school", "What was the name of your first school?"),
	}}
	if _, err := svc.PutCatalog(ctx, demoBusiness, cat); err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	_, err := svc.Enroll(ctx, demoAlice, []questions.Answer{
		{ChallengeCode: "com.soa.challenge.question.city.birth", Answer: "Dubai"},
		{ChallengeCode: "com.soa.challenge.question.color", Answer: "Blue"},
		{ChallengeCode: "com.soa.challenge.question.pet", Answer: "Bucktastic"},
	})
	if err != nil {
		return fmt.Errorf("demo enrollment: %w", err)
	}
	return nil
}

func printDemo(w io.Writer, addr string, cfg *config) {
	fmt.Fprintf(w, `challengekit demo server on http://%s (store: %s)

PSD2 consent challenges, challenges live %v
  partner acme:   Authorization: Bearer %s
  partner globex: Authorization: Bearer %s
  bank:           Authorization: Bearer %s
  accounts: p-alice owns DE02120300000000202051 (acme)
            p-bob   owns DE02500105170137075030 (acme)
            p-carol owns GB33BUKB20201555555555 (globex)
  redirect: %s?consent_challenge=<one-time token>

Security questions, business %s, 3 answers required, each 3 to 64
characters, not repeating its question's words nor containing the user ID,
and different from the user's others (the catalog shows these rules); a
PUT adds or updates the answers it sends and keeps the others; alice
enrolled (Dubai, Blue, Bucktastic)
`, addr, cfg.store, cfg.psd2TTL, demoPartnerToken, demoPartner2Token, demoBankToken, cfg.redirectBase, demoBusiness)
	for _, s := range demoSessions {
		role := ""
		if s.Caller.SiteAdmin {
			role = " (site admin)"
		}
		fmt.Fprintf(w, "  %s%s\n    Cookie: AtmoAuthToken_%s=%s\n    X-Csrf-Token_%s: %s\n",
			s.Caller.UserID, role, demoBusiness, s.Token, demoBusiness, s.CSRFToken)
	}
	outbox := "not written (-demo-outbox FILE writes them)"
	if cfg.demoOutbox != "" {
		outbox = "written to " + cfg.demoOutbox
	}
	if cfg.demoPages {
		outbox += "; the demo pages show their own"
	}
	fmt.Fprintf(w, `
Factor transactions, transactions live %v
  agent: HTTP Basic %s / %s
  alice: ChallengeOMATOTP (base32 secret %s; go run ./examples/totp %s)
         ChallengeKBA (her security answers above)
         ChallengePasskey, ChallengeRecoveryCode once she sets them up (-demo-pages)
  bob:   ChallengeEmail (bob@example.com; codes are %s)
  carol: known, no factor registered (missing registration)
  dave:  ChallengeOMAPUSH only (the demo notifier logs "push sent"; Finalize reports the outcome)
`, cfg.authnTTL, demoAgentID, demoAgentSecret, demoTOTPSecret, demoTOTPSecret, outbox)
	if cfg.demoLoadUsers > 0 {
		fmt.Fprintf(w, "  load-0 … load-%d: ChallengeOMATOTP on alice's secret, for load tests\n", cfg.demoLoadUsers-1)
		fmt.Fprintf(w, "  mail-0 … mail-%d: ChallengeEmail to mail-N@example.com (codes are %s), for load tests\n", cfg.demoLoadUsers-1, outbox)
	}
	if cfg.demoLoadKBA > 0 {
		fmt.Fprintf(w, "  kba-0 … kba-%d: ChallengeKBA on alice's answers, for load tests\n", cfg.demoLoadKBA-1)
	}
	if cfg.demoHeld > 0 {
		fmt.Fprintf(w, "  %d PSD2 challenges created at start and left pending, for load tests\n", cfg.demoHeld)
	}
	if cfg.demoPages {
		fmt.Fprintf(w, `
Demo pages: %s/demo/tpp (the PSD2 consent dance in a browser)
  log in as p-alice: confirm with go run ./examples/totp %s, her security answers
                     (Dubai, Blue, Bucktastic), or a passkey or recovery code she sets
                     up at %s/demo/bank/settings
  log in as p-bob:   confirm with the e-mail code the page's demo outbox shows
`, cfg.demoOrigin(), demoTOTPSecret, cfg.demoOrigin())
	}
	fmt.Fprint(w, "\nStop with Ctrl-C.\n")
}
