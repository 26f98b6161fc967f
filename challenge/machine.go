package challenge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/looplab/fsm"
)

// Transition is one row of a [Machine]'s table: Event moves a record from
// any state in From to To.
type Transition struct {
	Event Event
	From  []State
	To    State
}

// Definition describes a [Machine]. State and event names are identifiers:
// ASCII letters, digits and underscores, so they are safe in logs, stores
// and diagrams.
type Definition struct {
	// Name names the machine; it is the Kind of the records it governs.
	Name string
	// Initial is the state new records start in.
	Initial State
	// Transitions is the table. A state with no outgoing transition is final.
	Transitions []Transition
	// Expire, if set, is the event the [Engine] fires when a record in a
	// non-final state is past its ExpiresAt. It must be allowed from every
	// non-final state and lead to one final state.
	Expire Event
	// Lock, if set, is the event [Tx.Fail] fires when a record's attempt
	// budget is exhausted. It must lead to one final state.
	Lock Event
}

// Machine is a validated transition table. It is immutable and safe for
// concurrent use.
//
// The machine is defined on github.com/looplab/fsm, and tabulated once:
// NewMachine builds the definition's looplab FSM, fires every event from
// every state on it, and refuses the definition unless looplab's answers
// and the Machine's table agree exactly. A transition is then a lookup in
// that immutable table. No *fsm.FSM is shared between goroutines, pooled,
// or fired with a request's context, so looplab v1.0.3's hazards (a data
// race on a shared FSM, an FSM wedged for good by a cancelled context, a
// self-transition reported as an error) cannot reach a request, and a
// transition allocates nothing. BenchmarkFire compares this with a pool of
// looplab FSMs and with building one per call.
type Machine struct {
	def     Definition
	next    map[transitionKey]State // looplab's transition function, tabulated
	states  []State                 // sorted
	events  []Event                 // sorted
	final   map[State]bool
	expired State // target of Expire, if set
	locked  State // target of Lock, if set
	fsmDefs fsm.Events
}

type transitionKey struct {
	from  State
	event Event
}

