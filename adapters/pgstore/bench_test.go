package pgstore

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// BenchmarkPostgres compares the store with the raw pool sending the same
// statements under the same parallel load: Get against a raw SELECT of
// getSQL, Update against a raw QueryRow of updateSQL with the same
// arguments. The ratio of their times is what the store itself costs.
func BenchmarkPostgres(b *testing.B) {
	pool := servicetest.Postgres(b)
	ctx := context.Background()
	if err := Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	s, err := New(pool, Options{})
	if err != nil {
		b.Fatal(err)
	}
	prefix := challenge.NewID()
	const records = 256
	recs := make([]*challenge.Record, records)
	for i := range recs {
		now := time.Now().UTC().Truncate(time.Microsecond)
		recs[i] = &challenge.Record{Kind: "bench", ID: prefix + "-" + strconv.Itoa(i),
			State: "pending", Subject: "p-alice", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), Data: make([]byte, 96)}
		if err := s.Create(ctx, recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		_, _ = pool.Exec(ctx, `DELETE FROM challengekit_records WHERE kind = 'bench' AND id LIKE $1`, prefix+"-%")
	})
	var next atomic.Int64
	mine := func() []*challenge.Record {
		g := int(next.Add(1))
		var out []*challenge.Record
		for i := g % 16; i < records; i += 16 {
			got, err := s.Get(ctx, "bench", recs[i].ID)
			if err != nil {
				b.Error(err)
				return nil
			}
			out = append(out, got)
		}
		return out
	}
	run := func(name string, op func(r *challenge.Record) error) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(4)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				own, i := mine(), 0
				for pb.Next() {
					i++
					if err := op(own[i%len(own)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	run("get", func(r *challenge.Record) error {
		_, err := s.Get(ctx, "bench", r.ID)
		return err
	})
	run("get_raw_select_baseline", func(r *challenge.Record) error {
		var state, subject string
		var version int64
		var attempts int
		var created, updated time.Time
		var expires *time.Time
		var data []byte
		return pool.QueryRow(ctx, getSQL, "bench", r.ID, time.Now()).Scan(&state, &version, &subject, &attempts, &created, &updated, &expires, &data)
	})
	run("update", func(r *challenge.Record) error { return s.Update(ctx, r) })
	run("update_raw_baseline", func(r *challenge.Record) error {
		var current, updated *int64
		err := pool.QueryRow(ctx, updateSQL, "bench", r.ID, time.Now(), int64(r.Version), string(r.State), r.Subject, r.Attempts,
			r.CreatedAt, r.UpdatedAt, r.ExpiresAt, r.ExpiresAt.Add(time.Hour), r.Data).Scan(&current, &updated)
		if err == nil && updated != nil {
			r.Version = uint64(*updated)
		}
		return err
	})
}
