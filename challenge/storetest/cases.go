package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

type testCase struct {
	name string
	run  func(t *testing.T, e *env)
}

var cases = []testCase{
	{"Create then Get returns every field", func(t *testing.T, e *env) {
		want := e.record()
		want.Version = 42 // ignored by Create
		e.mustCreate(t, want)
		if want.Version != 1 {
			t.Fatalf("Create set Version to %d, want 1", want.Version)
		}
		sameRecord(t, e.mustGet(t, want.ID), want)
	}},
	{"Get of an unknown record is ErrNotFound", func(t *testing.T, e *env) {
		e.wantGone(t, e.id())
	}},
	{"Create of an existing record is ErrAlreadyExists and keeps the original", func(t *testing.T, e *env) {
		orig := e.mustCreate(t, e.record())
		dup := e.record()
		dup.ID, dup.State, dup.Data = orig.ID, "other", []byte("other")
		if err := e.store.Create(context.Background(), dup); !errors.Is(err, challenge.ErrAlreadyExists) {
			t.Fatalf("second Create: %v; want ErrAlreadyExists", err)
		}
		sameRecord(t, e.mustGet(t, orig.ID), orig)
	}},
	{"Create without a kind or an ID is ErrInvalidRecord", func(t *testing.T, e *env) {
		noKind, noID := e.record(), e.record()
		noKind.Kind, noID.ID = "", ""
		for _, rec := range []*challenge.Record{noKind, noID} {
			if err := e.store.Create(context.Background(), rec); !errors.Is(err, challenge.ErrInvalidRecord) {
				t.Errorf("Create(kind %q, id %q): %v; want ErrInvalidRecord", rec.Kind, rec.ID, err)
			}
		}
	}},
	{"Kinds are separate namespaces", func(t *testing.T, e *env) {
		a := e.mustCreate(t, e.record())
		b := e.record()
		b.Kind, b.ID, b.Data = Kind+"_other", a.ID, []byte("b")
		e.mustCreate(t, b)
		sameRecord(t, e.mustGet(t, a.ID), a)
		if err := e.store.Delete(context.Background(), b.Kind, b.ID); err != nil {
			t.Fatalf("Delete(other kind): %v", err)
		}
		sameRecord(t, e.mustGet(t, a.ID), a)
	}},
	{"Update with the current version replaces the record and bumps Version", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		rec.State, rec.Subject, rec.Attempts, rec.Data = "redirected", "subject-2", 2, []byte("new data")
		rec.UpdatedAt = rec.UpdatedAt.Add(time.Minute)
		rec.ExpiresAt = rec.ExpiresAt.Add(time.Hour)
		if err := e.store.Update(context.Background(), rec); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if rec.Version != 2 {
			t.Fatalf("Update set Version to %d, want 2", rec.Version)
		}
		sameRecord(t, e.mustGet(t, rec.ID), rec)
		if err := e.store.Update(context.Background(), rec); err != nil {
			t.Fatalf("second Update with the returned version: %v", err)
		}
		if got := e.mustGet(t, rec.ID).Version; got != 3 {
			t.Fatalf("Version after two updates = %d, want 3", got)
		}
	}},
	{"Update with a stale version is ErrConflict and writes nothing", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		winner := rec.Clone()
		winner.State = "won"
		if err := e.store.Update(context.Background(), winner); err != nil {
			t.Fatalf("first Update: %v", err)
		}
		stale := rec.Clone()
		stale.State, stale.Data = "lost", []byte("lost")
		if err := e.store.Update(context.Background(), stale); !errors.Is(err, challenge.ErrConflict) {
			t.Fatalf("stale Update: %v; want ErrConflict", err)
		}
		sameRecord(t, e.mustGet(t, rec.ID), winner)
		ahead := winner.Clone()
		ahead.Version += 5
		if err := e.store.Update(context.Background(), ahead); !errors.Is(err, challenge.ErrConflict) {
			t.Fatalf("Update with a version from the future: %v; want ErrConflict", err)
		}
	}},
	{"Update of a missing record is ErrNotFound", func(t *testing.T, e *env) {
		rec := e.record()
		rec.Version = 1
		if err := e.store.Update(context.Background(), rec); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Update: %v; want ErrNotFound", err)
		}
		e.wantGone(t, rec.ID)
	}},
	{"Delete removes the record, and a second Delete is ErrNotFound", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		if err := e.store.Delete(context.Background(), Kind, rec.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		e.wantGone(t, rec.ID)
		if err := e.store.Delete(context.Background(), Kind, rec.ID); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("second Delete: %v; want ErrNotFound", err)
		}
		rec.Version = 1
		if err := e.store.Update(context.Background(), rec); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Update after Delete: %v; want ErrNotFound", err)
		}
		e.mustCreate(t, rec) // the ID is free again
	}},
	{"Records handed out are copies", func(t *testing.T, e *env) {
		want := e.mustCreate(t, e.record())
		got := e.mustGet(t, want.ID)
		got.Data[0] ^= 0xff
		got.State = "tampered"
		sameRecord(t, e.mustGet(t, want.ID), want)
	}},
	{"Records handed in are copied", func(t *testing.T, e *env) {
		rec := e.record()
		want := e.mustCreate(t, rec)
		rec.Data[0] ^= 0xff // the caller reuses its buffer after Create
		sameRecord(t, e.mustGet(t, want.ID), want)

		upd := want.Clone()
		upd.Data = []byte("updated")
		if err := e.store.Update(context.Background(), upd); err != nil {
			t.Fatalf("Update: %v", err)
		}
		want = upd.Clone()
		upd.Data[0] ^= 0xff // and after Update
		sameRecord(t, e.mustGet(t, want.ID), want)
	}},
	{"An expired record stays readable and writable through the retention window", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		e.clock.Set(rec.ExpiresAt)
		sameRecord(t, e.mustGet(t, rec.ID), rec)
		e.clock.Set(rec.ExpiresAt.Add(Retention - time.Microsecond))
		sameRecord(t, e.mustGet(t, rec.ID), rec)
		rec.State = "expired"
		if err := e.store.Update(context.Background(), rec); err != nil {
			t.Fatalf("Update within retention: %v", err)
		}
		sameRecord(t, e.mustGet(t, rec.ID), rec)
		other := e.record()
		other.ID = rec.ID
		if err := e.store.Create(context.Background(), other); !errors.Is(err, challenge.ErrAlreadyExists) {
			t.Fatalf("Create over a record within retention: %v; want ErrAlreadyExists", err)
		}
	}},
	{"A record past its retention window is gone", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		e.clock.Set(rec.ExpiresAt.Add(Retention))
		e.wantGone(t, rec.ID)
		if err := e.store.Update(context.Background(), rec); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Update: %v; want ErrNotFound", err)
		}
		if err := e.store.Delete(context.Background(), Kind, rec.ID); !errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Delete: %v; want ErrNotFound", err)
		}
		fresh := e.record()
		fresh.ID = rec.ID
		want := e.mustCreate(t, fresh) // the ID is free again
		sameRecord(t, e.mustGet(t, rec.ID), want)
	}},
	{"A record without an expiry never goes", func(t *testing.T, e *env) {
		rec := e.record()
		rec.ExpiresAt = time.Time{}
		want := e.mustCreate(t, rec)
		e.clock.Advance(10 * 365 * 24 * time.Hour)
		sameRecord(t, e.mustGet(t, rec.ID), want)
	}},
	{"Update can extend and remove the expiry", func(t *testing.T, e *env) {
		extended := e.mustCreate(t, e.record())
		forever := e.mustCreate(t, e.record())
		oldExpiry := extended.ExpiresAt
		extended.ExpiresAt = oldExpiry.Add(time.Hour)
		forever.ExpiresAt = time.Time{}
		for _, rec := range []*challenge.Record{extended, forever} {
			if err := e.store.Update(context.Background(), rec); err != nil {
				t.Fatalf("Update(%s): %v", rec.ID, err)
			}
		}
		e.clock.Set(oldExpiry.Add(Retention + time.Minute))
		sameRecord(t, e.mustGet(t, extended.ID), extended)
		sameRecord(t, e.mustGet(t, forever.ID), forever)
		e.clock.Set(extended.ExpiresAt.Add(Retention))
		e.wantGone(t, extended.ID)
		sameRecord(t, e.mustGet(t, forever.ID), forever)
	}},
	{fmt.Sprintf("%d writers racing one Update: exactly one wins", Racers), func(t *testing.T, e *env) {
		base := e.mustCreate(t, e.record())
		errs := race(Racers, func(i int) error {
			rec := base.Clone()
			rec.Data = fmt.Appendf(nil, "writer %d", i)
			return e.store.Update(context.Background(), rec)
		})
		w := oneWinner(t, errs, challenge.ErrConflict)
		want := base.Clone()
		want.Version = base.Version + 1
		want.Data = fmt.Appendf(nil, "writer %d", w)
		sameRecord(t, e.mustGet(t, base.ID), want)
	}},
	{fmt.Sprintf("%d writers racing one Create: exactly one wins", Racers), func(t *testing.T, e *env) {
		id := e.id()
		recs := make([]*challenge.Record, Racers)
		for i := range recs {
			recs[i] = e.record()
			recs[i].ID, recs[i].Data = id, fmt.Appendf(nil, "creator %d", i)
		}
		errs := race(Racers, func(i int) error {
			return e.store.Create(context.Background(), recs[i])
		})
		w := oneWinner(t, errs, challenge.ErrAlreadyExists)
		if got := e.mustGet(t, id); string(got.Data) != fmt.Sprintf("creator %d", w) {
			t.Fatalf("stored Data = %q, want the winner's (creator %d)", got.Data, w)
		}
	}},
	{"Concurrent work on different records does not interfere", func(t *testing.T, e *env) {
		recs := make([]*challenge.Record, Racers)
		for i := range recs {
			recs[i] = e.record()
		}
		errs := race(Racers, func(i int) error {
			ctx, rec := context.Background(), recs[i]
			if err := e.store.Create(ctx, rec); err != nil {
				return err
			}
			for step := range 5 {
				rec.Data = fmt.Appendf(nil, "record %d step %d", i, step)
				if err := e.store.Update(ctx, rec); err != nil {
					return err
				}
			}
			got, err := e.store.Get(ctx, Kind, rec.ID)
			if err != nil {
				return err
			}
			if got.Version != 6 || !bytes.Equal(got.Data, rec.Data) {
				return fmt.Errorf("record %d read back version %d data %q", i, got.Version, got.Data)
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
	}},
	{"Large binary Data round-trips intact", func(t *testing.T, e *env) {
		rec := e.record()
		rec.Data = make([]byte, 1<<20)
		for i := range rec.Data {
			rec.Data[i] = byte(i*7 + i>>8) // every byte value, zeros included
		}
		want := e.mustCreate(t, rec)
		sameRecord(t, e.mustGet(t, rec.ID), want)
	}},
	{"Empty Data round-trips as empty", func(t *testing.T, e *env) {
		for _, data := range [][]byte{nil, {}} {
			rec := e.record()
			rec.Data = data
			e.mustCreate(t, rec)
			if got := e.mustGet(t, rec.ID); len(got.Data) != 0 {
				t.Fatalf("Data = %q, want empty", got.Data)
			}
		}
	}},
	{"Text fields keep any UTF-8 exactly", func(t *testing.T, e *env) {
		rec := e.record()
		rec.ID = e.id() + "-ünï/cødé:%_*'\""
		rec.Subject = "Zoë O'Brien; DROP TABLE--\t\u00a0😀"
		rec.State = "état"
		want := e.mustCreate(t, rec)
		sameRecord(t, e.mustGet(t, rec.ID), want)
	}},
	{"Times come back in UTC with microsecond precision", func(t *testing.T, e *env) {
		rec := e.record()
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		rec.CreatedAt = time.Date(2031, 2, 3, 4, 5, 6, 123456000, zone)
		rec.UpdatedAt = rec.CreatedAt.Add(time.Microsecond)
		want := e.mustCreate(t, rec)
		sameRecord(t, e.mustGet(t, rec.ID), want)
	}},
	{"A done context makes every method fail and change nothing", func(t *testing.T, e *env) {
		live := e.mustCreate(t, e.record())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		wantCanceled := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v; want context.Canceled", op, err)
			}
		}
		fresh := e.record()
		wantCanceled("Create", e.store.Create(ctx, fresh))
		_, err := e.store.Get(ctx, Kind, live.ID)
		wantCanceled("Get", err)
		upd := live.Clone()
		upd.State = "changed"
		wantCanceled("Update", e.store.Update(ctx, upd))
		wantCanceled("Delete", e.store.Delete(ctx, Kind, live.ID))
		e.wantGone(t, fresh.ID)
		sameRecord(t, e.mustGet(t, live.ID), live)
	}},
}
