package psd2_test

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

func TestAnAuditTrailHasThePersonAndThePartnerOfEveryChange(t *testing.T) {
	clock := challengetest.NewClock()
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: aliceIBAN, Owner: "p-alice", Partner: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		t.Fatal(err)
	}
	audit := &challengetest.Recorder{}
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock, Observer: audit}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := svc.Create(ctx, psd2.CreateRequest{IBAN: aliceIBAN, TPPName: "Acme", Caller: "bank"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = svc.EnterCredentials(ctx, "acme", c.ID, "p-bob") // not the owner
	if _, err := svc.EnterCredentials(ctx, "acme", c.ID, "p-alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteSecondFactor(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		event           challenge.Event
		failed          bool
		subject, source string
	}{
		{"", false, "", ""},            // created by the bank: nobody yet, from nowhere known
		{"", true, "", "partner:acme"}, // a person who is not the owner: not recorded as the subject
		{psd2.EventEnterCredentials, false, "p-alice", "partner:acme"},
		{psd2.EventRedirect, false, "p-alice", "partner:acme"},
		{psd2.EventAuthorize, false, "p-alice", ""}, // the bank's call names no source
	}
	got := audit.Changes()
	if len(got) != len(want) {
		t.Fatalf("observed %d changes, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Event != w.event || g.Failed != w.failed || g.Subject != w.subject || g.Source != w.source {
			t.Errorf("change %d: event %q failed %v subject %q source %q; want %q %v %q %q",
				i, g.Event, g.Failed, g.Subject, g.Source, w.event, w.failed, w.subject, w.source)
		}
	}
}
