// Package pgstore is a challenge.Store on PostgreSQL, through a pgx pool
// the caller owns: durable records for a fleet of servers, in a database
// the embedding service may already run.
//
// Every operation is one statement, so one round trip once pgx has cached
// it on the connection; Update is a compare-and-set on the version in a
// single UPDATE. Visibility (ExpiresAt plus the retention window) is judged
// by the store's Clock, like every Store; DeleteExpired removes what is past
// it, through an index, so its cost grows with expired rows only.
//
// A statement that finds the schema missing (a database restored without
// it) fails with an error wrapping challenge.ErrUnavailable that says to
// run Migrate; with Options.RecreateSchema the store runs Migrate itself
// and the statement again, once.
package pgstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/challengekit/challengekit/challenge"
)

//go:embed schema.sql
var schema string

// DB is what a Store needs of a pgx pool (or connection, or transaction).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Migrate creates the store's table and index if they are missing. It is
// safe to run at every start and from many processes at once.
func Migrate(ctx context.Context, db DB) error {
	// One multi-statement Exec runs as one implicit transaction, so the
	// advisory lock serializes concurrent migrations until the DDL commits.
	if _, err := db.Exec(ctx, "SELECT pg_advisory_xact_lock(7297116);\n"+schema); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Clock judges expiry and retention; nil means the system clock.
	Clock challenge.Clock
	// Retention is how long an expired record stays readable; zero means
	// challenge.DefaultRetention.
	Retention time.Duration
	// RecreateSchema makes a statement that finds the table missing
	// (SQLSTATE 42P01, as in a database restored without it) run Migrate
	// and then itself again, once. Without it, such a statement fails
	// with an error that wraps challenge.ErrUnavailable and names the
	// cause, until Migrate is run. Leave it false when db is a
	// transaction, or when the schema is managed elsewhere.
	RecreateSchema bool
}

// Store is a challenge.Store on PostgreSQL. It is safe for concurrent use,
// and by many processes sharing one database.
type Store struct {
	db        DB
	clock     challenge.Clock
	retention time.Duration
	// query is the DB given to New if it can run a query whose rows stay
	// open (a pool, a connection, a transaction), for View; nil otherwise.
	query    querier
	raw      DB   // the DB given to New, which Migrate runs on
	recreate bool // Options.RecreateSchema
}

// querier is what View needs of a DB beyond QueryRow: rows it reads the
// driver's buffer from before they are closed.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

var (
	_ challenge.Store  = (*Store)(nil)
	_ challenge.Viewer = (*Store)(nil)
)

// New returns a Store over db (usually a *pgxpool.Pool), whose schema
// Migrate has created.
func New(db DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("pgstore: nil DB")
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("pgstore: negative retention %v", opts.Retention)
	}
	if opts.Retention == 0 {
		opts.Retention = challenge.DefaultRetention
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	s := &Store{db: db, clock: opts.Clock, retention: opts.Retention, raw: db, recreate: opts.RecreateSchema}
	s.query, _ = db.(querier)
	if opts.RecreateSchema {
		s.db = remigrating{db: db}
	}
	return s, nil
}

const visible = `(purge_at IS NULL OR purge_at > $3)`

// getSQL reads a visible record: $1 kind, $2 id, $3 now.
const getSQL = `
SELECT state, version, subject, attempts, created_at, updated_at, expires_at, data
FROM challengekit_records WHERE kind = $1 AND id = $2 AND ` + visible

// updateSQL is the compare-and-set: $4 the expected version, $5… the new
// fields. It returns the visible record's version (NULL: not found) and the
// new version (NULL: the compare failed).
const updateSQL = `
WITH cur AS (
  SELECT version FROM challengekit_records WHERE kind = $1 AND id = $2 AND ` + visible + `
), upd AS (
  UPDATE challengekit_records SET
    state = $5, version = version + 1, subject = $6, attempts = $7, created_at = $8, updated_at = $9,
    expires_at = $10, purge_at = $11, data = $12
  WHERE kind = $1 AND id = $2 AND version = $4 AND ` + visible + `
  RETURNING version
)
SELECT (SELECT version FROM cur), (SELECT version FROM upd)`

