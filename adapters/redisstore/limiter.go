package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/challenge"
)

// Limiter is a challenge.Limiter on Redis: one budget for every server
// that shares the Redis. Every method is one round trip (one EVALSHA of a
// Lua script, or one DEL), atomic in Redis, so concurrent servers never
// spend more than a budget holds. Time is read from the Limiter's Clock
// and sent with each call, like the Store's, so Redis's own clock judges
// nothing but key expiry.
//
// Callers, sources, subjects and destinations appear in keys only as
// digests (challenge.KeyDigest), keyed with Options.DigestKey. The keys a
// call touches share a hash tag, so the Limiter works on Redis Cluster.
// It is safe for concurrent use.
type Limiter struct {
	client   redis.UniversalClient
	prefix   string
	clock    challenge.Clock
	limits   challenge.Limits
	digester *challenge.KeyDigester
}

var _ challenge.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter over client keeping limits (zero fields
// take their defaults). It does no I/O; call Load to have its scripts
// cached before the first call. opts.Retention is not used;
// opts.DigestKey keys the digests its keys are named by.
func NewLimiter(client redis.UniversalClient, limits challenge.Limits, opts Options) (*Limiter, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	limits, err := limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = "challengekit:"
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	return &Limiter{client: client, prefix: opts.Prefix + "limit:", clock: opts.Clock, limits: limits, digester: challenge.NewKeyDigester(opts.DigestKey)}, nil
}

// Limits returns the limiter's budgets, defaults filled in.
func (l *Limiter) Limits() challenge.Limits { return l.limits }

// Lua scripts. Times are microseconds; a script answers 0 when it charged
// the budget, or the wait in microseconds when it refused (and charged
// nothing).
var (
	// KEYS: the caller's bucket[, the source's bucket]. ARGV: now, then
	// (interval, period) of each bucket, then the keys' extra life (ms).
	startScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local tats, wait = {}, 0
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tat = tat + tonumber(ARGV[2*i])
  local over = tat - now - tonumber(ARGV[2*i+1])
  if over > wait then wait = over end
  tats[i] = tat
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + tonumber(ARGV[#ARGV]))
end
return 0`)
	// KEYS: the subject's failures (a sorted set of times), its pairs (a
	// hash from source to "n:last"). ARGV: now, source, free failures, min
	// hold, max hold, failure window, cap, cap period, member, the
	// failures' life (ms), the pairs' life (ms).
	attemptScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local free, minHold, maxHold, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cap, capPer = tonumber(ARGV[7]), tonumber(ARGV[8])
local function hold(n)
  if n < free then return 0 end
  local k = n - free
  if k >= 62 or minHold * 2 ^ k > maxHold then return maxHold end
  return minHold * 2 ^ k
end
local n, last, wait = 0, 0, 0
local p = redis.call('HGET', KEYS[2], ARGV[2])
if p then
  local i = string.find(p, ':', 1, true)
  n, last = tonumber(string.sub(p, 1, i - 1)), tonumber(string.sub(p, i + 1))
  if now >= last + hold(n) + window then n = 0 else wait = last + hold(n) - now end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - capPer)
if redis.call('ZCARD', KEYS[1]) >= cap then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local w = tonumber(oldest[2]) + capPer - now
  if w > wait then wait = w end
end
if wait > 0 then return wait end
redis.call('HSET', KEYS[2], ARGV[2], (n + 1) .. ':' .. ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[10])
redis.call('PEXPIRE', KEYS[2], ARGV[11])
return 0`)
	// KEYS: as attemptScript's. ARGV: source, the charge's member. The
	// pair's count falls only if the charge was still there, so a refund
	// sent twice takes back one charge.
	refundScript = redis.NewScript(`
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return 0 end
local p = redis.call('HGET', KEYS[2], ARGV[1])
if p then
  local i = string.find(p, ':', 1, true)
  local n = tonumber(string.sub(p, 1, i - 1))
  if n > 0 then redis.call('HSET', KEYS[2], ARGV[1], (n - 1) .. string.sub(p, i)) end
end
return 0`)
	// KEYS: the destination's deliveries as one source spends them, and
	// its ceiling (sorted sets of times). ARGV: now, member, then (events,
	// period, life in ms) of each.
	deliverScript = redis.NewScript(`
local now, wait = tonumber(ARGV[1]), 0
for i = 1, 2 do
  local n, per = tonumber(ARGV[3*i]), tonumber(ARGV[3*i+1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - per)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= n then
    local nth = redis.call('ZRANGE', KEYS[i], count - n, count - n, 'WITHSCORES')
    local w = tonumber(nth[2]) + per - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[3*i+2])
end
return 0`)
)

// Load caches the limiter's scripts on the server, so that every call is
// exactly one round trip.
func (l *Limiter) Load(ctx context.Context) error {
	for _, sc := range []*redis.Script{startScript, attemptScript, refundScript, deliverScript} {
		if err := sc.Load(ctx, l.client).Err(); err != nil {
			return fmt.Errorf("redisstore: loading limiter scripts: %w", err)
		}
	}
	return nil
}

// tag is the hash-tagged digest that names what a key is about.
func (l *Limiter) tag(parts ...string) string {
	return l.prefix + "{" + l.digester.Digest(parts...) + "}"
}

func (l *Limiter) digest(part string) string { return l.digester.Digest(part) }

// member names one delivery in a sorted set: random, so that events of
// the same microsecond are distinct.
func member() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ms(d time.Duration) int64 { return (d + ClockSkewAllowance + time.Millisecond - 1).Milliseconds() }

// run runs a script and turns its answer into nil or a *ThrottledError.
func (l *Limiter) run(ctx context.Context, op string, sc *redis.Script, keys []string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: limiter %s: %w", op, err)
	}
	wait, err := sc.Run(ctx, l.client, keys, args...).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: limiter %s: %w", op, classify(err))
	case wait > 0:
		return &challenge.ThrottledError{RetryAfter: time.Duration(wait) * time.Microsecond}
	}
	return nil
}

