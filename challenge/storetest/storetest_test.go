package storetest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/storetest"
)

// naiveStore is the simplest correct Store: one mutex, one map. With a bug
// switched on it breaks one promise of the contract, so the suite can be
// shown to catch it.
type naiveStore struct {
	cfg     storetest.Config
	bug     string
	mu      sync.Mutex
	records map[[2]string]*challenge.Record
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
		return &naiveStore{cfg: cfg, bug: bug, records: map[[2]string]*challenge.Record{}}
	}
}

func TestSuitePassesASimpleCorrectStore(t *testing.T) {
	storetest.Run(t, naive(""))
}

const bugEnv = "STORETEST_BUG"

// TestSuiteCatchesBrokenStores runs the suite, in a child process, against
// stores that each break one promise, and checks that the suite fails them
// in the cases that test that promise. In the child (bugEnv set) it is the
// suite run itself.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if bug := os.Getenv(bugEnv); bug != "" {
		storetest.Run(t, naive(bug))
		return
	}
	if testing.Short() {
		t.Log("-short: checking two broken stores only")
	}
	for _, tc := range []struct {
		bug      string
		mustFail []string
	}{
		{"ignores-version", []string{
			"Update with a stale version is ErrConflict and writes nothing",
			fmt.Sprintf("%d writers racing one Update: exactly one wins", storetest.Racers)}},
		{"overwrites-on-create", []string{
			"Create of an existing record is ErrAlreadyExists and keeps the original",
			fmt.Sprintf("%d writers racing one Create: exactly one wins", storetest.Racers)}},
		{"shares-memory", []string{"Records handed out are copies", "Records handed in are copied"}},
		{"no-retention", []string{"An expired record stays readable and writable through the retention window"}},
		{"never-expires", []string{"A record past its retention window is gone"}},
		{"ignores-context", []string{"A done context makes every method fail and change nothing"}},
		{"keeps-zone", []string{"Times come back in UTC with microsecond precision"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesBrokenStores$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+tc.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that %s:\n%s", tc.bug, out)
			}
			for _, name := range tc.mustFail {
				line := "--- FAIL: TestSuiteCatchesBrokenStores/" + strings.ReplaceAll(name, " ", "_") + " "
				if !strings.Contains(string(out), line) {
					t.Errorf("the suite did not fail %q for a store that %s", name, tc.bug)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
