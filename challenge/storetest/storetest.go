// Package storetest is the conformance suite every [challenge.Store] must
// pass. A backend calls [Run] from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
//			return mystore.New(client, mystore.Options{Clock: cfg.Clock, Retention: cfg.Retention})
//		})
//	}
//
// The suite uses fresh random IDs in every case, so a store over a shared
// backend need not be emptied between cases.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// Config is how the suite wants a store built for one case.
type Config struct {
	// Clock is the clock the store must judge expiry and retention by.
	Clock challenge.Clock
	// Retention is how long the store must keep an expired record readable.
	Retention time.Duration
}

// NewStore builds the store under test for one case. It may call t.Cleanup
// to release what it opened, and t.Skip if its backend is unavailable.
type NewStore func(t *testing.T, cfg Config) challenge.Store

// Retention is the retention window the suite configures.
const Retention = 10 * time.Minute

// Kind is the record kind the suite writes.
const Kind = "storetest"

// Racers is how many goroutines race on one record.
const Racers = 64

// Run runs every conformance case against stores built by newStore, each
// as a subtest; the View cases go through challenge.View, so they hold a
// store that implements [challenge.Viewer] to its rules, and check the
// fallback on Get for one that does not; the ViewChanged cases, likewise,
// go through challenge.ViewChanged.
func Run(t *testing.T, newStore NewStore) {
	all := append(append(cases[:len(cases):len(cases)], viewCases...), changeCases...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			clock := challengetest.NewClock()
			s := newStore(t, Config{Clock: clock, Retention: Retention})
			c.run(t, &env{store: s, clock: clock, prefix: challenge.NewID()[:10] + "-"})
		})
	}
}

type env struct {
	store  challenge.Store
	clock  *challengetest.FakeClock
	prefix string
	n      int
}

// id returns an ID no other case or run uses.
func (e *env) id() string {
	e.n++
	return fmt.Sprintf("%s%d", e.prefix, e.n)
}

// record returns a new, valid record with every field set.
func (e *env) record() *challenge.Record {
	now := e.clock.Now().UTC()
	return &challenge.Record{
		Kind:      Kind,
		ID:        e.id(),
		State:     "pending",
		Subject:   "subject-1",
		Attempts:  1,
		CreatedAt: now,
		UpdatedAt: now.Add(time.Second),
		ExpiresAt: now.Add(time.Minute),
		Data:      []byte(`{"k":"v"}`),
	}
}

func (e *env) mustCreate(t *testing.T, rec *challenge.Record) *challenge.Record {
	t.Helper()
	if err := e.store.Create(context.Background(), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.ID, err)
	}
	return rec.Clone()
}

func (e *env) mustGet(t *testing.T, id string) *challenge.Record {
	t.Helper()
	got, err := e.store.Get(context.Background(), Kind, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return got
}

func (e *env) wantGone(t *testing.T, id string) {
	t.Helper()
	got, err := e.store.Get(context.Background(), Kind, id)
	if !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("Get(%s) = %+v, %v; want ErrNotFound", id, got, err)
	}
}

// sameRecord fails t unless got equals want field by field (times by
// instant, in UTC).
func sameRecord(t *testing.T, got, want *challenge.Record) {
	t.Helper()
	var diffs []string
	diff := func(field string, g, w any) { diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.Kind != want.Kind {
		diff("Kind", got.Kind, want.Kind)
	}
	if got.ID != want.ID {
		diff("ID", got.ID, want.ID)
	}
	if got.State != want.State {
		diff("State", got.State, want.State)
	}
	if got.Version != want.Version {
		diff("Version", got.Version, want.Version)
	}
	if got.Subject != want.Subject {
		diff("Subject", got.Subject, want.Subject)
	}
	if got.Attempts != want.Attempts {
		diff("Attempts", got.Attempts, want.Attempts)
	}
	for _, tm := range []struct {
		field     string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"UpdatedAt", got.UpdatedAt, want.UpdatedAt}, {"ExpiresAt", got.ExpiresAt, want.ExpiresAt}} {
		if !tm.got.Equal(tm.want) {
			diff(tm.field, tm.got, tm.want)
		}
		if tm.got.Location() != time.UTC {
			diff(tm.field+".Location()", tm.got.Location(), time.UTC)
		}
	}
	if !bytes.Equal(got.Data, want.Data) {
		if len(got.Data) > 64 || len(want.Data) > 64 {
			diff("Data", fmt.Sprintf("%d bytes", len(got.Data)), fmt.Sprintf("%d other bytes", len(want.Data)))
		} else {
			diff("Data", fmt.Sprintf("%q", got.Data), fmt.Sprintf("%q", want.Data))
		}
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.FailNow()
	}
}

// race starts n goroutines at once, each running fn(i), and returns their
// errors by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	challengetest.Race(n, func(i int) { errs[i] = fn(i) })
	return errs
}

// oneWinner checks that exactly one of errs is nil and every other matches
// loss, and returns the winner's index.
func oneWinner(t *testing.T, errs []error, loss error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loss):
			t.Fatalf("racer %d: %v; want %v", i, err, loss)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer won")
	}
	return winner
}

// RunWrapper runs the suite against a store wrapper (metrics, tracing, a
// cache: anything that takes a challenge.Store and returns one): wrap is
// given a memory store built for each case, once as it is, with a View
// and a ViewChanged of its own, and once with them hidden, so that both
// of the wrapper's read paths (forwarding them, or falling back on Get)
// are held to the contract.
func RunWrapper(t *testing.T, wrap func(t *testing.T, next challenge.Store) challenge.Store) {
	for name, hideView := range map[string]bool{"with View": false, "without View": true} {
		t.Run(name, func(t *testing.T) {
			Run(t, func(t *testing.T, cfg Config) challenge.Store {
				mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: cfg.Clock, Retention: cfg.Retention})
				if err != nil {
					t.Fatal(err)
				}
				var next challenge.Store = mem
				if hideView {
					next = struct{ challenge.Store }{mem}
				}
				return wrap(t, next)
			})
		})
	}
}
