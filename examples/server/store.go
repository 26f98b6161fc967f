package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/pgstore"
	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
)

// Bounds on talking to a distributed store: an unreachable store answers a
// request with the endpoint's 5xx envelope within about requestDeadline,
// and once it is back, the next requests succeed without a restart.
const (
	storeDialTimeout = 2 * time.Second
	storeIOTimeout   = 2 * time.Second
	requestDeadline  = 5 * time.Second
)

// openStore opens the store cfg names and returns it with the limiter that
// goes with it (nil: newMux's memory limiter) and a function that releases
// them.
func openStore(ctx context.Context, cfg *config, log zerolog.Logger) (challenge.Store, challenge.Limiter, func(), error) {
	switch cfg.store {
	case "redis":
		opts, err := redis.ParseURL(cfg.redisURL)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-redis-url: %w", err)
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = storeDialTimeout, storeIOTimeout, storeIOTimeout
		opts.MaxRetries = 1
		client := redis.NewClient(opts)
		s, err := redisstore.New(client, redisstore.Options{})
		if err != nil {
			_ = client.Close()
			return nil, nil, nil, err
		}
		if err := s.Load(ctx); err != nil {
			// Not fatal: scripts load themselves on first use once Redis is up.
			log.Warn().Err(err).Msg("redis unreachable at start; serving anyway")
		}
		return s, nil, func() { _ = client.Close() }, nil
	case "postgres":
		pcfg, err := pgxpool.ParseConfig(cfg.postgresURL)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-postgres-url: %w", err)
		}
		pcfg.ConnConfig.ConnectTimeout = storeDialTimeout
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, nil, nil, err
		}
		mctx, cancel := context.WithTimeout(ctx, requestDeadline)
		defer cancel()
		if err := pgstore.Migrate(mctx, pool); err != nil {
			pool.Close()
			return nil, nil, nil, err
		}
		s, err := pgstore.New(pool, pgstore.Options{})
		if err != nil {
			pool.Close()
			return nil, nil, nil, err
		}
		return s, nil, pool.Close, nil
	default:
		s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: cfg.clock})
		return s, nil, func() {}, err
	}
}

// withDeadline bounds every request's context, so a store that does not
// answer fails the request (in its endpoint's envelope) instead of holding
// it; net/http's TimeoutHandler would answer in plain text.
func withDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestDeadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
