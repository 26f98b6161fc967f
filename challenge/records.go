package challenge

import (
	"context"
	"errors"
	"fmt"
)

// StoredState is the State of every record [Records] writes.
const StoredState State = "stored"

// Records keeps records of one kind that are not challenges: an
// enrollment, a catalog, a replay guard. They have no machine, no expiry
// and no attempt budget. Put replaces a record whole, or creates it;
// Update (and UpdateAbout) changes one by compare-and-set. Each costs one read and one
// write, and one of each again after a lost race. Store failures are
// classified as the [Engine] classifies them: ErrUnavailable for a failed
// read (or a write that was never sent), ErrOutcomeUnknown for a write
// that may have been applied. It is safe for concurrent use.
type Records struct {
	store Store
	kind  string
	clock Clock
}

// NewRecords returns the Records of kind in store, stamped with clock's
// time (nil: the system's).
func NewRecords(store Store, kind string, clock Clock) (*Records, error) {
	if store == nil || kind == "" {
		return nil, errors.New("challenge: NewRecords needs a store and a kind")
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &Records{store: store, kind: kind, clock: clock}, nil
}

// Kind returns the kind of the records.
func (r *Records) Kind() string { return r.kind }

// Get returns the record id, or ErrNotFound.
func (r *Records) Get(ctx context.Context, id string) (*Record, error) {
	if id == "" || len(id) > MaxIDLength {
		return nil, fmt.Errorf("challenge: %s: id of %d bytes: %w", r.kind, len(id), ErrNotFound)
	}
	rec, err := r.store.Get(ctx, r.kind, id)
	if err != nil {
		return nil, readError(err)
	}
	return rec, nil
}

// View calls fn with the record id as the store lends it (see [Viewer]),
// for a caller that only reads it, as one that decodes its Data does:
// without the copy Get makes. rec is valid only while fn runs: fn must not
// change it or keep it, or rec.Data, or a slice of it; nor may fn use the
// store. View returns fn's error as it is, or Get's errors without calling
// fn.
func (r *Records) View(ctx context.Context, id string, fn func(rec *Record) error) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("challenge: %s: id of %d bytes: %w", r.kind, len(id), ErrNotFound)
	}
	lent := false
	err := View(ctx, r.store, r.kind, id, func(rec *Record) error {
		lent = true
		return fn(rec)
	})
	if err != nil && !lent {
		return readError(err)
	}
	return err
}

// ViewChanged is View for a caller that keeps what it made of the record
// id, under the record's stamp (see [ChangeViewer]): it calls fn unless
// the record still has the stamp seen, and returns the stamp of the
// record it saw, empty if the store does not stamp records. fn is bound
// by View's rules.
func (r *Records) ViewChanged(ctx context.Context, id, seen string, fn func(rec *Record) error) (string, error) {
	if id == "" || len(id) > MaxIDLength {
		return "", fmt.Errorf("challenge: %s: id of %d bytes: %w", r.kind, len(id), ErrNotFound)
	}
	lent := false
	stamp, err := ViewChanged(ctx, r.store, r.kind, id, seen, func(rec *Record) error {
		lent = true
		return fn(rec)
	})
	if err != nil && !lent {
		return "", readError(err)
	}
	return stamp, err
}

// Put stores data as the record id, about subject: it creates the record,
// or replaces its data and subject whole.
func (r *Records) Put(ctx context.Context, id, subject string, data []byte) error {
	return r.update(ctx, id, &subject, func([]byte, bool) ([]byte, error) { return data, nil })
}

// Update stores what change makes of the record id. change is given the
// record's data, and whether there is a record at all; it returns the
// data to store (nil: leave the record as it is, or absent) or an error,
// which Update returns as it is. After a lost race change is called again
// with the winner's data, so it must derive everything from what it is
// given; a second lost race returns ErrConflict.
func (r *Records) Update(ctx context.Context, id string, change func(data []byte, found bool) ([]byte, error)) error {
	return r.update(ctx, id, nil, change)
}

// UpdateAbout is Update that also sets the record's subject, as Put does:
// a record it creates is about subject, as is one it changes.
func (r *Records) UpdateAbout(ctx context.Context, id, subject string, change func(data []byte, found bool) ([]byte, error)) error {
	return r.update(ctx, id, &subject, change)
}

func (r *Records) update(ctx context.Context, id string, subject *string, change func([]byte, bool) ([]byte, error)) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("challenge: %s: %w: id of %d bytes", r.kind, ErrInvalidRecord, len(id))
	}
	for try := 0; ; try++ {
		rec, err := r.store.Get(ctx, r.kind, id)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return readError(err)
		}
		var data []byte
		if found {
			data = rec.Data
		}
		next, err := change(data, found)
		if err != nil || next == nil {
			return err
		}
		now := storeTime(r.clock.Now())
		if !found {
			rec = &Record{Kind: r.kind, ID: id, State: StoredState, CreatedAt: now}
		}
		rec.Data, rec.UpdatedAt = next, now
		if subject != nil {
			rec.Subject = *subject
		}
		sent := ctx.Err() == nil
		if found {
			err = r.store.Update(ctx, rec)
		} else {
			err = r.store.Create(ctx, rec)
		}
		lost := errors.Is(err, ErrConflict) || errors.Is(err, ErrAlreadyExists) || (found && errors.Is(err, ErrNotFound))
		switch {
		case err == nil:
			return nil
		case lost && try == 0:
			continue // another writer came first: decide again on what it wrote
		case lost:
			return fmt.Errorf("challenge: %s %s: %w", r.kind, id, ErrConflict)
		}
		return writeError(err, sent)
	}
}
