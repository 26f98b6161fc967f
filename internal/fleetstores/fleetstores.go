// Package fleetstores gives a test the shared stores a fleet of servers
// meets on, each kept apart from other tests and runs: Redis under a key
// prefix of the test's own, PostgreSQL with a record ID no other run uses,
// whose record is deleted when the test ends. Each skips the test, or
// fails it under CHALLENGEKIT_REQUIRE_SERVICES=1, when its server is
// unreachable.
package fleetstores

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/adapters/pgstore"
	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// Redis returns a store on the test Redis, under a prefix of the test's
// own (its keys are removed when the test ends).
func Redis(t testing.TB) challenge.Store {
	t.Helper()
	client := servicetest.Redis(t)
	store, err := redisstore.New(client, redisstore.Options{Prefix: servicetest.RedisPrefix(t, client)})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// Postgres returns a store on the test PostgreSQL database, migrated,
// and an ID for the test's record of kind: idPrefix and a fresh ID, as
// the table outlives the test. That record is deleted when the test ends.
func Postgres(t testing.TB, kind, idPrefix string) (challenge.Store, string) {
	t.Helper()
	pool := servicetest.Postgres(t)
	if err := pgstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	store, err := pgstore.New(pool, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := idPrefix + challenge.NewID()
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), `DELETE FROM challengekit_records WHERE kind = $1 AND id = $2`, kind, id)
	})
	return store, id
}
