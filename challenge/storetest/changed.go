package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// changeCases hold a store to the rules of [challenge.ChangeViewer]. They
// call challenge.ViewChanged, so a store without ViewChanged passes them
// through View: it stamps nothing, and lends the record on every call.
var changeCases = []testCase{
	{"ViewChanged skips a record while it has the stamp seen", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		stamp := e.mustViewChanged(t, rec.ID, "", rec)
		if stamp == "" {
			e.mustViewChanged(t, rec.ID, "not a stamp", rec)
			return // the store stamps nothing: every read lends the record
		}
		for range 2 {
			e.wantUnchanged(t, rec.ID, stamp)
		}
		stale := rec.Clone()
		stale.Version++
		if err := e.store.Update(context.Background(), stale); !errors.Is(err, challenge.ErrConflict) {
			t.Fatalf("Update with a stale version: %v; want ErrConflict", err)
		}
		e.wantUnchanged(t, rec.ID, stamp) // a write refused writes no stamp
		if got := e.mustViewChanged(t, rec.ID, stamp+"x", rec); got != stamp {
			t.Fatalf("ViewChanged with another seen stamped the record %q, then %q", stamp, got)
		}
	}},
	{"ViewChanged lends a record again after each Update, under a new stamp", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		stamps := map[string]uint64{e.mustViewChanged(t, rec.ID, "", rec): rec.Version}
		seen := ""
		for _, data := range [][]byte{[]byte("second"), []byte("second"), nil} {
			if seen = e.stamp(t, rec.ID); seen == "" {
				return // the store stamps nothing
			}
			upd := rec.Clone()
			upd.Data = data
			if err := e.store.Update(context.Background(), upd); err != nil {
				t.Fatal(err)
			}
			rec = upd
			stamp := e.mustViewChanged(t, rec.ID, seen, rec)
			if v, ok := stamps[stamp]; ok {
				t.Fatalf("version %d has the stamp version %d had", rec.Version, v)
			}
			stamps[stamp] = rec.Version
			e.wantUnchanged(t, rec.ID, stamp)
		}
	}},
	{"ViewChanged lends a record deleted and created again, under a stamp it never had", func(t *testing.T, e *env) {
		rec := e.record()
		stamps := map[string]bool{}
		for i := range 3 {
			e.mustCreate(t, rec.Clone()) // the same fields each time: only the stamp tells them apart
			seen := e.stamp(t, rec.ID)
			if seen == "" {
				return // the store stamps nothing
			}
			if stamps[seen] {
				t.Fatalf("creation %d of %s has the stamp of an earlier one", i+1, rec.ID)
			}
			stamps[seen] = true
			if err := e.store.Delete(context.Background(), Kind, rec.ID); err != nil {
				t.Fatal(err)
			}
		}
	}},
	{"ViewChanged of a deleted or gone record is ErrNotFound, even under the stamp it had", func(t *testing.T, e *env) {
		deleted := e.mustCreate(t, e.record())
		gone := e.record()
		gone.ExpiresAt = e.clock.Now().Add(time.Second)
		e.mustCreate(t, gone)
		seen := map[string]string{deleted.ID: e.stamp(t, deleted.ID), gone.ID: e.stamp(t, gone.ID), e.id(): ""}
		if err := e.store.Delete(context.Background(), Kind, deleted.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second + Retention)
		for id, stamp := range seen {
			got, err := challenge.ViewChanged(context.Background(), e.store, Kind, id, stamp, func(*challenge.Record) error {
				t.Fatalf("ViewChanged(%s) called fn", id)
				return nil
			})
			if !errors.Is(err, challenge.ErrNotFound) || got != "" {
				t.Errorf("ViewChanged(%s) = %q, %v; want no stamp and ErrNotFound", id, got, err)
			}
		}
	}},
	{"ViewChanged skips an expired record within retention while it has the stamp seen", func(t *testing.T, e *env) {
		rec := e.record()
		rec.ExpiresAt = e.clock.Now().Add(time.Second)
		want := e.mustCreate(t, rec)
		stamp := e.stamp(t, rec.ID)
		e.clock.Advance(time.Second + Retention/2)
		if stamp == "" {
			e.mustViewChanged(t, rec.ID, "", want)
			return
		}
		e.wantUnchanged(t, rec.ID, stamp)
	}},
	{"ViewChanged returns fn's error as it is, with the stamp of the record fn was lent", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		want := e.stamp(t, rec.ID)
		errFn := errors.New("storetest: fn's own error")
		stamp, err := challenge.ViewChanged(context.Background(), e.store, Kind, rec.ID, "", func(*challenge.Record) error { return errFn })
		if err != errFn || stamp != want {
			t.Fatalf("ViewChanged = %q, %v; want %q and fn's error, unwrapped", stamp, err, want)
		}
	}},
	{"ViewChanged with a done context fails with its error and does not call fn", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, seen := range []string{"", e.stamp(t, rec.ID)} {
			stamp, err := challenge.ViewChanged(ctx, e.store, Kind, rec.ID, seen, func(*challenge.Record) error {
				t.Fatal("ViewChanged with a cancelled context called fn")
				return nil
			})
			if !errors.Is(err, context.Canceled) || stamp != "" {
				t.Fatalf("ViewChanged with a cancelled context = %q, %v; want no stamp and context.Canceled", stamp, err)
			}
		}
	}},
	{"ViewChanged racing with Updates never gives two versions one stamp", func(t *testing.T, e *env) {
		// Each viewer reads until the writer is done, every other read
		// whatever the stamp. A store that reads a record's stamp apart
		// from its fields fails here when a write falls between the two
		// reads, which takes luck: the case is a smoke test for that.
		rec := e.mustCreate(t, e.record())
		const writes, viewers = 200, 4
		var done atomic.Bool
		seen := make([]map[string]uint64, viewers)
		errs := race(viewers+1, func(i int) error {
			if i == viewers {
				defer done.Store(true)
				for range writes {
					if err := e.store.Update(context.Background(), rec); err != nil {
						return err
					}
				}
				return nil
			}
			seen[i] = map[string]uint64{}
			stamp, version := "", uint64(0)
			for j := 0; !done.Load(); j++ {
				if j%2 == 0 {
					stamp = ""
				}
				got, err := challenge.ViewChanged(context.Background(), e.store, Kind, rec.ID, stamp, func(r *challenge.Record) error {
					version = r.Version
					return nil
				})
				if err != nil {
					return err
				}
				if got == "" {
					continue
				}
				if v, ok := seen[i][got]; ok && v != version {
					return fmt.Errorf("one stamp for versions %d and %d", v, version)
				}
				seen[i][got], stamp = version, got
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
		}
		all := map[string]uint64{}
		for _, m := range seen {
			for stamp, v := range m {
				if w, ok := all[stamp]; ok && w != v {
					t.Fatalf("one stamp for versions %d and %d", w, v)
				}
				all[stamp] = v
			}
		}
	}},
}

// mustViewChanged calls ViewChanged with seen, which must not be the
// record's stamp: it fails t unless fn is lent want, and returns the
// stamp.
func (e *env) mustViewChanged(t *testing.T, id, seen string, want *challenge.Record) string {
	t.Helper()
	var got *challenge.Record
	stamp, err := challenge.ViewChanged(context.Background(), e.store, Kind, id, seen, func(rec *challenge.Record) error {
		got = rec.Clone()
		return nil
	})
	if err != nil {
		t.Fatalf("ViewChanged(%s, %q): %v", id, seen, err)
	}
	if got == nil {
		t.Fatalf("ViewChanged(%s, %q) did not call fn, though the record's stamp is %q", id, seen, stamp)
	}
	sameRecord(t, got, want)
	return stamp
}

// stamp returns the record's stamp, empty if the store stamps nothing.
func (e *env) stamp(t *testing.T, id string) string {
	t.Helper()
	stamp, err := challenge.ViewChanged(context.Background(), e.store, Kind, id, "", func(*challenge.Record) error { return nil })
	if err != nil {
		t.Fatalf("ViewChanged(%s): %v", id, err)
	}
	return stamp
}

// wantUnchanged fails t unless ViewChanged skips the record stamped seen.
func (e *env) wantUnchanged(t *testing.T, id, seen string) {
	t.Helper()
	stamp, err := challenge.ViewChanged(context.Background(), e.store, Kind, id, seen, func(rec *challenge.Record) error {
		return fmt.Errorf("lent version %d, though it has the stamp seen", rec.Version)
	})
	if err != nil || stamp != seen {
		t.Fatalf("ViewChanged(%s) under its own stamp = %q, %v; want it skipped, stamp unchanged", id, stamp, err)
	}
}
