package redisstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/challenge"
)

// BenchmarkCommands measures what the store's writes and the limiter's
// calls on the PSD2 and authn request paths cost the server but for the
// round trip: a client hook answers each command as Redis would (the
// write applied, nothing throttled) without sending it, so what remains
// is encoding, building the command and go-redis's handling of it. No
// Redis is needed.
func BenchmarkCommands(b *testing.B) {
	ctx := context.Background()
	answering := func(val int64) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialed
		c.AddHook(answer(val))
		b.Cleanup(func() { _ = c.Close() })
		return c
	}
	s, err := New(answering(1), Options{})
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewLimiter(answering(0), challenge.Limits{}, Options{DigestKey: []byte("bench key")})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := &challenge.Record{Kind: "psd2", ID: challenge.NewID(), State: "pending", Subject: "p-alice",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(5 * time.Minute), Data: make([]byte, 160)}
	bench := func(name string, op func(i int) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := op(i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	bench("create", func(int) error { return s.Create(ctx, rec) })
	bench("update", func(int) error { return s.Update(ctx, rec) })
	bench("limiter_start", func(int) error {
		return l.Start(ctx, challenge.Origin{Caller: "acme", Source: "ip:203.0.113.9"})
	})
	bench("limiter_attempt", func(i int) error {
		return l.Attempt(ctx, challenge.Attempt{Kind: "authn", Subject: "load-" + strconv.Itoa(i%1024), Source: "ip:203.0.113.9", ID: rec.ID})
	})
}

// answer is a hook that answers every command with its value, sending
// nothing.
type answer int64

func (answer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a answer) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(_ context.Context, cmd redis.Cmder) error {
		cmd.(*redis.Cmd).SetVal(int64(a))
		return nil
	}
}

func (answer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
