package redisstore_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/netfault"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// autoPipelined returns client's auto-pipeliner (go-redis's experimental
// batching of concurrent callers' commands), closed when the test ends.
func autoPipelined(t testing.TB, client redis.UniversalClient) *redis.AutoPipeliner {
	t.Helper()
	ap, err := client.AutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ap.Close() })
	return ap
}

// TestConformanceOverAnAutoPipeliner: the store and the limiter keep
// their contracts when their commands share pipelines with other
// callers' (the scripts' EVALSHA, and EVAL after a NOSCRIPT, included).
func TestConformanceOverAnAutoPipeliner(t *testing.T) {
	ap := autoPipelined(t, servicetest.Redis(t))
	s := newStore(t, ap, nil, 0)
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	conformance(t, ap)
}

// TestScriptsAreReloadedOverAnAutoPipeliner: after SCRIPT FLUSH, the
// pipelined EVALSHA answers NOSCRIPT and the write still happens once.
func TestScriptsAreReloadedOverAnAutoPipeliner(t *testing.T) {
	client := servicetest.Redis(t)
	ap := autoPipelined(t, client)
	s := newStore(t, ap, nil, time.Minute)
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rec := &challenge.Record{Kind: "k", ID: challenge.NewID(), State: "s", ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create after SCRIPT FLUSH: %v", err)
	}
	if got, err := s.Get(ctx, "k", rec.ID); err != nil || got.Version != 1 {
		t.Fatalf("Get: %+v, %v; want version 1", got, err)
	}
}

// TestAnAutoPipelinerFailsLikeTheClient: what the store answers when
// Redis cannot be reached, or does not answer in time, through an
// auto-pipeliner: the same classification as through the bare client.
func TestAnAutoPipelinerFailsLikeTheClient(t *testing.T) {
	t.Run("nothing listens", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
		t.Cleanup(func() { _ = client.Close() })
		ap := autoPipelined(t, client)
		s, _ := redisstore.New(ap, redisstore.Options{})
		ctx := context.Background()
		if _, err := s.Get(ctx, "k", "x"); !errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("Get: %v; want ErrUnavailable: nothing was read", err)
		}
		if err := s.Ping(ctx); !errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("Ping: %v; want ErrUnavailable", err)
		}
		l, _ := redisstore.NewLimiter(ap, challenge.Limits{}, redisstore.Options{DigestKey: []byte("k")})
		if err := l.Start(ctx, challenge.Origin{Caller: "agent", Source: "ip:203.0.113.9"}); !errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("limiter Start: %v; want ErrUnavailable", err)
		}
		err = s.Create(ctx, &challenge.Record{Kind: "k", ID: "x", State: "s"})
		if err == nil || errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("Create: %v; want an error that leaves the outcome open", err)
		}
		// Closed, the pipeliner sends nothing more.
		_ = ap.Close()
		if _, err := s.Get(ctx, "k", "x"); !errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("Get on a closed pipeliner: %v; want ErrUnavailable", err)
		}
	})
	t.Run("no answer before the deadline", func(t *testing.T) {
		const readTimeout = 300 * time.Millisecond
		client, proxy := proxied(t, func(o *redis.Options) { o.ReadTimeout, o.MaxRetries = readTimeout, -1 })
		ap := autoPipelined(t, client)
		s := newStore(t, ap, nil, 0)
		if err := s.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		proxy.Inspect(func([]byte) netfault.Fault { return netfault.Fault{Hold: 3 * time.Second} })
		// A pipelined command runs on the pipeliner's context, not the
		// caller's: the caller's deadline does not cut the wait short,
		// the client's ReadTimeout does, and the error is a read timeout
		// (the outcome is open), as a bare client's context deadline is.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.Get(ctx, "k", "x")
		waited := time.Since(start)
		if err == nil || errors.Is(err, challenge.ErrUnavailable) || errors.Is(err, challenge.ErrNotFound) {
			t.Fatalf("Get with no answer: %v; want an error that is neither ErrUnavailable nor ErrNotFound", err)
		}
		if waited > 2*time.Second {
			t.Fatalf("Get with no answer waited %v; want it bounded by the ReadTimeout (%v)", waited, readTimeout)
		}
		err = s.Create(context.Background(), &challenge.Record{Kind: "k", ID: "y", State: "s"})
		if err == nil || errors.Is(err, challenge.ErrUnavailable) {
			t.Fatalf("Create with no answer: %v; want an error that leaves the outcome open", err)
		}
	})
}

// TestAFullAutoPipelinerIsUnavailable: a command the pipeliner refuses
// because MaxQueuedCommands are in flight was never sent, so a read or a
// limiter call says ErrUnavailable.
func TestAFullAutoPipelinerIsUnavailable(t *testing.T) {
	client, proxy := proxied(t, nil)
	ap, err := client.AutoPipelineWithOptions(&redis.AutoPipelineOptions{MaxQueuedCommands: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ap.Close() })
	s := newStore(t, ap, nil, 0)
	l, err := redisstore.NewLimiter(ap, challenge.Limits{}, redisstore.Options{DigestKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// The next command reaches Redis, and its answer comes back only once
	// the test has seen the second one refused.
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	proxy.Inspect(func([]byte) netfault.Fault {
		select {
		case held <- struct{}{}:
			return netfault.Fault{Hold: 2 * time.Second}
		default:
			return netfault.Fault{}
		}
	})
	first := make(chan error, 1)
	go func() {
		_, err := s.Get(ctx, "k", "first")
		close(release)
		first <- err
	}()
	<-held
	if _, err := s.Get(ctx, "k", "second"); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("Get while the queue is full: %v; want ErrUnavailable", err)
	}
	if err := l.Start(ctx, challenge.Origin{Caller: "agent", Source: "ip:203.0.113.9"}); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("limiter Start while the queue is full: %v; want ErrUnavailable", err)
	}
	select {
	case <-release:
		t.Fatal("the first Get ended before the refusals were checked; the test proves nothing")
	default:
	}
	if err := <-first; !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("the first Get: %v; want ErrNotFound", err)
	}
}
