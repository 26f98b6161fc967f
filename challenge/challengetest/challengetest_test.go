package challengetest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func TestFakeClockMovesOnlyWhenTold(t *testing.T) {
	c := challengetest.NewClock()
	if !c.Now().Equal(challengetest.Epoch) || !c.Now().Equal(c.Now()) {
		t.Fatalf("a new clock reads %v, want the epoch, standing still", c.Now())
	}
	if got := c.Advance(90 * time.Second); !got.Equal(challengetest.Epoch.Add(90 * time.Second)) {
		t.Fatalf("Advance returned %v", got)
	}
	later := challengetest.Epoch.AddDate(1, 0, 0)
	c.Set(later)
	if !c.Now().Equal(later) {
		t.Fatalf("after Set, Now = %v", c.Now())
	}
}

func TestSequentialIDsAreUniqueAcrossGoroutines(t *testing.T) {
	ids := &challengetest.SequentialIDs{Prefix: "t-"}
	if first := ids.NewID(); first != "t-1" {
		t.Fatalf("first ID %q, want t-1", first)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				id := ids.NewID()
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate ID %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestRecorderKeepsChangesInOrder(t *testing.T) {
	r := &challengetest.Recorder{}
	r.Observe(context.Background(), challenge.Change{To: "a"})
	r.Observe(context.Background(), challenge.Change{Event: "go", From: "a", To: "b"})
	if ev := r.Events(); !slices.Equal(ev, []challenge.Event{"", "go"}) {
		t.Fatalf("Events() = %v", ev)
	}
	got := r.Changes()
	got[0].To = "mutated"
	if r.Changes()[0].To != "a" {
		t.Fatal("Changes() returned the recorder's own slice")
	}
}

func TestLogBufferWaitFor(t *testing.T) {
	var logs challengetest.LogBuffer
	done := make(chan bool)
	go func() {
		_, ok := logs.WaitFor(context.Background(), "cause", "id-1")
		done <- ok
	}()
	_, _ = logs.Write([]byte("cause: refused\n"))
	_, _ = logs.Write([]byte("error id-1\n"))
	if !<-done {
		t.Fatal("WaitFor returned false with both strings written")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, ok := logs.WaitFor(ctx, "never written"); ok || got != "cause: refused\nerror id-1\n" {
		t.Fatalf("WaitFor on a done context: %q, %v; want everything written, false", got, ok)
	}
}

func TestLogBufferCollectsConcurrentWrites(t *testing.T) {
	var logs challengetest.LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = logs.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	if got := len(logs.String()); got != 8*100*5 {
		t.Fatalf("collected %d bytes, want %d", got, 8*100*5)
	}
}

func TestRacingStoreLosesTheUpdatesItIsToldTo(t *testing.T) {
	ctx := context.Background()
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: challengetest.NewClock()})
	if err != nil {
		t.Fatal(err)
	}
	s := challengetest.NewRacingStore(mem)
	rec := &challenge.Record{Kind: "k", ID: "r", State: "a"}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	s.LoseNextUpdate("k")
	s.LoseNextUpdate("other kind")
	mine := rec.Clone()
	mine.State = "b"
	if err := s.Update(ctx, mine); !errors.Is(err, challenge.ErrConflict) {
		t.Fatalf("the Update told to lose: %v; want ErrConflict", err)
	}
	stored, _ := s.Get(ctx, "k", "r")
	if stored.State != "a" || stored.Version != 2 {
		t.Fatalf("after the lost race the store holds %+v; want state a, saved again by the other writer (version 2)", stored)
	}
	mine = stored.Clone()
	mine.State = "b"
	if err := s.Update(ctx, mine); err != nil {
		t.Fatalf("the Update after the lost one: %v", err)
	}
	if s.Lost() != 1 || s.Pending("k") != 0 || s.Pending("other kind") != 1 {
		t.Fatalf("Lost, Pending(k), Pending(other) = %d, %d, %d; want 1, 0, 1", s.Lost(), s.Pending("k"), s.Pending("other kind"))
	}
	if s.Calm(); s.Pending("other kind") != 0 || !slices.Equal(s.Kinds(), []string{"k"}) || s.Updates("k") != 2 {
		t.Fatalf("after Calm: Pending(other) %d, Kinds %q, Updates(k) %d; want 0, [k] and 2 (the lost one, the next)",
			s.Pending("other kind"), s.Kinds(), s.Updates("k"))
	}
}
