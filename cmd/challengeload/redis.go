package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/internal/bareserver"
)

// redisOfServer returns the Redis URL examples/server uses if its flags
// select the Redis store (its -redis-url, or the default), or "".
func redisOfServer(serverArgs string) string {
	args := strings.Fields(serverArgs)
	store, url := "", "redis://127.0.0.1:6379/0"
	for i, a := range args {
		name, value, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !inline && i+1 < len(args) {
			value = args[i+1]
		}
		switch name {
		case "store":
			store = value
		case "redis-url":
			url = value
		}
	}
	if store != "redis" {
		return ""
	}
	return url
}

// pipelining returns whether examples/server auto-pipelines its Redis
// commands, and whether the bare server does: as told (-bare-autopipeline,
// bareGiven non-nil), or else as examples/server, so that both pay
// their round trips the same way.
func pipelining(serverArgs string, getenv func(string) string, bareGiven *bool) (server, bare bool) {
	server = autoPipelineOfServer(serverArgs, getenv)
	if bareGiven != nil {
		return server, *bareGiven
	}
	return server, server
}

// autoPipelineOfServer reports whether examples/server, given the flags
// serverArgs and the environment getenv, auto-pipelines its Redis
// commands (-redis-autopipeline, or CHALLENGEKIT_REDIS_AUTOPIPELINE).
func autoPipelineOfServer(serverArgs string, getenv func(string) string) bool {
	on, _ := strconv.ParseBool(getenv("CHALLENGEKIT_REDIS_AUTOPIPELINE"))
	for _, a := range strings.Fields(serverArgs) {
		name, value, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "redis-autopipeline" {
			continue
		}
		on = true
		if inline {
			on, _ = strconv.ParseBool(value)
		}
	}
	return on
}

// traceSamples is how many flows of each scenario countTrips watches:
// the fewest round trips seen for a step are its own, as other clients of
// a shared Redis only add commands.
const traceSamples = 5

// countTrips runs each scenario's flow a few times against the server at
// base, one request at a time, with Redis's MONITOR on the Redis at
// redisURL, and returns each step's round trips: the commands that
// arrived between two markers the counter sends around the request,
// without those scripts ran (a script is one round trip, its EVALSHA).
// GET and the like count as reads, the rest (EVALSHA, SET, …) as writes.
func countTrips(ctx context.Context, redisURL, base string, chosen []scenario, opts loadOptions) (map[string]bareserver.Trips, error) {
	ropts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("-bare-redis: %w", err)
	}
	marker := redis.NewClient(ropts)
	defer marker.Close()
	mon, err := monitor(ctx, ropts)
	if err != nil {
		return nil, err
	}
	defer mon.close()

	mark := func(what, step string) error { return marker.Echo(ctx, "challengeload "+what+" "+step).Err() }
	for _, sc := range chosen {
		c := &client{http: http.DefaultClient, base: base, seq: newSeq(), users: opts.users, kbaUsers: opts.kbaUsers, outbox: opts.outbox,
			stepHeader: true, mark: mark}
		for range traceSamples {
			if err := sc.flow(ctx, c); err != nil {
				return nil, fmt.Errorf("counting Redis round trips: %w", err)
			}
		}
	}
	if err := mark("done", "-"); err != nil {
		return nil, err
	}
	lines, err := mon.until(ctx, `"challengeload done -"`)
	if err != nil {
		return nil, err
	}
	return tripsOf(lines), nil
}

