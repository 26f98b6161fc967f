package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// Store wraps next so that each operation's latency and failures are
// counted under backend (the program's name for it, as "memory", "redis"
// or "postgres") and the operation ("create", "get", "view", "update",
// "delete").
// A failure is any error but the contract's answers (ErrNotFound,
// ErrConflict, ErrAlreadyExists, ErrInvalidRecord). The wrapper returns
// what next returns, unchanged, and is safe for concurrent use as next is.
// It implements [challenge.Pinger] too, counted as "ping": it pings next
// if next is a Pinger, and is always ready otherwise, as the interface
// takes a Store that is not; [challenge.Viewer], whose calls go to
// next's View, or its Get if next has no View (through challenge.View);
// and [challenge.ChangeViewer], counted as "view", likewise.
func (m *Metrics) Store(backend string, next challenge.Store) challenge.Store {
	return &store{m: m, backend: orNone(backend), next: next}
}

type store struct {
	m       *Metrics
	backend string
	next    challenge.Store
}

var (
	_ challenge.Store        = (*store)(nil)
	_ challenge.Pinger       = (*store)(nil)
	_ challenge.Viewer       = (*store)(nil)
	_ challenge.ChangeViewer = (*store)(nil)
)

// Ping implements [challenge.Pinger].
func (s *store) Ping(ctx context.Context) error {
	p, ok := s.next.(challenge.Pinger)
	if !ok {
		return nil
	}
	start := s.m.clock.Now()
	err := p.Ping(ctx)
	s.done("ping", start, err)
	return err
}

func (s *store) Create(ctx context.Context, rec *challenge.Record) error {
	start := s.m.clock.Now()
	err := s.next.Create(ctx, rec)
	s.done("create", start, err)
	return err
}

func (s *store) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	start := s.m.clock.Now()
	rec, err := s.next.Get(ctx, kind, id)
	s.done("get", start, err)
	return rec, err
}

// View implements [challenge.Viewer]. Its latency is the read's, up to
// the call of fn, and an error of fn's is not a failure of the store.
func (s *store) View(ctx context.Context, kind, id string, fn func(rec *challenge.Record) error) error {
	start := s.m.clock.Now()
	called := false
	err := challenge.View(ctx, s.next, kind, id, func(rec *challenge.Record) error {
		called = true
		s.done("view", start, nil)
		return fn(rec)
	})
	if !called {
		s.done("view", start, err)
	}
	return err
}

// ViewChanged implements [challenge.ChangeViewer], timed as a View: up
// to the call of fn, or to the end of a read that found the record
// unchanged.
func (s *store) ViewChanged(ctx context.Context, kind, id, seen string, fn func(rec *challenge.Record) error) (string, error) {
	start := s.m.clock.Now()
	called := false
	stamp, err := challenge.ViewChanged(ctx, s.next, kind, id, seen, func(rec *challenge.Record) error {
		called = true
		s.done("view", start, nil)
		return fn(rec)
	})
	if !called {
		s.done("view", start, err)
	}
	return stamp, err
}

func (s *store) Update(ctx context.Context, rec *challenge.Record) error {
	start := s.m.clock.Now()
	err := s.next.Update(ctx, rec)
	s.done("update", start, err)
	return err
}

func (s *store) Delete(ctx context.Context, kind, id string) error {
	start := s.m.clock.Now()
	err := s.next.Delete(ctx, kind, id)
	s.done("delete", start, err)
	return err
}

func (s *store) done(op string, start time.Time, err error) {
	s.m.storeOps.WithLabelValues(s.backend, op).Observe(s.m.since(start))
	if err != nil && !isAnswer(err) {
		s.m.storeErrs.WithLabelValues(s.backend, op).Inc()
	}
}

// isAnswer reports whether err is one of the answers the Store contract
// documents, rather than a failure of the backend.
func isAnswer(err error) bool {
	for _, answer := range []error{challenge.ErrNotFound, challenge.ErrConflict, challenge.ErrAlreadyExists, challenge.ErrInvalidRecord} {
		if errors.Is(err, answer) {
			return true
		}
	}
	return false
}
