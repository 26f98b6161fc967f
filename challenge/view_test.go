package challenge_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// viewData returns a copy of the Data and the state Engine.View lends.
func viewData(t *testing.T, e *challenge.Engine, id string) ([]byte, challenge.State, error) {
	t.Helper()
	var data []byte
	var state challenge.State
	err := e.View(context.Background(), id, func(rec *challenge.Record) error {
		data, state = bytes.Clone(rec.Data), rec.State
		return nil
	})
	return data, state, err
}

func TestEngineViewLendsWhatGetReturnsAndWritesNothing(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "payload").ID
	if _, err := h.engine.Step(context.Background(), id, fire("enter_credentials")); err != nil {
		t.Fatal(err)
	}
	want, err := h.engine.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	updates := h.store.updates.Load()
	data, state, err := viewData(t, h.engine, id)
	if err != nil || string(data) != "payload" || state != want.State {
		t.Fatalf("View = %q in %s, %v; want %q in %s", data, state, err, want.Data, want.State)
	}
	if h.store.updates.Load() != updates {
		t.Fatal("View wrote the record")
	}
	errFn := errors.New("does not decode")
	if err := h.engine.View(context.Background(), id, func(*challenge.Record) error { return errFn }); err != errFn {
		t.Fatalf("View = %v; want fn's error as it is", err)
	}
}

func TestEngineViewOfAnExpiredChallengeExpiresItAsGetDoes(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	h.clock.Advance(5 * time.Minute)
	for range 2 {
		if _, _, err := viewData(t, h.engine, id); !errors.Is(err, challenge.ErrExpired) {
			t.Fatalf("View after expiry: %v; want ErrExpired", err)
		}
	}
	if s := h.stored(t, id); s.State != "expired" || s.Version != 2 {
		t.Fatalf("stored %s at version %d; want expired once, at version 2", s.State, s.Version)
	}
}

func TestEngineViewAnswersMissingRecordsAndFailuresAsGet(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "").ID
	never := func(*challenge.Record) error {
		t.Fatal("fn called")
		return nil
	}
	for _, bad := range []string{"", "nope", strings.Repeat("a", challenge.MaxIDLength+1)} {
		if err := h.engine.View(context.Background(), bad, never); !errors.Is(err, challenge.ErrNotFound) {
			t.Errorf("View(%.10q…): %v; want ErrNotFound", bad, err)
		}
	}
	down := errors.New("store unreachable")
	h.store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, down }
	if err := h.engine.View(context.Background(), id, never); !errors.Is(err, down) || !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("View with a failing store: %v; want ErrUnavailable wrapping the failure", err)
	}
}

func TestRecordsViewLendsWhatGetReturns(t *testing.T) {
	r, store, _ := newRecords(t)
	ctx := context.Background()
	if err := r.Put(ctx, "alice", "alice", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	var data []byte
	var subject string
	if err := r.View(ctx, "alice", func(rec *challenge.Record) error {
		data, subject = bytes.Clone(rec.Data), rec.Subject
		return nil
	}); err != nil || string(data) != "v1" || subject != "alice" {
		t.Fatalf("View = %q about %q, %v", data, subject, err)
	}
	errFn := errors.New("does not decode")
	if err := r.View(ctx, "alice", func(*challenge.Record) error { return errFn }); err != errFn {
		t.Fatalf("View = %v; want fn's error as it is", err)
	}
	never := func(*challenge.Record) error {
		t.Fatal("fn called")
		return nil
	}
	for _, id := range []string{"", "bob", strings.Repeat("a", challenge.MaxIDLength+1)} {
		if err := r.View(ctx, id, never); !errors.Is(err, challenge.ErrNotFound) {
			t.Errorf("View(%.10q…): %v; want ErrNotFound", id, err)
		}
	}
	down := errors.New("store unreachable")
	store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, down }
	if err := r.View(ctx, "alice", never); !errors.Is(err, down) || !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("View with a failing store: %v; want ErrUnavailable wrapping the failure", err)
	}
}

// Through a store that lends its records (the memory store's own View),
// the engine and Records answer as they do through Get.
func TestViewThroughAStoreThatLends(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "payload").ID
	e, err := challenge.NewEngine(h.store.Store, h.engine.Machine(), challenge.EngineOptions{Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	if data, state, err := viewData(t, e, id); err != nil || string(data) != "payload" || state != "pending" {
		t.Fatalf("View = %q in %s, %v", data, state, err)
	}
	h.clock.Advance(5 * time.Minute)
	if _, _, err := viewData(t, e, id); !errors.Is(err, challenge.ErrExpired) {
		t.Fatalf("View after expiry: %v; want ErrExpired", err)
	}
	if s := h.stored(t, id); s.State != "expired" {
		t.Fatalf("stored state %s, want expired", s.State)
	}
}

// Records.ViewChanged answers as Records.View does, and skips a record
// under the stamp it still has.
func TestRecordsViewChangedLendsWhatGetReturnsUnlessSeen(t *testing.T) {
	r, store, _ := newRecords(t)
	ctx := context.Background()
	if err := r.Put(ctx, "alice", "alice", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	var data []byte
	stamp, err := r.ViewChanged(ctx, "alice", "", func(rec *challenge.Record) error {
		data = bytes.Clone(rec.Data)
		return nil
	})
	if err != nil || string(data) != "v1" {
		t.Fatalf("ViewChanged = %q, %v", data, err)
	}
	never := func(*challenge.Record) error {
		t.Fatal("fn called")
		return nil
	}
	if stamp != "" {
		t.Fatalf("ViewChanged through a store without stamps = %q; want none", stamp)
	}
	// Over the memory store itself, which stamps.
	clock := challengetest.NewClock()
	stamped, err := challenge.NewRecords(newMemory(t, clock), "enrollment", clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := stamped.Put(ctx, "alice", "alice", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if stamp, err = stamped.ViewChanged(ctx, "alice", "", func(*challenge.Record) error { return nil }); err != nil || stamp == "" {
		t.Fatalf("ViewChanged over the memory store = %q, %v; want its stamp", stamp, err)
	}
	if again, err := stamped.ViewChanged(ctx, "alice", stamp, never); err != nil || again != stamp {
		t.Fatalf("ViewChanged under its stamp = %q, %v", again, err)
	}
	errFn := errors.New("does not decode")
	if _, err := r.ViewChanged(ctx, "alice", "", func(*challenge.Record) error { return errFn }); err != errFn {
		t.Fatalf("ViewChanged = %v; want fn's error as it is", err)
	}
	for _, id := range []string{"", "bob", strings.Repeat("a", challenge.MaxIDLength+1)} {
		if got, err := r.ViewChanged(ctx, id, stamp, never); !errors.Is(err, challenge.ErrNotFound) || got != "" {
			t.Errorf("ViewChanged(%.10q…) = %q, %v; want ErrNotFound", id, got, err)
		}
	}
	down := errors.New("store unreachable")
	store.GetFn = func(context.Context, string, string) (*challenge.Record, error) { return nil, down }
	if _, err := r.ViewChanged(ctx, "alice", "", never); !errors.Is(err, down) || !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("ViewChanged with a failing store: %v; want ErrUnavailable wrapping the failure", err)
	}
}
