package challenge

import "context"

// Store keeps records. Implementations must be safe for concurrent use by
// many goroutines and, for shared backends, by many processes.
//
// Every implementation must pass challenge/storetest.Run. The contract:
//
//   - Records are keyed by (Kind, ID).
//   - A record is visible until ExpiresAt plus the store's retention window,
//     judged by the store's [Clock]; after that it behaves exactly as if it
//     had been deleted, whether or not the backend has reclaimed it yet. A
//     zero ExpiresAt never expires.
//   - Records handed in and out are the caller's: the store copies what it
//     keeps and what it returns, so changing them cannot change the store.
//     The one exception is the record a [Viewer] lends to a function for
//     the length of one call.
//   - Times round-trip with at least microsecond precision and come back in
//     UTC.
//   - A method called with a done context returns an error that wraps the
//     context's error and changes nothing.
//
// Errors other than the ones documented below (and context errors) mean the
// backend failed; the caller cannot tell whether a write took effect,
// unless the error wraps [ErrUnavailable]: a store returns that for a
// failure it knows changed nothing (a write it could not send, such as a
// refused connection). The [Engine] answers a failed read and such a
// write with ErrUnavailable, any other failed write with
// [ErrOutcomeUnknown].
type Store interface {
	// Create stores rec as a new record and sets rec.Version to 1. It
	// returns ErrAlreadyExists if a visible record has the same kind and ID,
	// and ErrInvalidRecord if rec.Kind or rec.ID is empty. rec.Version on
	// input is ignored.
	Create(ctx context.Context, rec *Record) error

	// Get returns a copy of the visible record with this kind and ID, or
	// ErrNotFound.
	Get(ctx context.Context, kind, id string) (*Record, error)

	// Update replaces the record with rec's kind and ID if, and only if, the
	// stored Version equals rec.Version; on success the stored version, and
	// rec.Version, is one higher. It returns ErrConflict if the stored
	// Version differs (nothing is written) and ErrNotFound if there is no
	// visible record. Every field but Kind, ID and Version is taken from rec.
	Update(ctx context.Context, rec *Record) error

	// Delete removes the record with this kind and ID, or returns
	// ErrNotFound if there is no visible one.
	Delete(ctx context.Context, kind, id string) error
}

// Pinger is what a [Store] may implement besides the contract: Ping
// reports whether the backend answers now (nil), or why not. A program's
// readiness check calls it; a Store that does not implement it is taken to
// be always ready. Ping changes no record. (A store configured to repair
// its own schema, as pgstore with RecreateSchema, may repair it on a Ping
// as on any other call, so that a server kept out of rotation by failing
// probes can heal without traffic.)
type Pinger interface {
	Ping(ctx context.Context) error
}

// Viewer is what a [Store] may implement besides the contract, for reads
// that only look at a record, such as decoding its Data: View calls fn
// with the visible record with this kind and ID without copying it for
// the caller, and returns fn's error as it is. Where Get would return an
// error (ErrNotFound for no visible record, a context's error, a failure
// of the backend), View returns that error, the same way wrapped, and does
// not call fn.
//
// rec belongs to the store and is lent to fn for the call: fn must not
// change rec or rec.Data, nor keep rec, rec.Data or a slice of it after it
// returns (it copies what it needs, as decoding does; the strings in rec
// are its to keep). A later write may reuse those bytes. fn must not call
// the store: a store may hold a lock while fn runs.
//
// Every Viewer must pass challenge/storetest.Run's View cases as well. Call
// [View], which falls back on Get for a store that does not implement it.
type Viewer interface {
	View(ctx context.Context, kind, id string, fn func(rec *Record) error) error
}

// View calls fn with the visible record of store with this kind and ID, as
// [Viewer.View] does: without a copy if store implements Viewer, else with
// the copy Get returns. fn must keep to Viewer's rules either way.
func View(ctx context.Context, store Store, kind, id string, fn func(rec *Record) error) error {
	if v, ok := store.(Viewer); ok {
		return v.View(ctx, kind, id, fn)
	}
	rec, err := store.Get(ctx, kind, id)
	if err != nil {
		return err
	}
	return fn(rec)
}

// ChangeViewer is what a [Store] may implement besides the contract, for
// a caller that keeps what it made of a record (a decoded catalog, say)
// and reads the record again on every use, so that a change another
// server made is seen at once: ViewChanged lets it skip the record's
// bytes while they are those it has already seen.
//
// Every Create and Update that succeeds gives the record a stamp: an
// opaque string of bytes (not text: it may not be valid UTF-8) that no
// earlier write of a record with that kind and ID had in this store, even
// one deleted and created again; a write refused (a conflict, a record
// that exists already or is gone) leaves the stamp as it was. A stamp
// means something only to the store that returned it, and only for that
// record: a caller keeps it next to what it made of the record, in the
// same process, and never sends it elsewhere.
//
// ViewChanged with an empty seen is [Viewer.View] that also returns the
// lent record's stamp. With the stamp of an earlier read as seen, it
// returns seen without calling fn if the visible record still has that
// stamp, and otherwise calls fn as View does and returns the record's
// stamp. Its errors are View's, with an empty stamp; when fn fails,
// ViewChanged returns fn's error as it is, with the stamp of the record
// fn was lent. An empty stamp means the record has none (a wrapper over
// a store that stamps nothing, or a record written by an older version
// of a store): fn is then called on every read, and the caller tells a
// change by the bytes it is lent.
//
// Every ChangeViewer must pass challenge/storetest.Run's ViewChanged cases
// as well. Call [ViewChanged], which falls back on View for a store that
// does not implement it.
type ChangeViewer interface {
	ViewChanged(ctx context.Context, kind, id, seen string, fn func(rec *Record) error) (stamp string, err error)
}

// ViewChanged calls fn with the visible record of store with this kind
// and ID unless it is the one stamped seen, as [ChangeViewer.ViewChanged]
// does, if store implements ChangeViewer. Otherwise it calls [View] and
// returns an empty stamp: every call then lends the record to fn, and the
// caller tells a change by the bytes it is lent.
func ViewChanged(ctx context.Context, store Store, kind, id, seen string, fn func(rec *Record) error) (string, error) {
	if v, ok := store.(ChangeViewer); ok {
		return v.ViewChanged(ctx, kind, id, seen, fn)
	}
	return "", View(ctx, store, kind, id, fn)
}