// Start implements [challenge.Limiter].
func (l *Limiter) Start(ctx context.Context, o challenge.Origin) error {
	tag := l.tag("start", o.Caller)
	keys := []string{tag + ":c"}
	args := []any{l.clock.Now().UnixMicro(), l.limits.CallerStarts.Per.Microseconds() / int64(l.limits.CallerStarts.Events), l.limits.CallerStarts.Per.Microseconds()}
	if o.Source != "" {
		keys = append(keys, tag+":s:"+l.digest(o.Source))
		args = append(args, l.limits.SourceStarts.Per.Microseconds()/int64(l.limits.SourceStarts.Events), l.limits.SourceStarts.Per.Microseconds())
	}
	args = append(args, ClockSkewAllowance.Milliseconds())
	return l.run(ctx, "start", startScript, keys, args...)
}

func (l *Limiter) subjectKeys(kind, subject string) []string {
	tag := l.tag("subject", kind, subject)
	return []string{tag + ":f", tag + ":p"}
}

// Attempt implements [challenge.Limiter].
func (l *Limiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	now := l.clock.Now().UnixMicro()
	lim := l.limits
	return l.run(ctx, "attempt", attemptScript, l.subjectKeys(a.Kind, a.Subject),
		now, l.digest(a.Source), lim.FreeFailures, lim.MinHold.Microseconds(), lim.MaxHold.Microseconds(), lim.FailureWindow.Microseconds(),
		lim.SubjectFailures.Events, lim.SubjectFailures.Per.Microseconds(), "a:"+a.ID,
		ms(lim.SubjectFailures.Per), ms(lim.PairMemory()))
}

// Refund implements [challenge.Limiter].
func (l *Limiter) Refund(ctx context.Context, a challenge.Attempt) error {
	return l.run(ctx, "refund", refundScript, l.subjectKeys(a.Kind, a.Subject), l.digest(a.Source), "a:"+a.ID)
}

// Deliver implements [challenge.Limiter].
func (l *Limiter) Deliver(ctx context.Context, d challenge.Delivery) error {
	tag := l.tag("deliver", d.Destination)
	pair, dest := l.limits.Deliveries, l.limits.DestinationDeliveries
	return l.run(ctx, "deliver", deliverScript, []string{tag + ":s:" + l.digest(d.Source), tag + ":d"},
		l.clock.Now().UnixMicro(), member(),
		pair.Events, pair.Per.Microseconds(), ms(pair.Per), dest.Events, dest.Per.Microseconds(), ms(dest.Per))
}

// Reset implements [challenge.Limiter].
func (l *Limiter) Reset(ctx context.Context, kind, subject string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: limiter reset: %w", err)
	}
	if err := l.client.Del(ctx, l.subjectKeys(kind, subject)...).Err(); err != nil {
		return fmt.Errorf("redisstore: limiter reset: %w", classify(err))
	}
	return nil
}
