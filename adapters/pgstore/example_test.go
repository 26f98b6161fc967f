package pgstore_test

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/challengekit/challengekit/adapters/pgstore"
)

// A store in an existing PostgreSQL database, with its table migrated at
// start and expired rows reclaimed in the background.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		panic(err)
	}
	store, err := pgstore.New(pool, pgstore.Options{})
	if err != nil {
		panic(err)
	}
	go func() {
		for range time.Tick(time.Minute) {
			_, _ = store.DeleteExpired(ctx, 10_000)
		}
	}()
	_ = store // hand it to psd2.NewService, authn.NewService, questions.NewService
}
