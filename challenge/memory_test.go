package challenge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/challenge/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
		s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: cfg.Clock, Retention: cfg.Retention})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewMemoryStoreRejectsNegativeRetention(t *testing.T) {
	if _, err := challenge.NewMemoryStore(challenge.MemoryOptions{Retention: -time.Second}); err == nil {
		t.Fatal("NewMemoryStore accepted a negative retention")
	}
}

func newMemory(t testing.TB, clock challenge.Clock) *challenge.MemoryStore {
	t.Helper()
	s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock, Retention: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemoryStoreReclaimsExpiredRecordsAndKeepsLiveOnes(t *testing.T) {
	clock := challengetest.NewClock()
	s := newMemory(t, clock)
	ctx := context.Background()
	create := func(id string, ttl time.Duration) {
		t.Helper()
		rec := &challenge.Record{Kind: "k", ID: id, State: "s"}
		if ttl > 0 {
			rec.ExpiresAt = clock.Now().Add(ttl)
		}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 1000 {
		create(fmt.Sprintf("short-%d", i), time.Minute)
	}
	for i := range 500 {
		create(fmt.Sprintf("long-%d", i), time.Hour)
		create(fmt.Sprintf("forever-%d", i), 0)
	}
	if got := s.Sweep(); got != 0 {
		t.Fatalf("Sweep before anything expired removed %d records", got)
	}
	clock.Advance(2 * time.Minute) // past the short ones' expiry + 1m retention
	if got := s.Sweep(); got != 1000 {
		t.Fatalf("Sweep removed %d records, want the 1000 short-lived ones", got)
	}
	if got := s.Len(); got != 1000 {
		t.Fatalf("Len after Sweep = %d, want 1000", got)
	}
	if _, err := s.Get(ctx, "k", "long-7"); err != nil {
		t.Fatalf("a live record was lost: %v", err)
	}
}

func TestMemoryStoreWritesReclaimExpiredRecordsWithoutSweep(t *testing.T) {
	clock := challengetest.NewClock()
	s := newMemory(t, clock)
	ctx := context.Background()
	for i := range 2000 {
		rec := &challenge.Record{Kind: "k", ID: fmt.Sprintf("old-%d", i), State: "s", ExpiresAt: clock.Now().Add(time.Second)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	// Every write reclaims a few expired records from its shard, so a steady
	// stream of new challenges keeps memory bounded without a janitor.
	for i := range 2000 {
		if err := s.Create(ctx, &challenge.Record{Kind: "k", ID: fmt.Sprintf("new-%d", i), State: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got > 2000+200 {
		t.Fatalf("Len = %d after 2000 new records replaced 2000 expired ones; writes are not reclaiming", got)
	}
}

func TestMemoryStoreSweepSkipsRecordsWhoseExpiryMoved(t *testing.T) {
	clock := challengetest.NewClock()
	s := newMemory(t, clock)
	ctx := context.Background()
	rec := &challenge.Record{Kind: "k", ID: "moved", State: "s", ExpiresAt: clock.Now().Add(time.Second)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.ExpiresAt = clock.Now().Add(time.Hour)
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	gone := &challenge.Record{Kind: "k", ID: "deleted", State: "s", ExpiresAt: clock.Now().Add(time.Second)}
	if err := s.Create(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k", "deleted"); err != nil {
		t.Fatal(err)
	}
	recreated := &challenge.Record{Kind: "k", ID: "deleted", State: "s"} // same key, no expiry
	if err := s.Create(ctx, recreated); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	if got := s.Sweep(); got != 0 {
		t.Fatalf("Sweep removed %d records; their index entries were stale", got)
	}
	for _, id := range []string{"moved", "deleted"} {
		if _, err := s.Get(ctx, "k", id); err != nil {
			t.Errorf("Get(%s) after Sweep: %v", id, err)
		}
	}
}
