package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

// openedStore is the store cfg names, with what goes with it.
type openedStore struct {
	store   challenge.Store
	limiter challenge.Limiter // nil: newMux's memory limiter
	// prepare does the start-up work that needs the store to answer
	// (loading scripts, creating the schema); it is idempotent, and
	// retried until it succeeds.
	prepare func(context.Context) error
	close   func()
	secrets []string // in the store's URL: never logged nor answered
}

// openStore opens the store cfg names. It does no I/O: a store that is
// down at start is no reason not to start.
func openStore(ctx context.Context, cfg *config, log zerolog.Logger) (*openedStore, error) {
	switch cfg.store {
	case "redis":
		client, secrets, err := newRedisClient(cfg.redisURL)
		if err != nil {
			return nil, fmt.Errorf("-redis-url: %w", err)
		}
		logRedisTo(log, redactor(secrets...))
		cmds, closeRedis, err := redisCommands(client, cfg.redisAutoPipeline)
		if err != nil {
			return nil, err
		}
		// Ping goes through the client: through a pipeliner it would
		// reach one node of a Cluster, not every master.
		s, err := redisstore.New(cmds, redisstore.Options{PingClient: client})
		if err != nil {
			closeRedis()
			return nil, err
		}
		// The limiter shares the Redis: every server of a fleet spends one budget.
		limiter, err := redisstore.NewLimiter(cmds, cfg.limits, redisstore.Options{DigestKey: cfg.digestKey()})
		if err != nil {
			closeRedis()
			return nil, err
		}
		// Scripts also load themselves on first use; loading them first
		// makes every write one round trip.
		prepare := func(ctx context.Context) error { return errors.Join(s.Load(ctx), limiter.Load(ctx)) }
		return &openedStore{store: s, limiter: limiter, prepare: prepare, close: closeRedis, secrets: secrets}, nil
	case "postgres":
		pcfg, err := pgxpool.ParseConfig(cfg.postgresURL)
		if err != nil {
			return nil, fmt.Errorf("-postgres-url: %w", err)
		}
		pcfg.ConnConfig.ConnectTimeout = storeDialTimeout
		pcfg.ConnConfig.Tracer = pgxTracer(log, redactor(pcfg.ConnConfig.Password))
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, err
		}
		// A database restored without the schema gets it back at the
		// first statement that misses it, rather than 503s until a restart.
		s, err := pgstore.New(pool, pgstore.Options{RecreateSchema: true})
		if err != nil {
			pool.Close()
			return nil, err
		}
		limiter, err := pgstore.NewLimiter(pool, cfg.limits, pgstore.LimiterOptions{DigestKey: cfg.digestKey(), RecreateSchema: true})
		if err != nil {
			pool.Close()
			return nil, err
		}
		prepare := func(ctx context.Context) error { return pgstore.Migrate(ctx, pool) }
		stop := sweep(ctx, log, s, limiter)
		return &openedStore{store: s, limiter: limiter, prepare: prepare, close: func() { stop(); pool.Close() },
			secrets: []string{pcfg.ConnConfig.Password}}, nil
	default:
		s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: cfg.clock})
		if err != nil {
			return nil, err
		}
		return &openedStore{store: s, prepare: func(context.Context) error { return nil }, close: func() {}}, nil
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