// NewMachine validates def and returns its Machine. It reports every
// problem it finds: empty or non-identifier names, an initial state not in
// the table, one event leading from one state to two places, Expire or
// Lock events that do not meet their rules, and any pair of state and event
// on which looplab/fsm and the table disagree.
func NewMachine(def Definition) (*Machine, error) {
	m := &Machine{
		def:   def,
		next:  make(map[transitionKey]State),
		final: make(map[State]bool),
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if !isIdent(def.Name) {
		bad("name %q is not an identifier", def.Name)
	}
	if len(def.Transitions) == 0 {
		bad("no transitions")
	}
	stateSet := map[State]bool{}
	eventSet := map[Event]bool{}
	for _, t := range def.Transitions {
		if !isIdent(string(t.Event)) {
			bad("event %q is not an identifier", t.Event)
		}
		if !isIdent(string(t.To)) {
			bad("state %q (target of %q) is not an identifier", t.To, t.Event)
		}
		if len(t.From) == 0 {
			bad("event %q has no source state", t.Event)
		}
		eventSet[t.Event] = true
		stateSet[t.To] = true
		src := make([]string, 0, len(t.From))
		for _, from := range t.From {
			if !isIdent(string(from)) {
				bad("state %q (source of %q) is not an identifier", from, t.Event)
			}
			stateSet[from] = true
			k := transitionKey{from, t.Event}
			if to, dup := m.next[k]; dup && to != t.To {
				bad("event %q from %q leads to both %q and %q", t.Event, from, to, t.To)
			}
			m.next[k] = t.To
			src = append(src, string(from))
		}
		m.fsmDefs = append(m.fsmDefs, fsm.EventDesc{Name: string(t.Event), Src: src, Dst: string(t.To)})
	}
	if !stateSet[def.Initial] {
		bad("initial state %q is not in the table", def.Initial)
	}
	for s := range stateSet {
		m.states = append(m.states, s)
	}
	for e := range eventSet {
		m.events = append(m.events, e)
	}
	slices.Sort(m.states)
	slices.Sort(m.events)
	for _, s := range m.states {
		m.final[s] = true
	}
	for k := range m.next {
		m.final[k.from] = false
	}

	if def.Expire != "" {
		m.expired = m.terminalOf(def.Expire, bad, "expire")
		for _, s := range m.states {
			if _, ok := m.next[transitionKey{s, def.Expire}]; !ok && !m.final[s] {
				bad("expire event %q is not allowed from non-final state %q", def.Expire, s)
			}
		}
	}
	if def.Lock != "" {
		m.locked = m.terminalOf(def.Lock, bad, "lock")
	}
	if len(problems) == 0 {
		m.checkWithFSM(bad)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("challenge: machine %q: %s", def.Name, strings.Join(problems, "; "))
	}
	return m, nil
}

// checkWithFSM fires every event from every state on the definition's
// looplab FSM and reports each pair where looplab's outcome differs from
// the table's: an event one allows and the other refuses, or a different
// target state.
func (m *Machine) checkWithFSM(bad func(string, ...any)) {
	ctx := context.Background() // never cancelled: a cancelled Event wedges the FSM
	for _, from := range m.states {
		for _, event := range m.events {
			f := fsm.NewFSM(string(from), m.fsmDefs, nil)
			err := f.Event(ctx, string(event))
			fsmAllows := err == nil || isSelfTransition(err)
			var refused fsm.InvalidEventError
			want, allowed := m.next[transitionKey{from, event}]
			switch got := State(f.Current()); {
			case !fsmAllows && !errors.As(err, &refused):
				bad("looplab/fsm failed on %q from %q: %v", event, from, err)
			case allowed != fsmAllows:
				bad("looplab/fsm and the table disagree on whether %q is allowed from %q", event, from)
			case allowed && got != want:
				bad("looplab/fsm takes %q from %q to %q, the table to %q", event, from, got, want)
			}
		}
	}
}

// terminalOf returns the single final state that event leads to, reporting
// a problem if there is none or more than one.
func (m *Machine) terminalOf(event Event, bad func(string, ...any), role string) State {
	var to State
	for k, dst := range m.next {
		if k.event != event {
			continue
		}
		if to != "" && to != dst {
			bad("%s event %q leads to both %q and %q", role, event, to, dst)
		}
		to = dst
	}
	switch {
	case to == "":
		bad("%s event %q is not in the table", role, event)
	case !m.final[to]:
		bad("%s event %q leads to non-final state %q", role, event, to)
	}
	return to
}

// Name returns the machine's name, which is also the Kind of its records.
func (m *Machine) Name() string { return m.def.Name }

// Initial returns the state new records start in.
func (m *Machine) Initial() State { return m.def.Initial }

// States returns every state of the machine, sorted.
func (m *Machine) States() []State { return slices.Clone(m.states) }

// Events returns every event of the machine, sorted.
func (m *Machine) Events() []Event { return slices.Clone(m.events) }

// IsFinal reports whether s is a state of the machine with no outgoing
// transition.
func (m *Machine) IsFinal(s State) bool { return m.final[s] }

// ExpiredState returns the state the Expire event leads to ("" if unset).
func (m *Machine) ExpiredState() State { return m.expired }

// LockedState returns the state the Lock event leads to ("" if unset).
func (m *Machine) LockedState() State { return m.locked }

// Can reports whether event is allowed in state from.
func (m *Machine) Can(from State, event Event) bool {
	_, ok := m.next[transitionKey{from, event}]
	return ok
}

// Available returns the events allowed in state from, sorted.
func (m *Machine) Available(from State) []Event {
	var out []Event
	for _, e := range m.events {
		if m.Can(from, e) {
			out = append(out, e)
		}
	}
	return out
}

// Fire moves rec to the state event leads to from rec.State. It returns a
// [*TransitionError] if the event is not allowed there, and ctx's error if
// ctx is done; either way rec is unchanged. Fire changes rec.State only; it
// does not save the record (the [Engine] does).
func (m *Machine) Fire(ctx context.Context, rec *Record, event Event) error {
	to, err := m.fire(ctx, rec.State, event)
	if err != nil {
		return err
	}
	rec.State = to
	return nil
}

func (m *Machine) fire(ctx context.Context, from State, event Event) (State, error) {
	if err := ctx.Err(); err != nil {
		return from, fmt.Errorf("challenge: %s: %w", m.def.Name, err)
	}
	to, ok := m.next[transitionKey{from, event}]
	if !ok {
		return from, &TransitionError{Machine: m.def.Name, From: from, Event: event, Final: m.final[from]}
	}
	return to, nil
}

// isSelfTransition reports whether err is looplab's report of a successful
// self-transition.
func isSelfTransition(err error) bool {
	var nt fsm.NoTransitionError
	return errors.As(err, &nt) && nt.Err == nil
}

// Mermaid returns the machine as a Mermaid state diagram, generated by
// looplab/fsm (sorted, so the output is stable), with an arrow to [*] from
// each final state.
func (m *Machine) Mermaid() string {
	f := fsm.NewFSM(string(m.def.Initial), m.fsmDefs, nil)
	out, err := fsm.VisualizeWithType(f, fsm.MERMAID)
	if err != nil {
		// Only an unknown diagram type fails, and MERMAID is known.
		panic("challenge: looplab/fsm cannot draw MERMAID: " + err.Error())
	}
	var b strings.Builder
	b.WriteString(out)
	for _, s := range m.states {
		if m.final[s] {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
