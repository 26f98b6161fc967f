package storetest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/storetest"
	"github.com/challengekit/challengekit/internal/suitetest"
)

// naiveStore is the simplest correct Store: one mutex, one map. With a bug
// switched on it breaks one promise of the contract, so the suite can be
// shown to catch it.
type naiveStore struct {
	cfg     storetest.Config
	bug     string
	mu      sync.Mutex
	records map[[2]string]*challenge.Record
	viewed  map[[2]string]*challenge.Record // for the bug "view-caches"
	stamps  map[[2]string]string
	writes  int // stamps the next write
}

// viewing is a naiveStore that also implements challenge.Viewer.
type viewing struct{ *naiveStore }

// View lends the stored record itself: Update replaces it, never changes it.
func (s viewing) View(ctx context.Context, kind, id string, fn func(*challenge.Record) error) error {
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	r, ok := s.lookup(kind, id)
	if s.bug == "view-caches" {
		if c, cached := s.viewed[[2]string{kind, id}]; cached && ok {
			r = c
		}
		s.viewed[[2]string{kind, id}] = r
	}
	s.mu.Unlock()
	if !ok {
		return challenge.ErrNotFound
	}
	return fn(r)
}

// ViewChanged lends the stored record unless its stamp is seen.
func (s viewing) ViewChanged(ctx context.Context, kind, id, seen string, fn func(*challenge.Record) error) (string, error) {
	if err := s.checkCtx(ctx); err != nil {
		return "", err
	}
	s.mu.Lock()
	r, ok := s.lookup(kind, id)
	stamp := s.stamps[[2]string{kind, id}]
	s.mu.Unlock()
	switch {
	case !ok:
		return "", challenge.ErrNotFound
	case seen != "" && stamp == seen:
		return seen, nil
	}
	return stamp, fn(r)
}

// stamp stamps a write of the record with this key.
func (s *naiveStore) stamp(key [2]string, version uint64) {
	switch s.bug {
	case "stamps-versions":
		s.stamps[key] = strconv.FormatUint(version, 10)
	case "stamps-creates":
		if version > 1 {
			return
		}
		fallthrough
	default:
		s.writes++
		s.stamps[key] = strconv.Itoa(s.writes)
	}
}

func (s *naiveStore) copyOf(r *challenge.Record) *challenge.Record {
	if s.bug == "shares-memory" {
		return r
	}
	c := r.Clone()
	if s.bug != "keeps-zone" {
		c.CreatedAt, c.UpdatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.ExpiresAt.UTC()
	}
	return c
}

func (s *naiveStore) visible(r *challenge.Record) bool {
	switch {
	case r.ExpiresAt.IsZero() || s.bug == "never-expires":
		return true
	case s.bug == "no-retention":
		return s.cfg.Clock.Now().Before(r.ExpiresAt)
	default:
		return s.cfg.Clock.Now().Before(r.ExpiresAt.Add(s.cfg.Retention))
	}
}

func (s *naiveStore) checkCtx(ctx context.Context) error {
	if s.bug == "ignores-context" {
		return nil
	}
	return ctx.Err()
}

func (s *naiveStore) lookup(kind, id string) (*challenge.Record, bool) {
	r, ok := s.records[[2]string{kind, id}]
	if !ok || !s.visible(r) {
		return nil, false
	}
	return r, true
}

func (s *naiveStore) Create(ctx context.Context, rec *challenge.Record) error {
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	if rec.Kind == "" || rec.ID == "" {
		return challenge.ErrInvalidRecord
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lookup(rec.Kind, rec.ID); ok && s.bug != "overwrites-on-create" {
		return challenge.ErrAlreadyExists
	}
	rec.Version = 1
	s.records[[2]string{rec.Kind, rec.ID}] = s.copyOf(rec)
	s.stamp([2]string{rec.Kind, rec.ID}, rec.Version)
	return nil
}

func (s *naiveStore) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	if err := s.checkCtx(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.lookup(kind, id)
	if !ok {
		return nil, challenge.ErrNotFound
	}
	return s.copyOf(r), nil
}

func (s *naiveStore) Update(ctx context.Context, rec *challenge.Record) error {
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.lookup(rec.Kind, rec.ID)
	if !ok {
		return challenge.ErrNotFound
	}
	if cur.Version != rec.Version && s.bug != "ignores-version" {
		return challenge.ErrConflict
	}
	rec.Version = cur.Version + 1
	s.records[[2]string{rec.Kind, rec.ID}] = s.copyOf(rec)
	s.stamp([2]string{rec.Kind, rec.ID}, rec.Version)
	return nil
}

func (s *naiveStore) Delete(ctx context.Context, kind, id string) error {
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lookup(kind, id); !ok {
		return challenge.ErrNotFound
	}
	delete(s.records, [2]string{kind, id})
	return nil
}

func naive(bug string) storetest.NewStore {
	return func(t *testing.T, cfg storetest.Config) challenge.Store {
		return viewing{&naiveStore{cfg: cfg, bug: bug, records: map[[2]string]*challenge.Record{},
			viewed: map[[2]string]*challenge.Record{}, stamps: map[[2]string]string{}}}
	}
}

// withoutView hides the View of the store newStore builds.
func withoutView(newStore storetest.NewStore) storetest.NewStore {
	return func(t *testing.T, cfg storetest.Config) challenge.Store {
		return newStore(t, cfg).(viewing).naiveStore
	}
}

func TestSuitePassesASimpleCorrectStore(t *testing.T) {
	storetest.Run(t, naive(""))
}

// A store without View passes the View cases through challenge.View's
// fallback on Get.
func TestSuitePassesAStoreWithoutView(t *testing.T) {
	storetest.Run(t, withoutView(naive("")))
}

// TestSuiteCatchesBrokenStores runs the suite, in a child process, against
// stores that each break one promise, and checks that the suite fails them
// in the cases that test that promise.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	suitetest.Catches(t, "TestSuiteCatchesBrokenStores", "STORETEST_BUG", func(bug string) {
		storetest.Run(t, naive(bug))
	}, []suitetest.Bug{
		{Name: "ignores-version", MustFail: []string{
			"Update with a stale version is ErrConflict and writes nothing",
			fmt.Sprintf("%d writers racing one Update: exactly one wins", storetest.Racers)}},
		{Name: "overwrites-on-create", MustFail: []string{
			"Create of an existing record is ErrAlreadyExists and keeps the original",
			fmt.Sprintf("%d writers racing one Create: exactly one wins", storetest.Racers)}},
		{Name: "shares-memory", MustFail: []string{"Records handed out are copies", "Records handed in are copied"}},
		{Name: "no-retention", MustFail: []string{"An expired record stays readable and writable through the retention window"}},
		{Name: "never-expires", MustFail: []string{"A record past its retention window is gone"}},
		{Name: "ignores-context", MustFail: []string{"A done context makes every method fail and change nothing",
			"View with a done context fails with its error and does not call fn",
			"ViewChanged with a done context fails with its error and does not call fn"}},
		{Name: "view-caches", MustFail: []string{"View after an Update sees the new record, and what fn copied stays as it was"}},
		{Name: "stamps-creates", MustFail: []string{"ViewChanged lends a record again after each Update, under a new stamp"}},
		{Name: "stamps-versions", MustFail: []string{"ViewChanged lends a record deleted and created again, under a stamp it never had"}},
		{Name: "keeps-zone", MustFail: []string{"Times come back in UTC with microsecond precision"}},
	})
}
