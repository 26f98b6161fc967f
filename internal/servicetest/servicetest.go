// Package servicetest finds the Redis and PostgreSQL servers that tests of
// the distributed stores need. A test calls Redis or Postgres: where the
// service cannot be reached the test is skipped with a clear message, or
// fails when CHALLENGEKIT_REQUIRE_SERVICES=1 (as in CI), so a missing
// service never passes silently there.
package servicetest

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Defaults, overridden by CHALLENGEKIT_REDIS_URL and CHALLENGEKIT_POSTGRES_URL.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// Required reports whether tests must fail, not skip, without a service.
func Required() bool { return os.Getenv("CHALLENGEKIT_REQUIRE_SERVICES") == "1" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (CHALLENGEKIT_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable (%v); set CHALLENGEKIT_REQUIRE_SERVICES=1 to make this a failure", what, err)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RedisURL returns the Redis URL tests use.
func RedisURL() string { return env("CHALLENGEKIT_REDIS_URL", DefaultRedisURL) }

// PostgresURL returns the PostgreSQL URL tests use.
func PostgresURL() string { return env("CHALLENGEKIT_POSTGRES_URL", DefaultPostgresURL) }

// Redis returns a client of the test Redis, closed when the test ends.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("CHALLENGEKIT_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		unavailable(t, "Redis at "+RedisURL(), err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// RedisPrefix returns a key prefix of the test's own, whose keys are
// deleted when the test ends, so that tests sharing one Redis never see
// each other's keys.
func RedisPrefix(t testing.TB, client redis.UniversalClient) string {
	t.Helper()
	prefix := "challengekit-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 10000).Iterator() // few round trips through a big shared keyspace
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// Postgres returns a pool of the test PostgreSQL, closed when the test ends.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, PostgresURL())
	if err != nil {
		t.Fatalf("CHALLENGEKIT_POSTGRES_URL: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		unavailable(t, "PostgreSQL at "+PostgresURL(), err)
	}
	t.Cleanup(pool.Close)
	return pool
}
