// Package redisstore is a challenge.Store on Redis, for a fleet of servers
// sharing their challenges. It takes a redis.UniversalClient, so a single
// node, Sentinel and Cluster all work.
//
// Each record is one hash, under a key hash-tagged on the record's kind and
// ID. A read is one HMGET (ViewChanged's of a record that changed, two);
// every write is one EVALSHA of a Lua script that
// checks visibility and, for Update, the version, so a stale writer gets
// challenge.ErrConflict and never overwrites. Each write also stores a
// random token of its own, so that when the client sends a write again
// because its answer was lost (go-redis retries on a dropped connection or
// a timeout), the script recognizes its own write and answers success
// instead of ErrAlreadyExists or ErrConflict. A read that could not be
// sent at all (no connection) wraps challenge.ErrUnavailable; a write never
// does, since go-redis may have sent it once before the connection failed
// (its outcome is unknown to the caller). Visibility (ExpiresAt plus
// the retention window) is judged by the store's Clock, like every Store;
// keys also carry a TTL to that moment plus [ClockSkewAllowance], so Redis
// reclaims them itself but never before a server whose clock runs behind
// Redis's would still see the record.
package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/challenge"
)

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix starts every key; empty means "challengekit:".
	Prefix string
	// Clock judges expiry and retention; nil means the system clock.
	Clock challenge.Clock
	// Retention is how long an expired record stays readable; zero means
	// challenge.DefaultRetention.
	Retention time.Duration
	// PingClient is the client Ping sends its PINGs with; nil means the
	// store's own. Ping reaches every master of a *redis.ClusterClient;
	// when the store's client is go-redis's AutoPipeliner over a Cluster,
	// which hides its nodes, pass the ClusterClient here.
	PingClient redis.UniversalClient
	// DigestKey, for a Limiter, keys the digests that name its keys
	// (challenge.KeyDigest): with a secret key, a reader of Redis cannot
	// tell whose budgets they are. Every server of a fleet needs the same
	// one. Nil means unkeyed SHA-256.
	DigestKey []byte
}

// Store is a challenge.Store on Redis. It is safe for concurrent use, and
// by many processes sharing one Redis.
type Store struct {
	client    redis.UniversalClient
	ping      redis.UniversalClient // Ping's client
	prefix    string
	clock     challenge.Clock
	retention int64 // microseconds
}

var (
	_ challenge.Store        = (*Store)(nil)
	_ challenge.Viewer       = (*Store)(nil)
	_ challenge.ChangeViewer = (*Store)(nil)
)

// New returns a Store over client. It does no I/O; call Load to have the
// scripts cached before the first write.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("redisstore: negative retention %v", opts.Retention)
	}
	if opts.Retention == 0 {
		opts.Retention = challenge.DefaultRetention
	}
	if opts.Prefix == "" {
		opts.Prefix = "challengekit:"
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	if opts.PingClient == nil {
		opts.PingClient = client
	}
	return &Store{client: client, ping: opts.PingClient, prefix: opts.Prefix, clock: opts.Clock, retention: opts.Retention.Microseconds()}, nil
}

// Lua scripts. KEYS[1] is the record's key. ARGV: for create, now (µs),
// the encoded record, its purge time (µs), the key's TTL (ms, 0 for none)
// and the write's token; for update, now, the version the writer read,
// then as create's; for delete, now. A hash's field p is the purge time
// in µs, or -1 for never; v is the version; r the encoded record; t is
// the token of the write that wrote it. (The arguments go to go-redis as
// pointers, see write: a go-redis hook that prints a command shows their
// addresses, not their values.)
var (
	createScript = newScript(`
local p = redis.call('HGET', KEYS[1], 'p')
if p then
  p = tonumber(p)
  if p < 0 or p > tonumber(ARGV[1]) then
    if redis.call('HGET', KEYS[1], 't') == ARGV[5] then return 1 end
    return 0
  end
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'v', 1, 'p', ARGV[3], 'r', ARGV[2], 't', ARGV[5])
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`)
	updateScript = newScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'p', 't')
