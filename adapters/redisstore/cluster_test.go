package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/internal/servicetest"
)

// TestConformanceOnACluster runs the store's and the limiter's
// conformance suites on a private Redis Cluster of three masters: every
// script's keys share a hash slot, so no call crosses nodes.
func TestConformanceOnACluster(t *testing.T) {
	addrs := servicetest.RedisCluster(t)
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = client.Close() })
	s := newStore(t, client, nil, 0)
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	conformance(t, client)
	// go-redis's auto-pipeliner batches per node: the store's and the
	// limiter's commands still reach the master of their slot.
	t.Run("over an AutoPipeliner", func(t *testing.T) { conformance(t, autoPipelined(t, client)) })
	// The pipeliner hides the nodes: through PingClient, Ping still
	// reaches every master.
	t.Run("Ping over an AutoPipeliner", func(t *testing.T) {
		ap := autoPipelined(t, client)
		s, err := redisstore.New(ap, redisstore.Options{PingClient: client})
		if err != nil {
			t.Fatal(err)
		}
		pings := func() map[string]int64 {
			n := map[string]int64{}
			for _, addr := range addrs {
				c := redis.NewClient(&redis.Options{Addr: addr})
				stats, err := c.Info(context.Background(), "commandstats").Result()
				_ = c.Close()
				if err != nil {
					t.Fatal(err)
				}
				for line := range strings.Lines(stats) {
					if rest, ok := strings.CutPrefix(line, "cmdstat_ping:calls="); ok {
						n[addr], _ = strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
					}
				}
			}
			return n
		}
		before := pings()
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		after := pings()
		masters := 0
		for _, addr := range addrs {
			if after[addr] > before[addr] {
				masters++
			}
		}
		if masters != 3 {
			t.Errorf("Ping reached %d of the Cluster's 3 masters (PINGs before %v, after %v)", masters, before, after)
		}
	})
}
