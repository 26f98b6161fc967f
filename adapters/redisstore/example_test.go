package redisstore_test

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/psd2"
)

// A store for a fleet of servers; every service takes it as its Store.
func ExampleNew() {
	ctx := context.Background()
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		panic(err)
	}
	if err := store.Load(ctx); err != nil { // optional: every write is then one round trip
		panic(err)
	}
	accounts, _ := psd2.NewMemoryAccounts(nil)
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	_, _ = psd2.NewService(store, accounts, redirects, psd2.Options{})
}
