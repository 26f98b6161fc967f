package main

import (
	"context"
	"errors"
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
		// The limiter shares the Redis: every server of a fleet spends one budget.
		limiter, err := redisstore.NewLimiter(client, cfg.limits, redisstore.Options{DigestKey: cfg.digestKey()})
		if err != nil {
			_ = client.Close()
			return nil, nil, nil, err
		}
		if err := errors.Join(s.Load(ctx), limiter.Load(ctx)); err != nil {
			// Not fatal: scripts load themselves on first use once Redis is up.
			log.Warn().Err(err).Msg("redis unreachable at start; serving anyway")
		}
		return s, limiter, func() { _ = client.Close() }, nil
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
		limiter, err := pgstore.NewLimiter(pool, cfg.limits, pgstore.LimiterOptions{DigestKey: cfg.digestKey()})
		if err != nil {
			pool.Close()
			return nil, nil, nil, err
		}
		stop := sweep(ctx, log, s, limiter)
		return s, limiter, func() { stop(); pool.Close() }, nil
	default:
		s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: cfg.clock})
		return s, nil, func() {}, err
	}
}

// sweepInterval is how often a PostgreSQL-backed server removes the rows
// of expired challenges and spent budgets.
const sweepInterval = time.Minute

// sweep removes expired rows every sweepInterval until the returned
// function is called. Visibility never depends on it.
func sweep(ctx context.Context, log zerolog.Logger, s *pgstore.Store, l *pgstore.Limiter) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(sweepInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			records, err1 := s.DeleteExpired(ctx, 10_000)
			limits, err2 := l.DeleteExpired(ctx, 10_000)
			if err := errors.Join(err1, err2); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Msg("removing expired rows")
				continue
			}
			log.Debug().Int64("records", records).Int64("limiter_rows", limits).Msg("removed expired rows")
		}
	}()
	return func() { cancel(); <-done }
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
