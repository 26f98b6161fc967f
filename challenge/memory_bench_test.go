package challenge_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// BenchmarkMemoryFootprint stores 1,000,000 live challenges with a realistic
// shape (22-character random IDs, a state, a subject, an expiry, 64 bytes
// of Data) and reports the heap they take, per challenge, beyond their
// Data. Run it alone: go test -run '^$' -bench MemoryFootprint -benchtime 1x ./challenge/
func BenchmarkMemoryFootprint(b *testing.B) {
	const n, dataLen = 1_000_000, 64
	for b.Loop() {
		clock := challengetest.NewClock()
		ids := make([]string, n) // made before measuring: the caller owns them until Create
		for i := range ids {
			ids[i] = challenge.NewID()
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := newMemory(b, clock)
		ctx := context.Background()
		expires := clock.Now().Add(time.Hour)
		for i := range n {
			rec := &challenge.Record{Kind: "psd2", ID: ids[i], State: "pending", Subject: "p-" + strconv.Itoa(i%1000),
				CreatedAt: clock.Now(), UpdatedAt: clock.Now(), ExpiresAt: expires, Data: make([]byte, dataLen)}
			if err := s.Create(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRecord := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(perRecord-dataLen, "overhead-B/challenge")
		b.ReportMetric(perRecord, "heap-B/challenge")
		runtime.KeepAlive(s)
		runtime.KeepAlive(ids)
	}
}

// BenchmarkSweepAmongLive measures reclaiming 10,000 expired challenges
// while 0, 100,000 or 1,000,000 live ones stay: the cost must follow the
// expired records, not the live ones. Its baseline is the least any store
// must do: deleting the same 10,000 keys, known in advance, from a plain
// Go map holding as many entries. Both grow a little with the live count,
// because a bigger map misses the CPU caches more; the ratio between them
// is what the expiry index costs, and it must stay flat.
func BenchmarkSweepAmongLive(b *testing.B) {
	for _, live := range []int{0, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("map_delete_baseline/live_%d", live), func(b *testing.B) {
			type entry struct{ id string }
			m := make(map[string]*entry)
			for i := range live {
				id := "live-" + strconv.Itoa(i)
				m[id] = &entry{id: id}
			}
			round := 0
			old := make([]string, 10_000)
			for b.Loop() {
				b.StopTimer()
				round++
				for i := range old {
					old[i] = fmt.Sprintf("old-%d-%d", round, i)
					m[old[i]] = &entry{id: old[i]}
				}
				b.StartTimer()
				for _, id := range old {
					delete(m, id)
				}
			}
			if len(m) != live {
				b.Fatalf("%d entries left, want %d", len(m), live)
			}
		})
		b.Run(fmt.Sprintf("sweep/live_%d", live), func(b *testing.B) {
			clock := challengetest.NewClock()
			s := newMemory(b, clock)
			ctx := context.Background()
			for i := range live {
				// Far enough ahead to outlast every round's two minutes.
				_ = s.Create(ctx, &challenge.Record{Kind: "k", ID: "live-" + strconv.Itoa(i), State: "s", ExpiresAt: clock.Now().Add(10 * 365 * 24 * time.Hour)})
			}
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				for i := range 10_000 {
					_ = s.Create(ctx, &challenge.Record{Kind: "k", ID: fmt.Sprintf("old-%d-%d", round, i), State: "s", ExpiresAt: clock.Now().Add(time.Second)})
				}
				clock.Advance(2 * time.Minute) // past expiry and the 1-minute retention
				b.StartTimer()
				if got := s.Sweep(); got != 10_000 {
					b.Fatalf("Sweep reclaimed %d, want 10000", got)
				}
			}
		})
	}
}

// BenchmarkGCWithHeldRecords measures one full garbage collection
// (runtime.GC) while a memory store holds 0, 100,000 or 1,000,000 live
// challenges shaped as in BenchmarkMemoryFootprint: what every collection
// cycle of a server costs on account of the challenges it keeps. The
// store's records hold no pointers, so the time must not grow with them.
func BenchmarkGCWithHeldRecords(b *testing.B) {
	for _, held := range []int{0, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("held_%d", held), func(b *testing.B) {
			clock := challengetest.NewClock()
			s := newMemory(b, clock)
			ctx := context.Background()
			expires := clock.Now().Add(time.Hour)
			for i := range held {
				rec := &challenge.Record{Kind: "psd2", ID: challenge.NewID(), State: "pending", Subject: "p-" + strconv.Itoa(i%1000),
					CreatedAt: clock.Now(), UpdatedAt: clock.Now(), ExpiresAt: expires, Data: make([]byte, 64)}
				if err := s.Create(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			for b.Loop() {
				runtime.GC()
			}
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkRead reads one challenge for a caller that only decodes it, as
// a GET of its state does: through Get, which copies the record, and
// through View, which lends it; on the memory store itself and through the
// engine, with 64 bytes and 4 KiB of Data. The decoding is a checksum of
// the Data, the same for both.
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{64, 4096} {
		clock := challengetest.NewClock()
		s := newMemory(b, clock)
		eng, err := challenge.NewEngine(s, newConsent(b), challenge.EngineOptions{Clock: clock})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		rec, err := eng.Create(ctx, challenge.Start{Subject: "p-alice", TTL: time.Hour, Data: make([]byte, size)})
		if err != nil {
			b.Fatal(err)
		}
		var sum int
		decode := func(r *challenge.Record) error {
			for _, c := range r.Data {
				sum += int(c)
			}
			return nil
		}
		b.Run(fmt.Sprintf("store_get/data_%d", size), func(b *testing.B) {
			for b.Loop() {
				r, err := s.Get(ctx, rec.Kind, rec.ID)
				if err != nil {
					b.Fatal(err)
				}
				_ = decode(r)
			}
		})
		b.Run(fmt.Sprintf("store_view/data_%d", size), func(b *testing.B) {
			for b.Loop() {
				if err := s.View(ctx, rec.Kind, rec.ID, decode); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("engine_get/data_%d", size), func(b *testing.B) {
			for b.Loop() {
				r, err := eng.Get(ctx, rec.ID)
				if err != nil {
					b.Fatal(err)
				}
				_ = decode(r)
			}
		})
		b.Run(fmt.Sprintf("engine_view/data_%d", size), func(b *testing.B) {
			for b.Loop() {
				if err := eng.View(ctx, rec.ID, decode); err != nil {
					b.Fatal(err)
				}
			}
		})
		runtime.KeepAlive(sum)
	}
}
