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
	fixed    fixedArgs
}

// fixedArgs are the scripts' arguments that only the limits set, each put
// in an interface once, by NewLimiter, rather than at every call.
type fixedArgs struct {
	callerStarts, sourceStarts [2]any // a bucket's interval and period
	keyLife                    any    // startScript's keys' extra life
	attempt                    [6]any // attemptScript's ARGV[3] to ARGV[8]
	attemptLives               [2]any // its ARGV[10] and ARGV[11]
}

func newFixedArgs(lim challenge.Limits) fixedArgs {
	bucket := func(r challenge.Rate) [2]any {
		return [2]any{r.Per.Microseconds() / int64(r.Events), r.Per.Microseconds()}
	}
	return fixedArgs{
		callerStarts: bucket(lim.CallerStarts),
		sourceStarts: bucket(lim.SourceStarts),
		keyLife:      ClockSkewAllowance.Milliseconds(),
		attempt: [6]any{lim.FreeFailures, lim.MinHold.Microseconds(), lim.MaxHold.Microseconds(), lim.FailureWindow.Microseconds(),
			lim.SubjectFailures.Events, lim.SubjectFailures.Per.Microseconds()},
		attemptLives: [2]any{ms(lim.SubjectFailures.Per), ms(lim.PairMemory())},
	}
}

// call is one script call's command, its arguments and the values they
// point to, in one allocation (as a Store's write is).
type call struct {
	args [16]any
	keys [2]string
	now  int64
	strs [2]string
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
	return &Limiter{client: client, prefix: opts.Prefix + "limit:", clock: opts.Clock, limits: limits, digester: challenge.NewKeyDigester(opts.DigestKey),
		fixed: newFixedArgs(limits)}, nil
}

// Limits returns the limiter's budgets, defaults filled in.
func (l *Limiter) Limits() challenge.Limits { return l.limits }

// Lua scripts. Times are microseconds; a script answers 0 when it charged
// the budget, or the wait in microseconds when it refused (and charged
// nothing).
var (
	// KEYS: the caller's bucket[, the source's bucket]. ARGV: now, then
	// (interval, period) of each bucket, then the keys' extra life (ms).
	startScript = newScript(`
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
	attemptScript = newScript(`
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
	refundScript = newScript(`
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
	deliverScript = newScript(`
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
	for _, sc := range []script{startScript, attemptScript, refundScript, deliverScript} {
		if err := sc.Load(ctx, l.client).Err(); err != nil {
			return fmt.Errorf("redisstore: loading limiter scripts: %w", err)
		}
	}
	return nil
}

// key is the key about what digest (a challenge.KeyDigest) names,
// hash-tagged on it, ending in suffix and more: one concatenation.
func (l *Limiter) key(digest, suffix, more string) string {
	return l.prefix + "{" + digest + "}" + suffix + more
}

func (l *Limiter) digest(parts ...string) string { return l.digester.Digest(parts...) }

// member names one delivery in a sorted set: random, so that events of
// the same microsecond are distinct.
func member() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ms(d time.Duration) int64 { return (d + ClockSkewAllowance + time.Millisecond - 1).Milliseconds() }

// run runs a script on its keys and arguments, args (see script.run), and
// turns its answer into nil or a *ThrottledError.
func (l *Limiter) run(ctx context.Context, op string, sc script, keys int, args []any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: limiter %s: %w", op, err)
	}
	wait, err := sc.run(ctx, l.client, keys, args).Int64()
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
	c := &call{now: l.clock.Now().UnixMicro()}
	tag := l.digest("start", o.Caller)
	c.keys[0] = l.key(tag, ":c", "")
	if o.Source == "" {
		args := append(c.args[:0], nil, nil, nil, &c.keys[0], &c.now, l.fixed.callerStarts[0], l.fixed.callerStarts[1], l.fixed.keyLife)
		return l.run(ctx, "start", startScript, 1, args)
	}
	c.keys[1] = l.key(tag, ":s:", l.digest(o.Source))
	args := append(c.args[:0], nil, nil, nil, &c.keys[0], &c.keys[1], &c.now, l.fixed.callerStarts[0], l.fixed.callerStarts[1],
		l.fixed.sourceStarts[0], l.fixed.sourceStarts[1], l.fixed.keyLife)
	return l.run(ctx, "start", startScript, 2, args)
}

// subjectKeys are the keys of a subject's failures and of its pairs.
func (l *Limiter) subjectKeys(kind, subject string) (failures, pairs string) {
	tag := l.digest("subject", kind, subject)
	return l.key(tag, ":f", ""), l.key(tag, ":p", "")
}

// Attempt implements [challenge.Limiter].
func (l *Limiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	c := &call{now: l.clock.Now().UnixMicro()}
	c.keys[0], c.keys[1] = l.subjectKeys(a.Kind, a.Subject)
	c.strs[0], c.strs[1] = l.digest(a.Source), "a:"+a.ID
	f := &l.fixed.attempt
	args := append(c.args[:0], nil, nil, nil, &c.keys[0], &c.keys[1],
		&c.now, &c.strs[0], f[0], f[1], f[2], f[3], f[4], f[5], &c.strs[1], l.fixed.attemptLives[0], l.fixed.attemptLives[1])
	return l.run(ctx, "attempt", attemptScript, 2, args)
}

// Refund implements [challenge.Limiter].
func (l *Limiter) Refund(ctx context.Context, a challenge.Attempt) error {
	c := &call{}
	c.keys[0], c.keys[1] = l.subjectKeys(a.Kind, a.Subject)
	c.strs[0], c.strs[1] = l.digest(a.Source), "a:"+a.ID
	return l.run(ctx, "refund", refundScript, 2, append(c.args[:0], nil, nil, nil, &c.keys[0], &c.keys[1], &c.strs[0], &c.strs[1]))
}

// Deliver implements [challenge.Limiter].
func (l *Limiter) Deliver(ctx context.Context, d challenge.Delivery) error {
	tag := l.digest("deliver", d.Destination)
	pair, dest := l.limits.Deliveries, l.limits.DestinationDeliveries
	return l.run(ctx, "deliver", deliverScript, 2, []any{nil, nil, nil, l.key(tag, ":s:", l.digest(d.Source)), l.key(tag, ":d", ""),
		l.clock.Now().UnixMicro(), member(),
		pair.Events, pair.Per.Microseconds(), ms(pair.Per), dest.Events, dest.Per.Microseconds(), ms(dest.Per)})
}

// Reset implements [challenge.Limiter].
func (l *Limiter) Reset(ctx context.Context, kind, subject string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: limiter reset: %w", err)
	}
	failures, pairs := l.subjectKeys(kind, subject)
	if err := l.client.Del(ctx, failures, pairs).Err(); err != nil {
		return fmt.Errorf("redisstore: limiter reset: %w", classify(err))
	}
	return nil
}
