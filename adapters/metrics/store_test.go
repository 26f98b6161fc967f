package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/storetest"
)

// The measured store keeps the Store contract, View included, whether the
// store it wraps has a View of its own or not.
func TestTheMeasuredStorePassesTheConformanceSuite(t *testing.T) {
	storetest.RunWrapper(t, func(t *testing.T, next challenge.Store) challenge.Store {
		m, _, _ := newMetrics(t)
		return m.Store("memory", next)
	})
}

// TestAViewIsTimedAndAnErrorOfItsFunctionIsNoFailure: a View is timed as
// "view"; a record that does not decode is the caller's error, not the
// store's, while a backend that fails the read is counted.
func TestAViewIsTimedAndAnErrorOfItsFunctionIsNoFailure(t *testing.T) {
	m, reg, _ := newMetrics(t)
	ctx := context.Background()
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	s := m.Store("memory", mem).(challenge.Viewer)
	if err := mem.Create(ctx, &challenge.Record{Kind: "k", ID: "a", State: "s"}); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("undecodable")
	if err := s.View(ctx, "k", "a", func(*challenge.Record) error { return bad }); err != bad {
		t.Fatalf("View = %v; want fn's error as it is", err)
	}
	if err := s.View(ctx, "k", "missing", func(*challenge.Record) error { return nil }); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("View(missing) = %v", err)
	}
	if n, _ := histogram(t, reg, "challengekit_store_operation_duration_seconds", "backend=memory,op=view"); n != 2 {
		t.Errorf("view timed %d times; want 2", n)
	}
	if n := series(t, reg, "challengekit_store_errors_total"); n != 0 {
		t.Errorf("fn's error or a missing record counted as %d series of errors", n)
	}
	down := errors.New("connection refused")
	failing := m.Store("redis", &fakeStore{getFn: func(context.Context, string, string) (*challenge.Record, error) {
		return nil, fmt.Errorf("redisstore: get: %w: %w", challenge.ErrUnavailable, down)
	}}).(challenge.Viewer)
	if err := failing.View(ctx, "k", "a", func(*challenge.Record) error { return nil }); !errors.Is(err, down) {
		t.Fatalf("the wrapper changed the error: %v", err)
	}
	if got := counter(t, reg, "challengekit_store_errors_total", "backend=redis,op=view"); got != 1 {
		t.Errorf("redis view errors = %v; want 1", got)
	}
}

// TestAViewOfAnUnchangedRecordIsTimed: a ViewChanged that finds the
// record unchanged calls no fn, and is timed as a "view" all the same,
// the stamp passed through.
func TestAViewOfAnUnchangedRecordIsTimed(t *testing.T) {
	m, reg, _ := newMetrics(t)
	ctx := context.Background()
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	s := m.Store("memory", mem).(challenge.ChangeViewer)
	if err := mem.Create(ctx, &challenge.Record{Kind: "k", ID: "a", State: "s"}); err != nil {
		t.Fatal(err)
	}
	stamp, err := s.ViewChanged(ctx, "k", "a", "", func(*challenge.Record) error { return nil })
	if err != nil || stamp == "" {
		t.Fatalf("ViewChanged = %q, %v; want the memory store's stamp", stamp, err)
	}
	again, err := s.ViewChanged(ctx, "k", "a", stamp, func(*challenge.Record) error {
		t.Fatal("fn called for an unchanged record")
		return nil
	})
	if err != nil || again != stamp {
		t.Fatalf("ViewChanged(unchanged) = %q, %v; want %q", again, err, stamp)
	}
	if n, _ := histogram(t, reg, "challengekit_store_operation_duration_seconds", "backend=memory,op=view"); n != 2 {
		t.Errorf("view timed %d times; want 2", n)
	}
}
