package challenge

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryLimiter is the in-process [Limiter], the reference the shared
// ones (adapters/redisstore, adapters/pgstore) are tested against. A fleet
// of servers each with its own MemoryLimiter has one budget per server,
// not one budget: use a shared Limiter there. It is safe for concurrent
// use, and forgets what no budget needs any more.
type MemoryLimiter struct {
	limits Limits
	clock  Clock

	mu         sync.Mutex
	buckets    map[bucketKey]time.Time // start budgets: the token bucket's theoretical arrival time
	subjects   map[subjectKey]*subjectFailures
	deliveries map[string][]time.Time
	calls      int
}

var _ Limiter = (*MemoryLimiter)(nil)

type subjectKey struct{ kind, subject string }

// bucketKey names a start budget: a caller's (source empty), or a source's
// as a caller reports it.
type bucketKey struct{ caller, source string }

// subjectFailures is a subject's failures in one kind: the times of those
// within SubjectFailures.Per (oldest first), and each source's count.
type subjectFailures struct {
	log   []time.Time
	pairs map[string]*pairFailures
}

type pairFailures struct {
	n    int
	last time.Time
}

// NewMemoryLimiter returns a MemoryLimiter with limits (zero fields take
// their defaults) reading time from clock (nil: the system's).
func NewMemoryLimiter(limits Limits, clock Clock) (*MemoryLimiter, error) {
	limits, err := limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &MemoryLimiter{limits: limits, clock: clock, buckets: map[bucketKey]time.Time{},
		subjects: map[subjectKey]*subjectFailures{}, deliveries: map[string][]time.Time{}}, nil
}

// Limits returns the limiter's budgets, defaults filled in.
func (l *MemoryLimiter) Limits() Limits { return l.limits }

// enter checks ctx, reads the clock and takes the mutex (the caller
// releases it), and now and then forgets what has expired.
func (l *MemoryLimiter) enter(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("challenge: limiter: %w", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	if l.calls++; l.calls%1024 == 0 {
		l.sweep(now)
	}
	return now, nil
}

func (l *MemoryLimiter) sweep(now time.Time) {
	for k, tat := range l.buckets {
		if !now.Before(tat) {
			delete(l.buckets, k)
		}
	}
	for k, s := range l.subjects {
		s.log = prune(s.log, now, l.limits.SubjectFailures.Per)
		for src, p := range s.pairs {
			if l.forgiven(p, now) {
				delete(s.pairs, src)
			}
		}
		if len(s.log) == 0 && len(s.pairs) == 0 {
			delete(l.subjects, k)
		}
	}
	for k, log := range l.deliveries {
		if log = prune(log, now, l.limits.Deliveries.Per); len(log) == 0 {
			delete(l.deliveries, k)
		} else {
			l.deliveries[k] = log
		}
	}
}

// prune drops the times of log that are per or more before now.
func prune(log []time.Time, now time.Time, per time.Duration) []time.Time {
	i := 0
	for i < len(log) && !now.Before(log[i].Add(per)) {
		i++
	}
	return log[i:]
}

// take spends one event of the token bucket at key: it returns the bucket's
// next arrival time if the event fits, or how long until it would.
func (l *MemoryLimiter) take(key bucketKey, r Rate, now time.Time) (time.Time, time.Duration) {
	tat := l.buckets[key]
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(r.interval())
	if over := tat.Sub(now) - r.Per; over > 0 {
		return time.Time{}, over
	}
	return tat, 0
}

// Start implements [Limiter].
func (l *MemoryLimiter) Start(ctx context.Context, o Origin) error {
	now, err := l.enter(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	callerKey, sourceKey := bucketKey{caller: o.Caller}, bucketKey{o.Caller, o.Source}
	callerTAT, wait := l.take(callerKey, l.limits.CallerStarts, now)
	var sourceTAT time.Time
	if o.Source != "" {
		var w time.Duration
		sourceTAT, w = l.take(sourceKey, l.limits.SourceStarts, now)
		wait = max(wait, w)
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	l.buckets[callerKey] = callerTAT
	if o.Source != "" {
		l.buckets[sourceKey] = sourceTAT
	}
	return nil
}

// forgiven reports whether the pair has been quiet long enough after its
// last hold to start afresh.
func (l *MemoryLimiter) forgiven(p *pairFailures, now time.Time) bool {
	return !now.Before(p.last.Add(l.limits.Hold(p.n) + l.limits.FailureWindow))
}

// Attempt implements [Limiter].
func (l *MemoryLimiter) Attempt(ctx context.Context, a Attempt) error {
	now, err := l.enter(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	key := subjectKey{a.Kind, a.Subject}
	s := l.subjects[key]
	if s == nil {
		s = &subjectFailures{pairs: map[string]*pairFailures{}}
		l.subjects[key] = s
	}
	p := s.pairs[a.Source]
	if p != nil && l.forgiven(p, now) {
		p = nil
	}
	var wait time.Duration
	if p != nil {
		wait = p.last.Add(l.limits.Hold(p.n)).Sub(now)
	}
	s.log = prune(s.log, now, l.limits.SubjectFailures.Per)
	if len(s.log) >= l.limits.SubjectFailures.Events {
		wait = max(wait, s.log[0].Add(l.limits.SubjectFailures.Per).Sub(now))
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	if p == nil {
		p = &pairFailures{}
		s.pairs[a.Source] = p
	}
	p.n++
	p.last = now
	s.log = append(s.log, now)
	return nil
}

// Refund implements [Limiter].
func (l *MemoryLimiter) Refund(ctx context.Context, a Attempt) error {
	if _, err := l.enter(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	s := l.subjects[subjectKey{a.Kind, a.Subject}]
	if s == nil {
		return nil
	}
	if p := s.pairs[a.Source]; p != nil && p.n > 0 {
		p.n--
	}
	if n := len(s.log); n > 0 {
		s.log = s.log[:n-1]
	}
	return nil
}

// Deliver implements [Limiter].
func (l *MemoryLimiter) Deliver(ctx context.Context, destination string) error {
	now, err := l.enter(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	log := prune(l.deliveries[destination], now, l.limits.Deliveries.Per)
	if len(log) >= l.limits.Deliveries.Events {
		l.deliveries[destination] = log
		return &ThrottledError{RetryAfter: log[0].Add(l.limits.Deliveries.Per).Sub(now)}
	}
	l.deliveries[destination] = append(log, now)
	return nil
}

// Reset implements [Limiter].
func (l *MemoryLimiter) Reset(ctx context.Context, kind, subject string) error {
	if _, err := l.enter(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	delete(l.subjects, subjectKey{kind, subject})
	return nil
}