// nullable returns nil for the zero time, so that it is stored as NULL.
func nullable(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (s *Store) purgeAt(rec *challenge.Record) any {
	if rec.ExpiresAt.IsZero() {
		return nil
	}
	return rec.ExpiresAt.Add(s.retention)
}

func data(rec *challenge.Record) []byte {
	if rec.Data == nil {
		return []byte{}
	}
	return rec.Data
}

// Create implements [challenge.Store.Create]: an INSERT that replaces a
// row only if that row is past its retention window.
func (s *Store) Create(ctx context.Context, rec *challenge.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	if rec.Kind == "" || rec.ID == "" {
		return fmt.Errorf("pgstore: create: %w: empty kind or id", challenge.ErrInvalidRecord)
	}
	tag, err := s.db.Exec(ctx, `
INSERT INTO challengekit_records AS r
  (kind, id, state, version, subject, attempts, created_at, updated_at, expires_at, purge_at, data)
VALUES ($1, $2, $4, 1, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (kind, id) DO UPDATE SET
  state = EXCLUDED.state, version = 1, subject = EXCLUDED.subject, attempts = EXCLUDED.attempts,
  created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at,
  purge_at = EXCLUDED.purge_at, data = EXCLUDED.data
WHERE r.purge_at IS NOT NULL AND r.purge_at <= $3`,
		rec.Kind, rec.ID, s.clock.Now(), string(rec.State), rec.Subject, rec.Attempts,
		rec.CreatedAt, rec.UpdatedAt, nullable(rec.ExpiresAt), s.purgeAt(rec), data(rec))
	if err != nil {
		return fmt.Errorf("pgstore: create %s/%s: %w", rec.Kind, rec.ID, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: create %s/%s: %w", rec.Kind, rec.ID, challenge.ErrAlreadyExists)
	}
	rec.Version = 1
	return nil
}

// Get implements [challenge.Store.Get].
func (s *Store) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: get: %w", err)
	}
	rec := &challenge.Record{Kind: kind, ID: id}
	var state string
	var version int64
	var expires *time.Time
	err := s.db.QueryRow(ctx, getSQL, kind, id, s.clock.Now()).Scan(&state, &version, &rec.Subject, &rec.Attempts, &rec.CreatedAt, &rec.UpdatedAt, &expires, &rec.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", kind, id, challenge.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", kind, id, classify(err))
	}
	rec.State, rec.Version = challenge.State(state), uint64(version)
	rec.CreatedAt, rec.UpdatedAt = rec.CreatedAt.UTC(), rec.UpdatedAt.UTC()
	if expires != nil {
		rec.ExpiresAt = expires.UTC()
	}
	if len(rec.Data) == 0 {
		rec.Data = nil
	}
	return rec, nil
}

// View implements [challenge.Viewer]. With a DB that has Query (as a
// *pgxpool.Pool does), rec.Data is the driver's own buffer, lent without a
// copy, and the connection is held while fn runs; with any other DB, View
// lends the record Get returns.
func (s *Store) View(ctx context.Context, kind, id string, fn func(rec *challenge.Record) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: view: %w", err)
	}
	if s.query == nil {
		rec, err := s.Get(ctx, kind, id)
		if err != nil {
			return err
		}
		return fn(rec)
	}
	called, err := s.view(ctx, kind, id, fn)
	if !called && s.recreate && missingSchema(err) {
		if merr := Migrate(ctx, s.raw); merr != nil {
			return fmt.Errorf("pgstore: view %s/%s: %w", kind, id, errors.Join(err, merr))
		}
		called, err = s.view(ctx, kind, id, fn)
	}
	switch {
	case called || err == nil:
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: view %s/%s: %w", kind, id, challenge.ErrNotFound)
	}
	return fmt.Errorf("pgstore: view %s/%s: %w", kind, id, classify(err))
}

