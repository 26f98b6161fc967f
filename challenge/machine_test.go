package challenge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/looplab/fsm"

	"github.com/challengekit/challengekit/challenge"
)

// consent is a machine shaped like the PSD2 flow, used throughout the tests.
var consentDef = challenge.Definition{
	Name:    "consent",
	Initial: "pending",
	Transitions: []challenge.Transition{
		{Event: "enter_credentials", From: []challenge.State{"pending"}, To: "credentials_entered"},
		{Event: "redirect", From: []challenge.State{"credentials_entered"}, To: "redirected"},
		{Event: "touch", From: []challenge.State{"redirected"}, To: "redirected"}, // a self-transition
		{Event: "authorize", From: []challenge.State{"redirected"}, To: "authorized"},
		{Event: "fail", From: []challenge.State{"pending", "credentials_entered", "redirected"}, To: "failed"},
		{Event: "expire", From: []challenge.State{"pending", "credentials_entered", "redirected"}, To: "expired"},
	},
	Expire: "expire",
	Lock:   "fail",
}

func newConsent(t testing.TB) *challenge.Machine {
	t.Helper()
	m, err := challenge.NewMachine(consentDef)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewMachineDescribesTheMachine(t *testing.T) {
	m := newConsent(t)
	wantStates := []challenge.State{"authorized", "credentials_entered", "expired", "failed", "pending", "redirected"}
	if got := m.States(); !slices.Equal(got, wantStates) {
		t.Errorf("States() = %v, want %v", got, wantStates)
	}
	for _, s := range wantStates {
		want := s == "authorized" || s == "expired" || s == "failed"
		if m.IsFinal(s) != want {
			t.Errorf("IsFinal(%s) = %v, want %v", s, !want, want)
		}
	}
	if m.ExpiredState() != "expired" || m.LockedState() != "failed" || m.Initial() != "pending" || m.Name() != "consent" {
		t.Errorf("ExpiredState, LockedState, Initial, Name = %q %q %q %q", m.ExpiredState(), m.LockedState(), m.Initial(), m.Name())
	}
}

func TestNewMachineRejectsBadDefinitions(t *testing.T) {
	edit := func(f func(d *challenge.Definition)) challenge.Definition {
		d := consentDef
		d.Transitions = slices.Clone(consentDef.Transitions)
		f(&d)
		return d
	}
	for _, tc := range []struct {
		name    string
		def     challenge.Definition
		problem string
	}{
		{"an empty name", edit(func(d *challenge.Definition) { d.Name = "" }), `name "" is not an identifier`},
		{"no transitions", challenge.Definition{Name: "x", Initial: "a"}, "no transitions"},
		{"an initial state outside the table", edit(func(d *challenge.Definition) { d.Initial = "nowhere" }), `initial state "nowhere" is not in the table`},
		{"a state name with a space", edit(func(d *challenge.Definition) {
			d.Transitions = append(d.Transitions, challenge.Transition{Event: "block", From: []challenge.State{"pending"}, To: "challenge blocked"})
		}), `state "challenge blocked" (target of "block") is not an identifier`},
		{"an event with no source", edit(func(d *challenge.Definition) {
			d.Transitions = append(d.Transitions, challenge.Transition{Event: "orphan", To: "failed"})
		}), `event "orphan" has no source state`},
		{"one event leading two ways from one state", edit(func(d *challenge.Definition) {
			d.Transitions = append(d.Transitions, challenge.Transition{Event: "redirect", From: []challenge.State{"credentials_entered"}, To: "failed"})
		}), `event "redirect" from "credentials_entered" leads to both`},
		{"an expire event missing from a non-final state", edit(func(d *challenge.Definition) {
			d.Transitions[len(d.Transitions)-1].From = []challenge.State{"pending"}
		}), `expire event "expire" is not allowed from non-final state "credentials_entered"`},
		{"an expire event not in the table", edit(func(d *challenge.Definition) { d.Expire = "lapse" }), `expire event "lapse" is not in the table`},
		{"a lock event leading to a non-final state", edit(func(d *challenge.Definition) { d.Lock = "redirect" }), `lock event "redirect" leads to non-final state "redirected"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := challenge.NewMachine(tc.def)
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("NewMachine: %v; want an error containing %q", err, tc.problem)
			}
		})
	}
}

// TestFireFollowsTheTableInEveryState fires every event in every state and
// checks the outcome against the definition, and against looplab/fsm itself.
func TestFireFollowsTheTableInEveryState(t *testing.T) {
	m := newConsent(t)
	want := map[[2]string]challenge.State{}
	for _, tr := range consentDef.Transitions {
		for _, from := range tr.From {
			want[[2]string{string(from), string(tr.Event)}] = tr.To
		}
	}
	var events fsm.Events
	for _, tr := range consentDef.Transitions {
		src := make([]string, len(tr.From))
		for i, s := range tr.From {
			src[i] = string(s)
		}
		events = append(events, fsm.EventDesc{Name: string(tr.Event), Src: src, Dst: string(tr.To)})
	}
	for _, from := range m.States() {
		for _, ev := range m.Events() {
			to, allowed := want[[2]string{string(from), string(ev)}]
			if upstream := fsm.NewFSM(string(from), events, nil).Can(string(ev)); upstream != allowed {
				t.Errorf("looplab Can(%s, %s) = %v, but the table says %v", from, ev, upstream, allowed)
			}
			if m.Can(from, ev) != allowed {
				t.Errorf("Can(%s, %s) = %v, want %v", from, ev, !allowed, allowed)
			}
			rec := &challenge.Record{State: from}
			err := m.Fire(context.Background(), rec, ev)
			if allowed {
				if err != nil || rec.State != to {
					t.Errorf("Fire(%s, %s) = %v, state %s; want nil, state %s", from, ev, err, rec.State, to)
				}
				continue
			}
			var te *challenge.TransitionError
			if !errors.As(err, &te) || te.From != from || te.Event != ev || rec.State != from {
				t.Errorf("Fire(%s, %s) = %v, state %s; want a TransitionError and state unchanged", from, ev, err, rec.State)
			}
			if errors.Is(err, challenge.ErrFinal) != m.IsFinal(from) {
				t.Errorf("Fire(%s, %s): errors.Is(err, ErrFinal) = %v, want %v", from, ev, !m.IsFinal(from), m.IsFinal(from))
			}
		}
	}
}

func TestAvailableIsSorted(t *testing.T) {
	m := newConsent(t)
	want := []challenge.Event{"expire", "enter_credentials", "fail"}
	slices.Sort(want)
	for range 20 { // looplab's AvailableTransitions comes back in map order
		if got := m.Available("pending"); !slices.Equal(got, want) {
			t.Fatalf("Available(pending) = %v, want %v", got, want)
		}
	}
}

func TestFireIsSafeFromManyGoroutines(t *testing.T) {
	m := newConsent(t)
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 200 {
				rec := &challenge.Record{State: "pending"}
				path := []challenge.Event{"enter_credentials", "redirect", "authorize"}
				if (g+i)%2 == 0 {
					path = []challenge.Event{"enter_credentials", "fail"}
				}
				for _, ev := range path {
					if err := m.Fire(context.Background(), rec, ev); err != nil {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// Hazards of looplab/fsm v1.0.3 (DESIGN.md). Each test shows the upstream
// behaviour, then that a Machine is immune: it consults looplab only at
// construction, never with a request's context, and transitions by table.
// If an upgrade changes the upstream behaviour, the first half fails: then
// revisit the note in the Machine's documentation.

func TestHazardCancelledContextWedgesUpstreamButNotMachine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := fsm.NewFSM("a", fsm.Events{{Name: "go", Src: []string{"a"}, Dst: "b"}, {Name: "back", Src: []string{"b"}, Dst: "a"}}, nil)
	if err := f.Event(ctx, "go"); !errors.Is(err, context.Canceled) {
		t.Fatalf("upstream Event with a cancelled context: %v", err)
	}
	var stuck fsm.InTransitionError
	if err := f.Event(context.Background(), "go"); !errors.As(err, &stuck) {
		t.Fatalf("upstream FSM recovered after a cancelled Event (%v): revisit", err)
	}

	m := newConsent(t)
	rec := &challenge.Record{State: "pending"}
	if err := m.Fire(ctx, rec, "enter_credentials"); !errors.Is(err, context.Canceled) || rec.State != "pending" {
		t.Fatalf("Fire with a cancelled context = %v, state %s; want context.Canceled, state pending", err, rec.State)
	}
	for range 100 { // the Machine was not wedged
		rec := &challenge.Record{State: "pending"}
		if err := m.Fire(context.Background(), rec, "enter_credentials"); err != nil {
			t.Fatalf("Fire after a cancelled Fire: %v", err)
		}
	}
}

func TestHazardSelfTransitionReportsAnErrorUpstreamButSucceedsInMachine(t *testing.T) {
	f := fsm.NewFSM("a", fsm.Events{{Name: "stay", Src: []string{"a"}, Dst: "a"}}, nil)
	var nt fsm.NoTransitionError
	if err := f.Event(context.Background(), "stay"); !errors.As(err, &nt) {
		t.Fatalf("upstream self-transition returned %v: the NoTransitionError guard may be obsolete", err)
	}
	m := newConsent(t)
	rec := &challenge.Record{State: "redirected"}
	if err := m.Fire(context.Background(), rec, "touch"); err != nil || rec.State != "redirected" {
		t.Fatalf("Fire(self-transition) = %v, state %s", err, rec.State)
	}
}

func TestHazardMistypedCallbackKeysAreIgnoredUpstream(t *testing.T) {
	called := false
	f := fsm.NewFSM("a", fsm.Events{{Name: "verify", Src: []string{"a"}, Dst: "verified"}},
		fsm.Callbacks{"enter_verifed": func(context.Context, *fsm.Event) { called = true }})
	if err := f.Event(context.Background(), "verify"); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("upstream now honours a mistyped callback key; revisit")
	}
	// A Machine takes no string-keyed callbacks at all: flows act on the
	// result of Fire, and Definition names are checked at construction.
}

func TestMermaidIsGeneratedAndStable(t *testing.T) {
	m := newConsent(t)
	got := m.Mermaid()
	for _, line := range []string{
		"stateDiagram-v2",
		"    [*] --> pending",
		"    credentials_entered --> redirected: redirect",
		"    pending --> failed: fail",
		"    authorized --> [*]",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("Mermaid() lacks line %q:\n%s", line, got)
		}
	}
	if again := newConsent(t).Mermaid(); again != got {
		t.Errorf("Mermaid() differs between two identical machines:\n%s\n---\n%s", got, again)
	}
}

// FuzzFire drives a Machine with arbitrary event sequences and checks every
// step against a plain map of the definition.
func FuzzFire(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{5, 5, 0, 4})
	f.Add([]byte{1, 0, 2, 2, 2, 3, 4})
	m := newConsent(f)
	events := m.Events()
	table := map[[2]string]challenge.State{}
	for _, tr := range consentDef.Transitions {
		for _, from := range tr.From {
			table[[2]string{string(from), string(tr.Event)}] = tr.To
		}
	}
	f.Fuzz(func(t *testing.T, seq []byte) {
		rec := &challenge.Record{State: m.Initial()}
		for _, b := range seq {
			ev := events[int(b)%len(events)]
			to, allowed := table[[2]string{string(rec.State), string(ev)}]
			from := rec.State
			err := m.Fire(context.Background(), rec, ev)
			switch {
			case allowed && (err != nil || rec.State != to):
				t.Fatalf("Fire(%s, %s) = %v, state %s; want state %s", from, ev, err, rec.State, to)
			case !allowed && (!errors.Is(err, challenge.ErrInvalidTransition) || rec.State != from):
				t.Fatalf("Fire(%s, %s) = %v, state %s; want a refusal", from, ev, err, rec.State)
			}
		}
	})
}
