package challenge

import (
	"fmt"
	"strings"
	"testing"
)

// TestCheckWithFSMCatchesATableThatDisagreesWithLooplab tampers with a
// built Machine's table, as a bug in NewMachine (or a change in looplab/fsm)
// would, and expects the construction check to name each disagreement.
func TestCheckWithFSMCatchesATableThatDisagreesWithLooplab(t *testing.T) {
	newMachine := func() *Machine {
		m, err := NewMachine(Definition{Name: "door", Initial: "closed", Transitions: []Transition{
			{Event: "open", From: []State{"closed"}, To: "opened"},
			{Event: "close", From: []State{"opened"}, To: "closed"},
			{Event: "lock", From: []State{"closed"}, To: "locked"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for name, tc := range map[string]struct {
		tamper func(m *Machine)
		want   string
	}{
		"other target":      {func(m *Machine) { m.next[transitionKey{"closed", "open"}] = "locked" }, `looplab/fsm takes "open" from "closed" to "opened", the table to "locked"`},
		"missing row":       {func(m *Machine) { delete(m.next, transitionKey{"opened", "close"}) }, `disagree on whether "close" is allowed from "opened"`},
		"row looplab lacks": {func(m *Machine) { m.next[transitionKey{"opened", "lock"}] = "locked" }, `disagree on whether "lock" is allowed from "opened"`},
	} {
		m := newMachine()
		tc.tamper(m)
		var problems []string
		m.checkWithFSM(func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) })
		if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
			t.Errorf("%s: problems %q; want one containing %q", name, problems, tc.want)
		}
	}
	var none []string
	newMachine().checkWithFSM(func(format string, args ...any) { none = append(none, fmt.Sprintf(format, args...)) })
	if len(none) != 0 {
		t.Fatalf("an untouched machine disagrees with looplab: %q", none)
	}
}
