package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/challenge/limitertest"
	"github.com/challengekit/challengekit/challenge/storetest"
	"github.com/challengekit/challengekit/internal/netfault"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// testPrefix returns a key prefix of the test's own, whose keys are
// deleted when the test ends.
func testPrefix(t testing.TB, client redis.UniversalClient) string {
	t.Helper()
	return servicetest.RedisPrefix(t, client)
}

// newStore returns a store under a prefix of its own.
func newStore(t testing.TB, client redis.UniversalClient, clock challenge.Clock, retention time.Duration) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, redisstore.Options{Prefix: testPrefix(t, client), Clock: clock, Retention: retention})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proxied returns a client of the test Redis whose commands pass through a
// netfault proxy, and the proxy; options change the client's options
// (their Addr is the proxy's). Both close when the test ends.
func proxied(t testing.TB, options func(*redis.Options)) (*redis.Client, *netfault.Proxy) {
	t.Helper()
	direct := servicetest.Redis(t)
	proxy, err := netfault.Listen(direct.Options().Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	opts := *direct.Options()
	opts.Addr = proxy.Addr()
	if options != nil {
		options(&opts)
	}
	client := redis.NewClient(&opts)
	t.Cleanup(func() { _ = client.Close() })
	return client, proxy
}

// conformance runs the store's and the limiter's conformance suites over
// client.
func conformance(t *testing.T, client redis.UniversalClient) {
	t.Run("store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
			return newStore(t, client, cfg.Clock, cfg.Retention)
		})
	})
	t.Run("limiter", func(t *testing.T) {
		limitertest.Run(t, func(t *testing.T, cfg limitertest.Config) challenge.Limiter {
			return newLimiter(t, client, cfg.Limits, cfg.Clock)
		})
	})
}

func TestConformance(t *testing.T) {
	client := servicetest.Redis(t)
	if err := newStore(t, client, nil, 0).Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) challenge.Store {
		return newStore(t, client, cfg.Clock, cfg.Retention)
	})
}

// counter counts the commands a client sends, pipelines included.
type counter struct {
	mu    sync.Mutex
	names []string
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, fmt.Sprintf("pipeline(%d)", len(cmds)))
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.names
	c.names = nil
	return out
}

// TestEveryOperationIsOneRoundTrip counts the commands each operation
// sends: one HMGET per read, one EVALSHA per write.
func TestEveryOperationIsOneRoundTrip(t *testing.T) {
	client := servicetest.Redis(t)
	c := &counter{}
	client.AddHook(c)
	clock := challengetest.NewClock()
	s := newStore(t, client, clock, time.Minute)
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c.take()
	rec := &challenge.Record{Kind: "k", ID: "one", State: "s", ExpiresAt: clock.Now().Add(time.Minute), Data: []byte("d")}
	check := func(op string, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if got := c.take(); len(got) != 1 || got[0] != want {
			t.Fatalf("%s sent %v; want exactly one %s", op, got, want)
		}
	}
	check("Create", s.Create(ctx, rec), "evalsha")
	_, err := s.Get(ctx, "k", "one")
	check("Get", err, "hmget")
	check("Update", s.Update(ctx, rec), "evalsha")
	stale := *rec
	stale.Version = 1
	if err := s.Update(ctx, &stale); !errors.Is(err, challenge.ErrConflict) {
		t.Fatalf("stale Update: %v", err)
	}
	if got := c.take(); len(got) != 1 {
		t.Fatalf("a refused Update sent %v", got)
	}
	check("Delete", s.Delete(ctx, "k", "one"), "evalsha")
}

// replies records the fields each HMGET asked for and how many bytes of
// values it got back.
type replies struct {
	mu     sync.Mutex
	fields [][]any
	bytes  []int
}

