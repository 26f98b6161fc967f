package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/challengekit/challengekit/challenge"
)

// A database restored from a backup taken before Migrate ran, or by hand,
// may lack the store's tables or the limiter's functions. A statement then
// fails with SQLSTATE 42P01 (undefined_table) or 42883
// (undefined_function), having changed nothing. By default the store
// answers such a failure with an error that wraps challenge.ErrUnavailable
// and names the cause (so a service answers 503) until Migrate is run;
// with RecreateSchema it runs Migrate itself and the statement again,
// once.

// missingSchema reports whether err says a table or function of the
// schema is missing.
func missingSchema(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42883")
}

// errMissingSchema is wrapped into the error of a statement that found the
// schema missing.
var errMissingSchema = errors.New("the schema is missing (a table or function Migrate creates); run pgstore.Migrate")

// remigrating is a DB that, when a statement finds the schema missing,
// runs Migrate and the statement again, once.
type remigrating struct{ db DB }

func (r remigrating) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := r.db.Exec(ctx, sql, args...)
	if missingSchema(err) {
		if merr := Migrate(ctx, r.db); merr != nil {
			return tag, errors.Join(err, merr)
		}
		return r.db.Exec(ctx, sql, args...)
	}
	return tag, err
}

func (r remigrating) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return remigratingRow{r: r, ctx: ctx, sql: sql, args: args, row: r.db.QueryRow(ctx, sql, args...)}
}

type remigratingRow struct {
	r    remigrating
	ctx  context.Context
	sql  string
	args []any
	row  pgx.Row
}

func (row remigratingRow) Scan(dest ...any) error {
	err := row.row.Scan(dest...)
	if !missingSchema(err) {
		return err
	}
	if merr := Migrate(row.ctx, row.r.db); merr != nil {
		return errors.Join(err, merr)
	}
	return row.r.db.QueryRow(row.ctx, row.sql, row.args...).Scan(dest...)
}

// schemaError marks err, when it says the schema is missing, with
// challenge.ErrUnavailable (nothing was changed) and the remedy.
func schemaError(err error) error {
	if missingSchema(err) {
		return fmt.Errorf("%w: %w: %w", challenge.ErrUnavailable, errMissingSchema, err)
	}
	return err
}
