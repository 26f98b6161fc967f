package challengetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/challengekit/challengekit/challenge"
)

// RacingStore wraps a [challenge.Store] and makes chosen Updates lose a
// race, deterministically: just before such an Update, another writer
// saves the same record unchanged, so that its Version moves on and the
// Update fails with challenge.ErrConflict, as it would behind a concurrent
// request. The [challenge.Engine] then reads the record again and runs the
// step once more: the way to test that a step's function, and everything
// it calls, is safe to re-run. It is safe for concurrent use.
type RacingStore struct {
	challenge.Store
	mu    sync.Mutex
	lose  map[string]int // kind → Updates left to lose
	lost  int
	kinds map[string]int // Updates per kind
}

// NewRacingStore returns store wrapped to lose the Updates it is told to.
func NewRacingStore(store challenge.Store) *RacingStore {
	return &RacingStore{Store: store, lose: map[string]int{}, kinds: map[string]int{}}
}

// Calm forgets the Updates still to lose.
func (s *RacingStore) Calm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.lose)
}

// Kinds returns the kinds of the records updated through the store so
// far, sorted.
func (s *RacingStore) Kinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.kinds))
}

// Updates returns how many Updates of records of kind were asked of the
// store so far, lost ones included.
func (s *RacingStore) Updates(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kinds[kind]
}

// LoseNextUpdate makes the next Update of a record of kind lose its race
// (once: the Update after it goes through).
func (s *RacingStore) LoseNextUpdate(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose[kind]++
}

// Lost returns how many Updates have lost a race so far.
func (s *RacingStore) Lost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// Pending returns how many Updates of kind are still to lose: non-zero
// after a step means the step never saved a record of that kind.
func (s *RacingStore) Pending(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lose[kind]
}

// Update implements [challenge.Store].
func (s *RacingStore) Update(ctx context.Context, rec *challenge.Record) error {
	s.mu.Lock()
	s.kinds[rec.Kind]++
	lose := s.lose[rec.Kind] > 0
	if lose {
		s.lose[rec.Kind]--
		s.lost++
	}
	s.mu.Unlock()
	if lose {
		// The other writer: the record as stored, saved again unchanged.
		other, err := s.Store.Get(ctx, rec.Kind, rec.ID)
		if err != nil {
			return fmt.Errorf("challengetest: the racing writer's read: %w", err)
		}
		if err := s.Store.Update(ctx, other); err != nil {
			return fmt.Errorf("challengetest: the racing writer's update: %w", err)
		}
	}
	return s.Store.Update(ctx, rec)
}