func (h *replies) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *replies) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if sc, ok := cmd.(*redis.SliceCmd); ok && cmd.Name() == "hmget" {
			n := 0
			for _, v := range sc.Val() {
				if s, ok := v.(string); ok {
					n += len(s)
				}
			}
			h.mu.Lock()
			h.fields, h.bytes = append(h.fields, cmd.Args()[2:]), append(h.bytes, n)
			h.mu.Unlock()
		}
		return err
	}
}
func (h *replies) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *replies) take() ([][]any, []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, b := h.fields, h.bytes
	h.fields, h.bytes = nil, nil
	return f, b
}

// TestAnUnchangedRecordIsNotSentAgain: ViewChanged under the stamp of the
// record as it is costs one HMGET of its version, purge time and token,
// not its kilobytes; a record whose token is gone (written before there
// were stamps) is lent on every read, until its next write stamps it.
func TestAnUnchangedRecordIsNotSentAgain(t *testing.T) {
	client := servicetest.Redis(t)
	h := &replies{}
	client.AddHook(h)
	s := newStore(t, client, nil, time.Minute)
	ctx := context.Background()
	rec := &challenge.Record{Kind: "k", ID: "catalog", State: "s", Data: bytes.Repeat([]byte("q"), 2600)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	view := func(seen string) (string, bool) {
		t.Helper()
		lent := false
		stamp, err := s.ViewChanged(ctx, "k", "catalog", seen, func(got *challenge.Record) error {
			lent = true
			if !bytes.Equal(got.Data, rec.Data) {
				t.Errorf("lent %d bytes; want the record's %d", len(got.Data), len(rec.Data))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ViewChanged: %v", err)
		}
		return stamp, lent
	}
	h.take()
	stamp, lent := view("")
	if !lent || len(stamp) != 16 {
		t.Fatalf("first read: lent %v, stamp of %d bytes; want the record and its 16-byte token", lent, len(stamp))
	}
	h.take()
	if again, lent := view(stamp); lent || again != stamp {
		t.Fatalf("unchanged read: lent %v, stamp changed %v", lent, again != stamp)
	}
	if fields, sent := h.take(); len(fields) != 1 || fmt.Sprint(fields[0]) != "[v p t]" || sent[0] > 64 {
		t.Fatalf("an unchanged read asked for %v and got %v bytes; want one HMGET of v p t, a few dozen bytes", fields, sent)
	}

	key := client.Keys(ctx, "*{1:k:catalog}").Val()
	if len(key) != 1 || client.HDel(ctx, key[0], "t").Err() != nil {
		t.Fatalf("removing the token of %v", key)
	}
	for _, seen := range []string{stamp, ""} {
		if got, lent := view(seen); !lent || got != "" {
			t.Fatalf("a record without a token, seen %v: lent %v, stamp %q; want lent, no stamp", seen != "", lent, got)
		}
	}
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if stamp, lent = view(""); !lent || len(stamp) != 16 {
		t.Fatalf("after a write: lent %v, stamp of %d bytes", lent, len(stamp))
	}
	if _, lent := view(stamp); lent {
		t.Fatal("the record stamped again was lent under its stamp")
	}
}

func TestKeysExpireInRedisToo(t *testing.T) {
	client := servicetest.Redis(t)
	clock := challengetest.NewClock()
	s := newStore(t, client, clock, time.Minute)
	ctx := context.Background()
	rec := &challenge.Record{Kind: "k", ID: "ttl", State: "s", ExpiresAt: clock.Now().Add(time.Minute)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, "*{1:k:ttl}").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	ttl, err := client.PTTL(ctx, keys[0]).Result()
	if want := 2*time.Minute + redisstore.ClockSkewAllowance; err != nil || ttl <= want-time.Second || ttl > want {
		t.Fatalf("TTL %v (%v); want expiry + retention + skew allowance, %v", ttl, err, want)
	}
	rec.ExpiresAt = time.Time{}
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := client.PTTL(ctx, keys[0]).Result(); ttl != -1 {
		t.Fatalf("TTL after removing the expiry: %v; want none", ttl)
	}
}

func TestUnreachableRedisFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	s, _ := redisstore.New(client, redisstore.Options{})
	if _, err := s.Get(context.Background(), "k", "x"); err == nil || errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("Get against a dead server: %v; want a connection error", err)
	}
	if _, err := s.Get(context.Background(), "k", "x"); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("Get against a dead server: %v; want ErrUnavailable: nothing was read", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("Ping against a dead server: %v; want ErrUnavailable", err)
	}
	// A write never says nothing was written: go-redis may have sent it
	// before the connection it retries on was refused.
	err = s.Create(context.Background(), &challenge.Record{Kind: "k", ID: "x", State: "s"})
	if err == nil || errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("Create against a dead server: %v; want an error that leaves the outcome open", err)
	}
}

