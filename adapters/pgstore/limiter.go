package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// Limiter is a challenge.Limiter on PostgreSQL: one budget for every
// server that shares the database. Every method is one statement (a call
// of one of the functions Migrate installs, which lock the rows they
// change), so concurrent servers never spend more than a budget holds.
// Time is read from the Limiter's Clock and sent with each call.
//
// Callers, sources, subjects and destinations appear in rows only as
// digests (challenge.KeyDigest), keyed with LimiterOptions.DigestKey. Rows
// past their use are removed by DeleteExpired; run it periodically. It is
// safe for concurrent use.
type Limiter struct {
	db       DB
	clock    challenge.Clock
	limits   challenge.Limits
	digester *challenge.KeyDigester
}

// LimiterOptions configures a [Limiter]. The zero value is ready to use.
type LimiterOptions struct {
	// Clock is what the limiter reads the time from; nil means the
	// system clock.
	Clock challenge.Clock
	// DigestKey keys the digests that name the limiter's rows: with a
	// secret key, a reader of the database cannot tell whose budgets they
	// are. Every server of a fleet needs the same one. Nil means unkeyed
	// SHA-256.
	DigestKey []byte
	// RecreateSchema is as Options.RecreateSchema: a call that finds the
	// limiter's tables or functions missing (SQLSTATE 42P01, 42883) runs
	// Migrate and itself again, once.
	RecreateSchema bool
}

var _ challenge.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter over db (usually a *pgxpool.Pool, whose
// schema Migrate has created) keeping limits (zero fields take their
// defaults).
func NewLimiter(db DB, limits challenge.Limits, opts LimiterOptions) (*Limiter, error) {
	if db == nil {
		return nil, errors.New("pgstore: nil DB")
	}
	limits, err := limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	if opts.RecreateSchema {
		db = remigrating{db: db}
	}
	return &Limiter{db: db, clock: opts.Clock, limits: limits, digester: challenge.NewKeyDigester(opts.DigestKey)}, nil
}

func (l *Limiter) digest(parts ...string) string { return l.digester.Digest(parts...) }

// Limits returns the limiter's budgets, defaults filled in.
func (l *Limiter) Limits() challenge.Limits { return l.limits }

// charge runs one of the charging functions, which answer 0 or the wait
// in microseconds.
func (l *Limiter) charge(ctx context.Context, op, sql string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: limiter %s: %w", op, err)
	}
	var wait int64
	if err := l.db.QueryRow(ctx, sql, args...).Scan(&wait); err != nil {
		return fmt.Errorf("pgstore: limiter %s: %w", op, classify(err))
	}
	if wait > 0 {
		return &challenge.ThrottledError{RetryAfter: time.Duration(wait) * time.Microsecond}
	}
	return nil
}

func (l *Limiter) exec(ctx context.Context, op, sql string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: limiter %s: %w", op, err)
	}
	if _, err := l.db.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("pgstore: limiter %s: %w", op, classify(err))
	}
	return nil
}

// Start implements [challenge.Limiter].
func (l *Limiter) Start(ctx context.Context, o challenge.Origin) error {
	type bucket struct {
		key              string
		interval, period int64
	}
	rate := func(key string, r challenge.Rate) bucket {
		return bucket{key, r.Per.Microseconds() / int64(r.Events), r.Per.Microseconds()}
	}
	buckets := []bucket{rate(l.digest("start", o.Caller), l.limits.CallerStarts)}
	if o.Source != "" {
		buckets = append(buckets, rate(l.digest("start", o.Caller, o.Source), l.limits.SourceStarts))
	}
	slices.SortFunc(buckets, func(a, b bucket) int { return strings.Compare(a.key, b.key) })
	var keys []string
	var intervals, periods []int64
	for _, b := range buckets {
		keys, intervals, periods = append(keys, b.key), append(intervals, b.interval), append(periods, b.period)
	}
	return l.charge(ctx, "start", `SELECT challengekit_limit_start($1, $2, $3, $4)`, keys, intervals, periods, l.clock.Now().UnixMicro())
}

// Attempt implements [challenge.Limiter].
func (l *Limiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	lim := l.limits
	return l.charge(ctx, "attempt", `SELECT challengekit_limit_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.digest("subject", a.Kind, a.Subject), l.digest(a.Source), a.ID, l.clock.Now().UnixMicro(),
		lim.FreeFailures, lim.MinHold.Microseconds(), lim.MaxHold.Microseconds(), lim.FailureWindow.Microseconds(),
		lim.SubjectFailures.Events, lim.SubjectFailures.Per.Microseconds())
}

// Refund implements [challenge.Limiter].
func (l *Limiter) Refund(ctx context.Context, a challenge.Attempt) error {
	return l.exec(ctx, "refund", `SELECT challengekit_limit_refund($1, $2, $3)`,
		l.digest("subject", a.Kind, a.Subject), l.digest(a.Source), a.ID)
}

// Deliver implements [challenge.Limiter].
func (l *Limiter) Deliver(ctx context.Context, d challenge.Delivery) error {
	type log struct {
		key string
		r   challenge.Rate
	}
	logs := []log{{l.digest("deliver", d.Destination, d.Source), l.limits.Deliveries},
		{l.digest("deliver", d.Destination), l.limits.DestinationDeliveries}}
	slices.SortFunc(logs, func(a, b log) int { return strings.Compare(a.key, b.key) })
	return l.charge(ctx, "deliver", `SELECT challengekit_limit_logs_charge($1, $2, $3, $4, $5)`,
		[]string{logs[0].key, logs[1].key}, []int{logs[0].r.Events, logs[1].r.Events},
		[]int64{logs[0].r.Per.Microseconds(), logs[1].r.Per.Microseconds()}, l.clock.Now().UnixMicro(), challenge.NewID())
}

// Reset implements [challenge.Limiter].
func (l *Limiter) Reset(ctx context.Context, kind, subject string) error {
	return l.exec(ctx, "reset", `SELECT challengekit_limit_reset($1)`, l.digest("subject", kind, subject))
}

// DeleteExpired removes the limiter's rows that no budget needs any more,
// up to limit of each table, and returns how many it removed. It skips
// rows a call holds, so it never waits on one. Budgets do not depend on
// it: call it periodically to reclaim space.
func (l *Limiter) DeleteExpired(ctx context.Context, limit int) (int64, error) {
	var n int64
	err := l.db.QueryRow(ctx, `
WITH b AS (DELETE FROM challengekit_limit_buckets WHERE key IN (
        SELECT key FROM challengekit_limit_buckets WHERE purge_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1),
     g AS (DELETE FROM challengekit_limit_logs WHERE key IN (
        SELECT key FROM challengekit_limit_logs WHERE purge_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1),
     p AS (DELETE FROM challengekit_limit_pairs WHERE (subject, source) IN (
        SELECT subject, source FROM challengekit_limit_pairs WHERE purge_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1)
SELECT (SELECT count(*) FROM b) + (SELECT count(*) FROM g) + (SELECT count(*) FROM p)`, l.clock.Now().UnixMicro(), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: limiter delete expired: %w", classify(err))
	}
	return n, nil
}
