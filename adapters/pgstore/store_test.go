package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/challengekit/challengekit/adapters/pgstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/challenge/storetest"
	"github.com/challengekit/challengekit/internal/servicetest"
)

func migrated(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	if err := pgstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	pool := servicetest.Postgres(t)
	migrated(t, pool)
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
		s, err := pgstore.New(pool, pgstore.Options{Clock: cfg.Clock, Retention: cfg.Retention})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// queryRowOnly hides a pool's Query: View then lends the record Get reads.
type queryRowOnly struct{ pgstore.DB }

func TestConformanceThroughADBWithoutQuery(t *testing.T) {
	pool := servicetest.Postgres(t)
	migrated(t, pool)
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
		s, err := pgstore.New(queryRowOnly{pool}, pgstore.Options{Clock: cfg.Clock, Retention: cfg.Retention})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrateIsSafeToRunConcurrently(t *testing.T) {
	pool := servicetest.Postgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- pgstore.Migrate(context.Background(), pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// tracer counts the statements a pool sends.
type tracer struct {
	mu  sync.Mutex
	sql []string
}

func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.mu.Lock()
	tr.sql = append(tr.sql, d.SQL)
	tr.mu.Unlock()
	return ctx
}

func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (tr *tracer) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := tr.sql
	tr.sql = nil
	return out
}

// tracedPool returns a one-connection pool of the test PostgreSQL whose
// statements tr records.
func tracedPool(t *testing.T) (*pgxpool.Pool, *tracer) {
	t.Helper()
	servicetest.Postgres(t) // skips, or fails, without a server
	cfg, err := pgxpool.ParseConfig(servicetest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	tr := &tracer{}
	cfg.ConnConfig.Tracer = tr
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, tr
}

// TestEveryOperationIsOneStatement counts the statements each operation
// sends: one each, so one round trip once pgx has the statement cached.
func TestEveryOperationIsOneStatement(t *testing.T) {
	pool, tr := tracedPool(t)
	migrated(t, pool)
	clock := challengetest.NewClock()
	s, _ := pgstore.New(pool, pgstore.Options{Clock: clock})
	ctx := context.Background()
	id := challenge.NewID()
	rec := &challenge.Record{Kind: "pgstore_test", ID: id, State: "s", ExpiresAt: clock.Now().Add(time.Minute), Data: []byte("d")}
	tr.take()
	check := func(op string, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, challenge.ErrConflict) {
			t.Fatalf("%s: %v", op, err)
		}
		if got := tr.take(); len(got) != 1 {
			t.Fatalf("%s sent %d statements: %q", op, len(got), got)
		}
	}
	check("Create", s.Create(ctx, rec))
	_, err := s.Get(ctx, "pgstore_test", id)
	check("Get", err)
	check("View", s.View(ctx, "pgstore_test", id, func(*challenge.Record) error { return nil }))
	check("Update", s.Update(ctx, rec))
	stale := *rec
	stale.Version = 1
	check("stale Update", s.Update(ctx, &stale))
	check("Delete", s.Delete(ctx, "pgstore_test", id))
}

func TestDeleteExpiredRemovesOnlyRowsPastRetention(t *testing.T) {
	pool := servicetest.Postgres(t)
	migrated(t, pool)
	clock := challengetest.NewClock()
	clock.Set(pastEpoch())
	s, _ := pgstore.New(pool, pgstore.Options{Clock: clock, Retention: time.Minute})
	ctx := context.Background()
	mk := func(ttl time.Duration) string {
		rec := &challenge.Record{Kind: "pgstore_test", ID: challenge.NewID(), State: "s"}
		if ttl > 0 {
			rec.ExpiresAt = clock.Now().Add(ttl)
		}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	gone, live, forever := mk(time.Second), mk(time.Hour), mk(0)
	clock.Advance(2 * time.Minute)
	if _, err := s.DeleteExpired(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM challengekit_records WHERE id = $1`, gone).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the expired row is still there (%d, %v)", n, err)
	}
	for _, id := range []string{live, forever} {
		if _, err := s.Get(ctx, "pgstore_test", id); err != nil {
			t.Fatalf("a live row was removed: %v", err)
		}
	}
}

// pastEpoch is a time long past, different in every run: a test that
// removes expired rows at it removes none of the live rows that servers
// of other tests keep in the same database meanwhile, nor the rows of an
// earlier run.
func pastEpoch() time.Time {
	return time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(time.Now().UnixNano()%(1000*24)) * time.Hour)
}