// tripsOf reads MONITOR's lines: for each step, the fewest commands seen
// between its begin and end markers.
func tripsOf(lines []string) map[string]bareserver.Trips {
	best := map[string]bareserver.Trips{}
	var step string
	var t bareserver.Trips
	in := false
	for _, line := range lines {
		const echo = `"echo" "challengeload `
		if i := strings.Index(strings.ToLower(line), echo); i >= 0 {
			what, name, _ := strings.Cut(strings.TrimSuffix(line[i+len(echo):], `"`), " ")
			switch what {
			case "begin":
				step, t, in = name, bareserver.Trips{}, true
			case "end":
				if b, seen := best[step]; in && name == step && (!seen || t.Reads+t.Writes < b.Reads+b.Writes) {
					best[step] = t
				}
				in = false
			}
			continue
		}
		// 1733230000.123456 [0 127.0.0.1:50000] "EVALSHA" "…" …
		_, rest, ok := strings.Cut(line, "[")
		client, command, ok2 := strings.Cut(rest, "] ")
		if !in || !ok || !ok2 || strings.HasSuffix(client, " lua") {
			continue
		}
		name, _, _ := strings.Cut(strings.Trim(command, `"`), `"`)
		switch strings.ToUpper(name) {
		case "GET", "MGET", "HGET", "HMGET", "HGETALL", "HEXISTS", "EXISTS", "TTL", "PTTL", "ZRANGE", "ZRANGEBYSCORE", "ZSCORE", "ZCARD", "LRANGE", "SMEMBERS", "SCARD":
			t.Reads++
		default:
			t.Writes++
		}
	}
	return best
}

// monitorConn is a connection in MONITOR mode, its lines collected.
type monitorConn struct {
	conn  net.Conn
	mu    sync.Mutex
	lines []string
	err   error
	more  chan struct{} // signalled when a line arrives
}

// monitor opens a connection to the Redis of opts and starts MONITOR.
func monitor(ctx context.Context, opts *redis.Options) (*monitorConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("redis monitor: %w", err)
	}
	r := bufio.NewReader(conn)
	cmds, replies := "MONITOR\r\n", 1
	if opts.Password != "" {
		auth := []string{"AUTH", opts.Password}
		if opts.Username != "" {
			auth = []string{"AUTH", opts.Username, opts.Password}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(auth))
		for _, a := range auth {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		cmds, replies = b.String()+cmds, 2
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmds)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("redis monitor: %w", err)
	}
	for range replies {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+OK") {
			conn.Close()
			return nil, fmt.Errorf("redis monitor: %q %v", strings.TrimSpace(line), err) // a reply, never the password
		}
	}
	_ = conn.SetDeadline(time.Time{})
	m := &monitorConn{conn: conn, more: make(chan struct{}, 1)}
	go func() {
		for {
			line, err := r.ReadString('\n')
			m.mu.Lock()
			if err != nil {
				m.err = err
			} else {
				m.lines = append(m.lines, strings.TrimSpace(strings.TrimPrefix(line, "+")))
			}
			m.mu.Unlock()
			select {
			case m.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return m, nil
}

// until waits for a line containing last and returns the lines up to it.
func (m *monitorConn) until(ctx context.Context, last string) ([]string, error) {
	timeout := time.After(10 * time.Second)
	for {
		m.mu.Lock()
		for i, l := range m.lines {
			if strings.Contains(l, last) {
				out := m.lines[:i+1]
				m.mu.Unlock()
				return out, nil
			}
		}
		err := m.err
		m.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("redis monitor: %w", err)
		}
		select {
		case <-m.more:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, errors.New("redis monitor: the last marker never came")
		}
	}
}

func (m *monitorConn) close() { _ = m.conn.Close() }

// printTrips lists the round trips the bare server pays per step, and
// what they ask of Redis.
func printTrips(w io.Writer, trips map[string]bareserver.Trips, kind bareserver.TripKind) {
	steps := slices.Sorted(maps.Keys(trips))
	var each []string
	for _, step := range steps {
		t := trips[step]
		each = append(each, fmt.Sprintf("%s %d+%d", step, t.Reads, t.Writes))
	}
	how := "each read an HMGET of a record's fields, each write a versioned-write script (-bare-trips record)"
	if kind == bareserver.PlainTrips {
		how = "each read a GET, each write a SET (-bare-trips plain)"
	}
	fmt.Fprintf(w, "Redis round trips per request, reads+writes (examples/server's, counted with MONITOR; the bare server makes as many, %s): %s\n",
		how, strings.Join(each, ", "))
}
