package authn_test

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func TestAnAuditTrailHasTheUserAndTheirAddressOfEveryChange(t *testing.T) {
	audit := &challengetest.Recorder{}
	f := newFixture(t, authn.Options{Engine: challenge.EngineOptions{Observer: audit}})
	ctx := context.Background()
	r, err := f.svc.Begin(ctx, authn.BeginRequest{ClientID: agent, UserID: "alice", Source: "ip:203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	r = f.init(t, r, totp.Key)
	if r, err = f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, "000000"); err != nil || !r.Wrong {
		t.Fatalf("a wrong code: %+v, %v", r, err)
	}
	if r, err = f.svc.Validate(ctx, agent, r.CorrelationID, r.Nonce, f.code(t)); err != nil || r.Wrong {
		t.Fatalf("the right code: %+v, %v", r, err)
	}
	if _, err = f.svc.Finalize(ctx, agent, r.CorrelationID, r.Nonce, authn.ResultSuccess, ""); err != nil {
		t.Fatal(err)
	}
	changes := audit.Changes()
	if len(changes) < 5 {
		t.Fatalf("observed %d changes, want a create, an init, two validations and a finalize: %+v", len(changes), changes)
	}
	failed := 0
	for i, c := range changes {
		if c.Subject != "alice" || c.Source != "ip:203.0.113.7" {
			t.Errorf("change %d (%s → %s): subject %q source %q, want alice from ip:203.0.113.7", i, c.From, c.To, c.Subject, c.Source)
		}
		if c.Failed {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed attempts observed, want 1", failed)
	}

	// An agent that reports no address stands for it.
	audit2 := &challengetest.Recorder{}
	f = newFixture(t, authn.Options{Engine: challenge.EngineOptions{Observer: audit2}})
	f.init(t, f.begin(t, "alice"), totp.Key)
	for i, c := range audit2.Changes() {
		if i == 0 && c.Source != "" {
			t.Errorf("the create's source %q, want none: the agent reported none", c.Source)
		}
		if i > 0 && c.Source != "agent:"+agent {
			t.Errorf("change %d: source %q, want agent:%s", i, c.Source, agent)
		}
		if c.Subject != "alice" {
			t.Errorf("change %d: subject %q, want alice", i, c.Subject)
		}
	}
}