// TestAWriteRetriedByTheClientIsRecognized: go-redis sends a command
// again when its connection drops before the answer comes. A Create or
// Update that took effect must then not answer ErrAlreadyExists or
// ErrConflict: the script recognizes its own write.
func TestAWriteRetriedByTheClientIsRecognized(t *testing.T) {
	client, proxy := proxied(t, func(o *redis.Options) { o.MaxRetries = 3 })
	// Armed, the proxy loses the answer to the next command: the command
	// took effect, and go-redis, seeing the connection drop, sends it again.
	var mu sync.Mutex
	armed, dropped := false, 0
	arm := func() { mu.Lock(); armed = true; mu.Unlock() }
	proxy.Inspect(func([]byte) netfault.Fault {
		mu.Lock()
		defer mu.Unlock()
		if !armed {
			return netfault.Fault{}
		}
		armed, dropped = false, dropped+1
		return netfault.Fault{Drop: true}
	})
	clock := challengetest.NewClock()
	s := newStore(t, client, clock, time.Minute)
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	rec := &challenge.Record{Kind: "k", ID: challenge.NewID(), State: "s", ExpiresAt: clock.Now().Add(time.Minute), Data: []byte("one")}
	arm()
	if err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create whose first answer was lost: %v; want success", err)
	}
	rec.Data = []byte("two")
	arm()
	if err := s.Update(ctx, rec); err != nil || rec.Version != 2 {
		t.Fatalf("Update whose first answer was lost: %v, version %d; want success, version 2", err, rec.Version)
	}
	mu.Lock()
	if dropped != 2 {
		t.Fatalf("the proxy dropped %d answers; want 2", dropped)
	}
	mu.Unlock()
	got, err := s.Get(ctx, "k", rec.ID)
	if err != nil || got.Version != 2 || string(got.Data) != "two" {
		t.Fatalf("after the retried writes: %+v, %v", got, err)
	}
	// Another writer's identical command is still refused: the token is
	// the write's own.
	dup := &challenge.Record{Kind: "k", ID: rec.ID, State: "s", ExpiresAt: rec.ExpiresAt, Data: []byte("two")}
	if err := s.Create(ctx, dup); !errors.Is(err, challenge.ErrAlreadyExists) {
		t.Fatalf("a second Create: %v; want ErrAlreadyExists", err)
	}
	stale := *got
	stale.Version = 1
	if err := s.Update(ctx, &stale); !errors.Is(err, challenge.ErrConflict) {
		t.Fatalf("a stale Update: %v; want ErrConflict", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 1, 's', 0, 2, 0, 0, 0, 1, 'x'})
	f.Add([]byte{1, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec := &challenge.Record{}
		if err := redisstore.DecodeForTest(string(b), rec); err != nil {
			return
		}
		again := redisstore.EncodeForTest(rec)
		rec2 := &challenge.Record{}
		if err := redisstore.DecodeForTest(string(again), rec2); err != nil || !bytes.Equal(rec.Data, rec2.Data) || rec.State != rec2.State {
			t.Fatalf("re-encoding %+v does not round-trip: %v", rec, err)
		}
	})
}
