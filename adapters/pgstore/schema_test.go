package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/challengekit/challengekit/adapters/pgstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// freshSchema returns a pool whose connections work in a schema of the
// test's own (dropped when the test ends), migrated.
func freshSchema(t *testing.T) *pgxpool.Pool {
	t.Helper()
	admin := servicetest.Postgres(t)
	name := "challengekit_test_" + strings.ToLower(strings.NewReplacer("-", "_").Replace(challenge.NewID()))
	ctx := context.Background()
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "`+name+`"`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA "`+name+`" CASCADE`) })
	cfg, err := pgxpool.ParseConfig(servicetest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	migrated(t, pool)
	return pool
}

// dropSchema drops the store's and the limiter's tables and functions, as
// a database restored from an old backup lacks them.
func dropSchema(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `DROP TABLE challengekit_records, challengekit_limit_buckets, challengekit_limit_logs, challengekit_limit_pairs CASCADE;
DROP FUNCTION challengekit_limit_start, challengekit_limit_attempt, challengekit_limit_logs_charge`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestATableThatDisappears: a store whose table is dropped under it
// answers ErrUnavailable naming the cause until Migrate is run; with
// RecreateSchema it migrates and serves on its own.
func TestATableThatDisappears(t *testing.T) {
	ctx := context.Background()
	rec := func(id string) *challenge.Record { return &challenge.Record{Kind: "k", ID: id, State: "s"} }

	t.Run("without RecreateSchema: unavailable until Migrate", func(t *testing.T) {
		pool := freshSchema(t)
		s, _ := pgstore.New(pool, pgstore.Options{})
		l, _ := pgstore.NewLimiter(pool, challenge.Limits{}, pgstore.LimiterOptions{})
		if err := s.Create(ctx, rec("a")); err != nil { // prepares and caches the statements
			t.Fatal(err)
		}
		dropSchema(t, pool)
		for name, err := range map[string]error{
			"Create": s.Create(ctx, rec("b")),
			"Update": s.Update(ctx, &challenge.Record{Kind: "k", ID: "a", State: "t", Version: 1}),
			"Ping":   s.Ping(ctx),
			"Start":  l.Start(ctx, challenge.Origin{Caller: "c", Source: "192.0.2.1"}),
		} {
			if !errors.Is(err, challenge.ErrUnavailable) || !strings.Contains(err.Error(), "run pgstore.Migrate") {
				t.Errorf("%s with the schema gone: %v; want ErrUnavailable naming the remedy", name, err)
			}
		}
		if _, err := s.Get(ctx, "k", "a"); !errors.Is(err, challenge.ErrUnavailable) {
			t.Errorf("Get with the schema gone: %v", err)
		}
		if err := s.View(ctx, "k", "a", func(*challenge.Record) error { return nil }); !errors.Is(err, challenge.ErrUnavailable) || !strings.Contains(err.Error(), "run pgstore.Migrate") {
			t.Errorf("View with the schema gone: %v; want ErrUnavailable naming the remedy", err)
		}
		migrated(t, pool)
		if err := s.Create(ctx, rec("b")); err != nil {
			t.Fatalf("Create after Migrate: %v", err)
		}
	})

	t.Run("with RecreateSchema: migrated on the first failure", func(t *testing.T) {
		pool := freshSchema(t)
		s, _ := pgstore.New(pool, pgstore.Options{RecreateSchema: true})
		l, _ := pgstore.NewLimiter(pool, challenge.Limits{}, pgstore.LimiterOptions{RecreateSchema: true})
		if err := s.Create(ctx, rec("a")); err != nil {
			t.Fatal(err)
		}
		dropSchema(t, pool)
		if _, err := s.Get(ctx, "k", "a"); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Get after the table was dropped: %v; want ErrNotFound from the recreated table", err)
		}
		if err := s.Create(ctx, rec("a")); err != nil {
			t.Fatalf("Create: %v", err)
		}
		dropSchema(t, pool)
		if err := s.View(ctx, "k", "a", func(*challenge.Record) error { return nil }); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("View after the table was dropped: %v; want ErrNotFound from the recreated table", err)
		}
		if err := s.Create(ctx, rec("a")); err != nil {
			t.Fatalf("Create: %v", err)
		}
		dropSchema(t, pool)
		if err := s.Create(ctx, rec("b")); err != nil {
			t.Fatalf("Create after the table was dropped again: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		dropSchema(t, pool)
		if err := l.Start(ctx, challenge.Origin{Caller: "c", Source: "192.0.2.1"}); err != nil {
			t.Fatalf("Start after the limiter's tables were dropped: %v", err)
		}
	})
}
