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

// viewCases hold a store to the rules of [challenge.Viewer]. They call
// challenge.View, so a store without View passes them through Get.
var viewCases = []testCase{
	{"View lends the record Get returns", func(t *testing.T, e *env) {
		want := e.mustCreate(t, e.record())
		want.State, want.Data = "next", []byte("second")
		if err := e.store.Update(context.Background(), want); err != nil {
			t.Fatal(err)
		}
		sameRecord(t, e.mustView(t, want.ID), e.mustGet(t, want.ID))
	}},
	{"View after an Update sees the new record, and what fn copied stays as it was", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		rec.Data = bytes.Repeat([]byte("a"), 100)
		if err := e.store.Update(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		first := e.mustView(t, rec.ID)
		for _, data := range [][]byte{bytes.Repeat([]byte("b"), 100), []byte("short"), bytes.Repeat([]byte("c"), 5000), nil} {
			upd := rec.Clone()
			upd.Data = data
			if err := e.store.Update(context.Background(), upd); err != nil {
				t.Fatal(err)
			}
			rec = upd
			sameRecord(t, e.mustView(t, rec.ID), rec)
		}
		other := e.mustCreate(t, e.record()) // lent the bytes the first one was
		sameRecord(t, e.mustView(t, other.ID), other)
		if want := bytes.Repeat([]byte("a"), 100); !bytes.Equal(first.Data, want) || first.Version != 2 {
			t.Fatalf("a copy made during View changed afterwards: version %d, %d bytes", first.Version, len(first.Data))
		}
	}},
	{"View of an unknown, deleted or gone record is ErrNotFound and does not call fn", func(t *testing.T, e *env) {
		deleted := e.mustCreate(t, e.record())
		if err := e.store.Delete(context.Background(), Kind, deleted.ID); err != nil {
			t.Fatal(err)
		}
		gone := e.record()
		gone.ExpiresAt = e.clock.Now().Add(time.Second)
		e.mustCreate(t, gone)
		e.clock.Advance(time.Second + Retention)
		for _, id := range []string{e.id(), deleted.ID, gone.ID} {
			err := challenge.View(context.Background(), e.store, Kind, id, func(*challenge.Record) error {
				t.Fatalf("View(%s) called fn", id)
				return nil
			})
			if !errors.Is(err, challenge.ErrNotFound) {
				t.Errorf("View(%s): %v; want ErrNotFound", id, err)
			}
		}
	}},
	{"View of an expired record within retention lends it", func(t *testing.T, e *env) {
		rec := e.record()
		rec.ExpiresAt = e.clock.Now().Add(time.Second)
		want := e.mustCreate(t, rec)
		e.clock.Advance(time.Second + Retention/2)
		sameRecord(t, e.mustView(t, rec.ID), want)
	}},
	{"View returns fn's error as it is", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		errFn := errors.New("storetest: fn's own error")
		if err := challenge.View(context.Background(), e.store, Kind, rec.ID, func(*challenge.Record) error { return errFn }); err != errFn {
			t.Fatalf("View = %v; want fn's error, unwrapped", err)
		}
	}},
	{"View with a done context fails with its error and does not call fn", func(t *testing.T, e *env) {
		rec := e.mustCreate(t, e.record())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := challenge.View(ctx, e.store, Kind, rec.ID, func(*challenge.Record) error {
			t.Fatal("View with a cancelled context called fn")
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("View with a cancelled context: %v; want context.Canceled", err)
		}
	}},
	{"Views racing with Updates see whole records", func(t *testing.T, e *env) {
		// Every version v of the record holds v bytes of value v: a view
		// that sees bytes of two writes, or a length of another version,
		// has been lent bytes a writer was changing.
		rec := e.mustCreate(t, e.record())
		const writes, viewers = 40, 4
		errs := race(viewers+1, func(i int) error {
			if i == viewers {
				for range writes {
					rec.Data = bytes.Repeat([]byte{byte(rec.Version + 1)}, int(rec.Version+1))
					if err := e.store.Update(context.Background(), rec); err != nil {
						return err
					}
				}
				return nil
			}
			for range writes {
				err := challenge.View(context.Background(), e.store, Kind, rec.ID, func(got *challenge.Record) error {
					if got.Version == 1 {
						return nil
					}
					if len(got.Data) != int(got.Version) || !bytes.Equal(got.Data, bytes.Repeat([]byte{byte(got.Version)}, len(got.Data))) {
						return fmt.Errorf("version %d lent %d bytes, not all of them %d", got.Version, len(got.Data), got.Version)
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
		}
	}},
}

// mustView returns a copy of the record View lends, made during fn.
func (e *env) mustView(t *testing.T, id string) *challenge.Record {
	t.Helper()
	var got *challenge.Record
	err := challenge.View(context.Background(), e.store, Kind, id, func(rec *challenge.Record) error {
		got = rec.Clone()
		return nil
	})
	if err != nil {
		t.Fatalf("View(%s): %v", id, err)
	}
	return got
}