if not cur[1] then return -1 end
local p = tonumber(cur[2])
if p >= 0 and p <= tonumber(ARGV[1]) then return -1 end
if cur[1] ~= ARGV[2] then
  if cur[3] == ARGV[6] and tonumber(cur[1]) == tonumber(ARGV[2]) + 1 then return tonumber(cur[1]) end
  return -2
end
local v = tonumber(cur[1]) + 1
redis.call('HSET', KEYS[1], 'v', v, 'p', ARGV[4], 'r', ARGV[3], 't', ARGV[6])
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) else redis.call('PERSIST', KEYS[1]) end
return v`)
	deleteScript = newScript(`
local p = redis.call('HGET', KEYS[1], 'p')
if not p then return 0 end
p = tonumber(p)
if p >= 0 and p <= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`)
)

// Load caches the store's scripts on the server, so that every write is
// exactly one EVALSHA. Without it the first write of each kind after a
// server restart costs one more round trip (EVALSHA, then EVAL).
func (s *Store) Load(ctx context.Context) error {
	for _, sc := range []script{createScript, updateScript, deleteScript} {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("redisstore: loading scripts: %w", err)
		}
	}
	return nil
}

// key is hash-tagged on the whole of kind and ID, with the kind's length
// first so that no two (kind, ID) pairs share a key.
func (s *Store) key(kind, id string) string {
	return s.prefix + "{" + strconv.Itoa(len(kind)) + ":" + kind + ":" + id + "}"
}

// purge returns the purge time (µs, -1 for never) and the key's TTL in
// milliseconds (0 for none) for a record, both judged by the store's clock.
func (s *Store) purge(rec *challenge.Record, now int64) (at, ttlMS int64) {
	if rec.ExpiresAt.IsZero() {
		return -1, 0
	}
	at = rec.ExpiresAt.UnixMicro() + s.retention
	ttlMS = (at-now+999)/1000 + ClockSkewAllowance.Milliseconds()
	return at, max(ttlMS, 1)
}

// ClockSkewAllowance is how long a key outlives its record's retention
// window in Redis. Visibility is judged by the p field against the calling
// server's clock, so the allowance never lengthens a record's life; it only
// keeps Redis's own expiry (on Redis's clock) from deleting a record that a
// server with a slower clock, or a request already in flight, still reads
// as within retention.
const ClockSkewAllowance = time.Minute

func (s *Store) visible(purgeAt, now int64) bool { return purgeAt < 0 || now < purgeAt }

// Create implements [challenge.Store.Create].
func (s *Store) Create(ctx context.Context, rec *challenge.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: create: %w", err)
	}
	if rec.Kind == "" || rec.ID == "" {
		return fmt.Errorf("redisstore: create: %w: empty kind or id", challenge.ErrInvalidRecord)
	}
	w := s.newWrite(rec)
	created, err := createScript.run(ctx, s.client, 1, append(w.args[:0], nil, nil, nil, &w.key, &w.now, &w.data, &w.at, &w.ttl, &w.token)).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: create %s/%s: %w", rec.Kind, rec.ID, err)
	}
	if created == 0 {
		return fmt.Errorf("redisstore: create %s/%s: %w", rec.Kind, rec.ID, challenge.ErrAlreadyExists)
	}
	rec.Version = 1
	return nil
}

// Get implements [challenge.Store.Get].
func (s *Store) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: get: %w", err)
	}
	rec := &challenge.Record{Kind: kind, ID: id}
	data, err := s.read(ctx, rec, nil)
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %s/%s: %w", kind, id, err)
	}
	if data != "" {
		rec.Data = []byte(data)
	}
	return rec, nil
}

// View implements [challenge.Viewer]: rec.Data is copied into a buffer
// that View takes from a pool and puts back when fn returns, rather than
// into a slice of its own.
func (s *Store) View(ctx context.Context, kind, id string, fn func(rec *challenge.Record) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: view: %w", err)
	}
	return s.view(ctx, kind, id, nil, fn)
}

// ViewChanged implements [challenge.ChangeViewer], as View does. A
// record's stamp is the token of the write that wrote it: 16 random
// bytes. With a stamp seen, the read is an HMGET of the record's version,
// purge time and token, and, only if the token is not seen, a second one
// of the whole record; so a caller that reads an unchanged record of kilobytes
// (a catalog) on every request has Redis send a few dozen bytes.
func (s *Store) ViewChanged(ctx context.Context, kind, id, seen string, fn func(rec *challenge.Record) error) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("redisstore: view: %w", err)
	}
	if seen != "" {
		unchanged, err := s.unchanged(ctx, kind, id, seen)
		if err != nil {
			return "", fmt.Errorf("redisstore: view %s/%s: %w", kind, id, err)
		}
		if unchanged {
			return seen, nil
		}
	}
	var stamp string
	err := s.view(ctx, kind, id, &stamp, fn)
	return stamp, err
}

// view is View, and ViewChanged's read of the whole record, whose token
// it puts in stamp if stamp is not nil.
func (s *Store) view(ctx context.Context, kind, id string, stamp *string, fn func(rec *challenge.Record) error) error {
	v := viewPool.Get().(*view)
	defer v.release()
	v.rec = challenge.Record{Kind: kind, ID: id}
	data, err := s.read(ctx, &v.rec, stamp)
	if err != nil {
		return fmt.Errorf("redisstore: view %s/%s: %w", kind, id, err)
	}
	if data != "" {
		v.buf = append(v.buf[:0], data...)
		v.rec.Data = v.buf[:len(data):len(data)]
	}
	return fn(&v.rec)
}

// unchanged reports whether the visible record with this kind and ID has
// the token seen. A hash without a version or purge time is no record, as
// for read. Its errors name no operation.
func (s *Store) unchanged(ctx context.Context, kind, id, seen string) (bool, error) {
	vals, err := s.client.HMGet(ctx, s.key(kind, id), "v", "p", "t").Result()
	if err != nil {
		return false, classify(err)
	}
	_, ok1 := vals[0].(string)
	ps, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return false, challenge.ErrNotFound
	}
	purgeAt, err := strconv.ParseInt(ps, 10, 64)
	if err != nil {
		return false, fmt.Errorf("%w: bad purge time", errCorrupt)
	}
	if !s.visible(purgeAt, s.clock.Now().UnixMicro()) {
		return false, challenge.ErrNotFound
	}
	token, _ := vals[2].(string)
	return token == seen, nil
}

// view is what View lends: a record, and the buffer its Data is in.
type view struct {
	rec challenge.Record
	buf []byte
}

// maxPooledView is the largest buffer View puts back in its pool: a rare
// big record does not stay in memory for every later small one.
const maxPooledView = 64 << 10

var viewPool = sync.Pool{New: func() any { return new(view) }}

// release pools v, its buffer cleared: a record may hold a secret, which
// should not linger in the heap until the buffer is reused.
func (v *view) release() {
	v.rec = challenge.Record{}
	if cap(v.buf) <= maxPooledView {
		clear(v.buf[:cap(v.buf)])
		viewPool.Put(v)
	}
}

// read fills rec, whose Kind and ID are set, with the visible record's
// fields but Data, and returns the encoded Data; if stamp is not nil, it
// also reads the record's token into it. Its errors name no operation.
func (s *Store) read(ctx context.Context, rec *challenge.Record, stamp *string) (string, error) {
	var cmd *redis.SliceCmd
	if stamp == nil {
		cmd = s.client.HMGet(ctx, s.key(rec.Kind, rec.ID), "v", "p", "r")
	} else {
		cmd = s.client.HMGet(ctx, s.key(rec.Kind, rec.ID), "v", "p", "r", "t")
	}
	vals, err := cmd.Result()
	if err != nil {
		return "", classify(err)
	}
	vs, ok1 := vals[0].(string)
	ps, ok2 := vals[1].(string)
	rs, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return "", challenge.ErrNotFound
	}
	version, err1 := strconv.ParseUint(vs, 10, 64)
	purgeAt, err2 := strconv.ParseInt(ps, 10, 64)
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("%w: bad version or purge time", errCorrupt)
	}
	if !s.visible(purgeAt, s.clock.Now().UnixMicro()) {
		return "", challenge.ErrNotFound
	}
	rec.Version = version
	data, err := decode(rs, rec)
	if err == nil && stamp != nil {
		*stamp, _ = vals[3].(string)
	}
	return data, err
}

// Update implements [challenge.Store.Update].
func (s *Store) Update(ctx context.Context, rec *challenge.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: update: %w", err)
	}
	w := s.newWrite(rec)
	v, err := updateScript.run(ctx, s.client, 1, append(w.args[:0], nil, nil, nil, &w.key, &w.now, &w.version, &w.data, &w.at, &w.ttl, &w.token)).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: update %s/%s: %w", rec.Kind, rec.ID, err)
	case v == -1:
		return fmt.Errorf("redisstore: update %s/%s: %w", rec.Kind, rec.ID, challenge.ErrNotFound)
	case v == -2:
		return fmt.Errorf("redisstore: update %s/%s: %w", rec.Kind, rec.ID, challenge.ErrConflict)
	}
	rec.Version = uint64(v)
	return nil
}

// Delete implements [challenge.Store.Delete].
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	w := &write{key: s.key(kind, id), now: s.clock.Now().UnixMicro()}
	n, err := deleteScript.run(ctx, s.client, 1, append(w.args[:0], nil, nil, nil, &w.key, &w.now)).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: delete %s/%s: %w", kind, id, err)
	}
	if n == 0 {
		return fmt.Errorf("redisstore: delete %s/%s: %w", kind, id, challenge.ErrNotFound)
	}
	return nil
}

// write is the command of one write, its arguments and the values they
// point to, in one allocation: go-redis takes arguments as []any, and each
// int64, string or []byte put in an interface would be an allocation of
// its own, where a pointer to a field is not. Nothing keeps a write once
// its command is answered, so it is never reused: its data and token are
// the garbage collector's, as the values themselves were.
type write struct {
	args         [10]any
	key          string
	now, at, ttl int64
	version      uint64
	data         bytesArg
	token        token
}

// newWrite returns the write of rec, judged at the store clock's now.
func (s *Store) newWrite(rec *challenge.Record) *write {
	w := &write{key: s.key(rec.Kind, rec.ID), now: s.clock.Now().UnixMicro(), version: rec.Version, data: encode(rec)}
	w.at, w.ttl = s.purge(rec, w.now)
	_, _ = rand.Read(w.token[:])
	return w
}

// token is 16 random bytes naming one write, which a retry of the same
// command carries too. A pointer to it goes in the command's arguments,
// sent as the bytes themselves.
type token [16]byte

func (t *token) MarshalBinary() ([]byte, error) { return t[:], nil }

// classify marks an error of a read, or a limiter's call, that never
// reached Redis (no connection could be had) with challenge.ErrUnavailable.
// Writes of records are not classified: go-redis retries a command on a
// new connection when one drops, so a write that ends in a refused dial
// may have been applied by an earlier try. Through a go-redis
// AutoPipeliner, a command refused because its queue is full
// (MaxQueuedCommands) or because no batch could be sent within the
// engine's backstop was not sent either.
func classify(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, redis.ErrAutoPipelineQueueFull) || errors.Is(err, redis.ErrAutoPipelineTimeout) {
		return fmt.Errorf("%w: %w", challenge.ErrUnavailable, err)
	}
	return err
}

// Ping implements [challenge.Pinger]: one PING, to every master of a
// Cluster.
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if c, ok := s.ping.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
	} else {
		err = s.ping.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: ping: %w", classify(err))
	}
	return nil
}
