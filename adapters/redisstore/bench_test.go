package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// BenchmarkRedis compares the store with the raw client sending the same
// round trips under the same parallel load: Get against a raw HMGET of the
// same key, Update against a raw EVALSHA of the same script with the same
// arguments. The ratio of their times is what the store's encoding and
// checks cost. Create, and the limiter's Start and Attempt, have no
// baseline: their allocations per call are what they are measured for.
func BenchmarkRedis(b *testing.B) {
	client := servicetest.Redis(b)
	ctx := context.Background()
	s, err := New(client, Options{Prefix: "challengekit-bench:" + challenge.NewID() + ":"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Load(ctx); err != nil {
		b.Fatal(err)
	}
	const records = 256
	recs := make([]*challenge.Record, records)
	for i := range recs {
		now := time.Now().UTC().Truncate(time.Microsecond)
		recs[i] = &challenge.Record{Kind: "bench", ID: strconv.Itoa(i), State: "pending", Subject: "p-alice",
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), Data: make([]byte, 96)}
		if err := s.Create(ctx, recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	// Each goroutine works on records of its own, so updates do not conflict.
	mine := func() []*challenge.Record {
		g := int(next.Add(1))
		var out []*challenge.Record
		for i := g % 16; i < records; i += 16 {
			out = append(out, recs[i].Clone())
		}
		return out
	}
	// run measures op from 8 goroutines per core, each on records of its
	// own; prepare gives a goroutine its records' starting state.
	run := func(name string, op func(r *challenge.Record, j int) error, prepare func(own []*challenge.Record)) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				own, i := mine(), 0
				if prepare != nil {
					prepare(own)
				}
				for pb.Next() {
					i++
					if err := op(own[i%len(own)], i%len(own)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	sync := func(own []*challenge.Record) { // versions as the store has them
		for _, r := range own {
			got, _ := s.Get(ctx, "bench", r.ID)
			r.Version = got.Version
		}
	}
	var created atomic.Int64
	run("create", func(r *challenge.Record, _ int) error {
		c := r.Clone()
		c.ID = "new-" + strconv.FormatInt(created.Add(1), 10)
		return s.Create(ctx, c)
	}, nil)
	run("get", func(r *challenge.Record, _ int) error {
		_, err := s.Get(ctx, "bench", r.ID)
		return err
	}, nil)
	run("get_raw_hmget_baseline", func(r *challenge.Record, _ int) error {
		return client.HMGet(ctx, s.key("bench", r.ID), "v", "p", "r").Err()
	}, nil)
	run("update", func(r *challenge.Record, _ int) error { return s.Update(ctx, r) }, sync)
	run("update_raw_evalsha_baseline", func(r *challenge.Record, _ int) error {
		now := time.Now().UnixMicro()
		var tok token
		_, _ = rand.Read(tok[:])
		v, err := client.EvalSha(ctx, updateScript.Hash(), []string{s.key("bench", r.ID)},
			now, int64(r.Version), encode(r), now+int64(time.Hour/time.Microsecond), 3600000, tok[:]).Int64()
		if err == nil && v < 0 {
			err = fmt.Errorf("raw EVALSHA refused: %d", v)
		}
		r.Version = uint64(v)
		return err
	}, sync)

	// The limiter's two calls on the PSD2 and authn request paths, with
	// budgets no run exhausts: every call charges.
	l, err := NewLimiter(client, challenge.Limits{
		CallerStarts: challenge.Rate{Events: 1_000_000, Per: time.Second}, SourceStarts: challenge.Rate{Events: 1_000_000, Per: time.Second},
		FreeFailures: 1 << 30, SubjectFailures: challenge.Rate{Events: 1 << 30, Per: time.Hour},
	}, Options{Prefix: "challengekit-bench:" + challenge.NewID() + ":", DigestKey: []byte("bench key")})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Load(ctx); err != nil {
		b.Fatal(err)
	}
	origin := challenge.Origin{Caller: "acme", Source: "ip:203.0.113.9"}
	run("limiter_start", func(*challenge.Record, int) error { return l.Start(ctx, origin) }, nil)
	run("limiter_attempt", func(r *challenge.Record, _ int) error {
		return l.Attempt(ctx, challenge.Attempt{Kind: "bench", Subject: "s-" + r.ID, Source: "ip:203.0.113.9", ID: challenge.NewID()})
	}, nil)
}

// BenchmarkViewChanged reads a 2.6 KB record that does not change (the
// demo's questions catalog is that size) as a reader that keeps what it
// decoded does: with View, which sends the whole record every time,
// against ViewChanged under the record's stamp, which sends its version,
// purge time and token.
func BenchmarkViewChanged(b *testing.B) {
	client := servicetest.Redis(b)
	ctx := context.Background()
	s, err := New(client, Options{Prefix: servicetest.RedisPrefix(b, client)})
	if err != nil {
		b.Fatal(err)
	}
	rec := &challenge.Record{Kind: "bench", ID: "catalog", State: "stored", Data: make([]byte, 2600)}
	if err := s.Create(ctx, rec); err != nil {
		b.Fatal(err)
	}
	seen, err := s.ViewChanged(ctx, "bench", "catalog", "", func(*challenge.Record) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	lend := func(r *challenge.Record) error {
		if len(r.Data) != 2600 {
			return fmt.Errorf("lent %d bytes", len(r.Data))
		}
		return nil
	}
	for name, read := range map[string]func() error{
		"view": func() error { return s.View(ctx, "bench", "catalog", lend) },
		"unchanged": func() error {
			stamp, err := s.ViewChanged(ctx, "bench", "catalog", seen, func(*challenge.Record) error {
				return fmt.Errorf("lent an unchanged record")
			})
			if err == nil && stamp != seen {
				err = fmt.Errorf("stamp changed")
			}
			return err
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := read(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