// view reads the record and calls fn with it while its row is open. It
// returns whether it called fn, and fn's error or its own (pgx.ErrNoRows
// for no visible record).
func (s *Store) view(ctx context.Context, kind, id string, fn func(rec *challenge.Record) error) (bool, error) {
	rows, err := s.query.Query(ctx, getSQL, kind, id, s.clock.Now())
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return false, err
		}
		return false, pgx.ErrNoRows
	}
	rec := &challenge.Record{Kind: kind, ID: id}
	var state string
	var version int64
	var expires *time.Time
	var data pgtype.DriverBytes // valid until rows.Close
	if err := rows.Scan(&state, &version, &rec.Subject, &rec.Attempts, &rec.CreatedAt, &rec.UpdatedAt, &expires, &data); err != nil {
		return false, err
	}
	rec.State, rec.Version = challenge.State(state), uint64(version)
	rec.CreatedAt, rec.UpdatedAt = rec.CreatedAt.UTC(), rec.UpdatedAt.UTC()
	if expires != nil {
		rec.ExpiresAt = expires.UTC()
	}
	if len(data) > 0 {
		rec.Data = data[:len(data):len(data)]
	}
	return true, fn(rec)
}

// Update implements [challenge.Store.Update]. One statement both attempts
// the compare-and-set and tells a missing record from a stale version.
func (s *Store) Update(ctx context.Context, rec *challenge.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: update: %w", err)
	}
	var current, updated *int64
	err := s.db.QueryRow(ctx, updateSQL,
		rec.Kind, rec.ID, s.clock.Now(), int64(rec.Version), string(rec.State), rec.Subject, rec.Attempts,
		rec.CreatedAt, rec.UpdatedAt, nullable(rec.ExpiresAt), s.purgeAt(rec), data(rec)).Scan(&current, &updated)
	switch {
	case err != nil:
		return fmt.Errorf("pgstore: update %s/%s: %w", rec.Kind, rec.ID, classify(err))
	case current == nil:
		return fmt.Errorf("pgstore: update %s/%s: %w", rec.Kind, rec.ID, challenge.ErrNotFound)
	case updated == nil:
		return fmt.Errorf("pgstore: update %s/%s: %w", rec.Kind, rec.ID, challenge.ErrConflict)
	}
	rec.Version = uint64(*updated)
	return nil
}

// Delete implements [challenge.Store.Delete].
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM challengekit_records WHERE kind = $1 AND id = $2 AND `+visible, kind, id, s.clock.Now())
	if err != nil {
		return fmt.Errorf("pgstore: delete %s/%s: %w", kind, id, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: delete %s/%s: %w", kind, id, challenge.ErrNotFound)
	}
	return nil
}

// DeleteExpired removes up to limit rows past their retention window and
// returns how many it removed. Visibility does not depend on it: call it
// periodically to reclaim space. Its cost follows the expired rows, through
// the purge_at index.
func (s *Store) DeleteExpired(ctx context.Context, limit int) (int64, error) {
	tag, err := s.db.Exec(ctx, `
DELETE FROM challengekit_records WHERE ctid IN (
  SELECT ctid FROM challengekit_records WHERE purge_at <= $1 ORDER BY purge_at LIMIT $2)`, s.clock.Now(), limit)
	if err != nil {
		return 0, fmt.Errorf("pgstore: delete expired: %w", schemaError(err))
	}
	return tag.RowsAffected(), nil
}

// classify marks an error of a statement that never reached the server
// (pgconn.SafeToRetry: no connection, or one that failed before the
// statement was sent) with challenge.ErrUnavailable: nothing was written.
// Any other error leaves a write's outcome unknown.
func classify(err error) error {
	if missingSchema(err) {
		return schemaError(err)
	}
	if pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", challenge.ErrUnavailable, err)
	}
	return err
}

// Ping implements [challenge.Pinger]: one statement that reads nothing
// from the records' table, so that it fails when the database does not
// answer and when the table is missing.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, `SELECT 1 FROM challengekit_records LIMIT 0`); err != nil {
		return fmt.Errorf("pgstore: ping: %w", classify(err))
	}
	return nil
}
