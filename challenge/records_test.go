package challenge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func newRecords(t *testing.T) (*challenge.Records, *fakeStore, *challengetest.FakeClock) {
	t.Helper()
	clock := challengetest.NewClock()
	store := &fakeStore{Store: newMemory(t, clock)}
	r, err := challenge.NewRecords(store, "enrollment", clock)
	if err != nil {
		t.Fatal(err)
	}
	return r, store, clock
}

func TestRecordsPutCreatesThenReplacesInOneReadAndOneWrite(t *testing.T) {
	r, store, clock := newRecords(t)
	ctx := context.Background()
	if err := r.Put(ctx, "alice", "alice", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := r.Put(ctx, "alice", "alice", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if g, u := store.gets.Load(), store.updates.Load(); g != 2 || u != 1 {
		t.Fatalf("two Puts made %d reads and %d updates; want 2 and 1 (and one create)", g, u)
	}
	rec, err := r.Get(ctx, "alice")
	if err != nil || string(rec.Data) != "v2" || rec.Subject != "alice" || rec.State != challenge.StoredState ||
		rec.Version != 2 || !rec.UpdatedAt.After(rec.CreatedAt) || !rec.ExpiresAt.IsZero() {
		t.Fatalf("after two Puts: %+v, %v", rec, err)
	}
}

func TestRecordsUpdateDecidesOnWhatItReads(t *testing.T) {
	r, store, _ := newRecords(t)
	ctx := context.Background()
	calls := 0
	bump := func(data []byte, found bool) ([]byte, error) {
		calls++
		if !found {
			return []byte("1"), nil
		}
		return append(data, '1'), nil
	}
	for range 2 {
		if err := r.Update(ctx, "counter", bump); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing to change: no write.
	before := store.updates.Load()
	if err := r.Update(ctx, "counter", func([]byte, bool) ([]byte, error) { return nil, nil }); err != nil || store.updates.Load() != before {
		t.Fatalf("an Update that changes nothing: %v, %d writes", err, store.updates.Load()-before)
	}
	refused := errors.New("refused")
	if err := r.Update(ctx, "counter", func([]byte, bool) ([]byte, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Fatalf("the change's own error: %v", err)
	}
	if rec, _ := r.Get(ctx, "counter"); string(rec.Data) != "11" || calls != 2 {
		t.Fatalf("counter %q after %d calls; want 11 after 2", rec.Data, calls)
	}
}

func TestRecordsUpdateAboutSetsTheSubject(t *testing.T) {
	r, _, _ := newRecords(t)
	ctx := context.Background()
	for _, want := range []string{"1", "12"} {
		err := r.UpdateAbout(ctx, "alice", "alice", func(data []byte, found bool) ([]byte, error) {
			if found != (want == "12") {
				t.Fatalf("found %v before writing %q", found, want)
			}
			return append(data, want[len(want)-1]), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := r.Get(ctx, "alice"); err != nil || string(rec.Data) != want || rec.Subject != "alice" {
			t.Fatalf("after UpdateAbout: %+v, %v; want data %q about alice", rec, err, want)
		}
	}
}

func TestRecordsDecideAgainAfterALostRaceThenGiveUp(t *testing.T) {
	r, store, _ := newRecords(t)
	ctx := context.Background()
	if err := r.Put(ctx, "k", "", []byte("a")); err != nil {
		t.Fatal(err)
	}
	racing := challengetest.NewRacingStore(store.Store)
	store.UpdateFn = racing.Update
	racing.LoseNextUpdate("enrollment")
	var seen []string
	err := r.Update(ctx, "k", func(data []byte, _ bool) ([]byte, error) {
		seen = append(seen, string(data))
		return append(data, 'b'), nil
	})
	if err != nil || len(seen) != 2 {
		t.Fatalf("Update after one lost race: %v after %d calls; want success after 2", err, len(seen))
	}
	racing.LoseNextUpdate("enrollment")
	racing.LoseNextUpdate("enrollment")
	if err := r.Update(ctx, "k", func(data []byte, _ bool) ([]byte, error) { return append(data, 'c'), nil }); !errors.Is(err, challenge.ErrConflict) {
		t.Fatalf("Update after two lost races: %v; want ErrConflict", err)
	}
	if rec, _ := r.Get(ctx, "k"); string(rec.Data) != "ab" {
		t.Fatalf("stored %q; want ab", rec.Data)
	}
}

func TestRecordsClassifyStoreFailures(t *testing.T) {
	r, store, _ := newRecords(t)
	ctx := context.Background()
	if err := r.Put(ctx, "k", "", []byte("a")); err != nil {
		t.Fatal(err)
	}
	down := errors.New("connection reset")
	store.UpdateFn = func(context.Context, *challenge.Record) error { return down }
	if err := r.Put(ctx, "k", "", []byte("b")); !errors.Is(err, challenge.ErrOutcomeUnknown) || !errors.Is(err, down) {
		t.Fatalf("a failed write: %v; want ErrOutcomeUnknown wrapping the cause", err)
	}
	store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, down }
	if _, err := r.Get(ctx, "k"); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("a failed read: %v; want ErrUnavailable", err)
	}
	if err := r.Put(ctx, "k", "", []byte("b")); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("a Put whose read failed: %v; want ErrUnavailable", err)
	}
	if _, err := r.Get(ctx, ""); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("Get of an empty id: %v; want ErrNotFound", err)
	}
}
