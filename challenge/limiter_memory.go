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
// use. It keeps nothing for right answers (a refund leaves no trace), and
// forgets the rest once no budget needs it, a few entries at every call.
type MemoryLimiter struct {
	limits Limits
	clock  Clock

	mu         sync.Mutex
	buckets    map[bucketKey]time.Time // start budgets: the token bucket's theoretical arrival time
	subjects   map[subjectKey]*subjectFailures
	deliveries map[deliveryKey][]event
}

// deliveryKey names a delivery log: a destination's as one source spends
// it (pair), or the destination's ceiling.
type deliveryKey struct {
	destination, source string
	pair                bool
}

// event is one charge in a log: when, and which (a charge's ID).
type event struct {
	at time.Time
	id string
}

var _ Limiter = (*MemoryLimiter)(nil)

type subjectKey struct{ kind, subject string }

// bucketKey names a start budget: a caller's (source empty), or a source's
// as a caller reports it.
type bucketKey struct{ caller, source string }

// subjectFailures is a subject's failures in one kind: those within
// SubjectFailures.Per (oldest first), and each source's count. Most
// subjects fail from one source, once or twice before a right answer
// refunds it: the first source's pair and the first event are kept in
// the struct, so that such a subject costs one allocation, not five.
type subjectFailures struct {
	log      []event
	firstLog [1]event // log's first backing array
	first    pairFailures
	firstSrc string // first's source, if hasFirst
	hasFirst bool
	more     map[string]*pairFailures // the other sources' pairs
}

func newSubjectFailures() *subjectFailures {
	s := &subjectFailures{}
	s.log = s.firstLog[:0]
	return s
}

// pair returns src's pair, or nil.
func (s *subjectFailures) pair(src string) *pairFailures {
	if s.hasFirst && s.firstSrc == src {
		return &s.first
	}
	return s.more[src]
}

// addPair returns src's pair, new: one the source had (forgiven, not yet
// swept) starts over in its place, for pair looks there first.
func (s *subjectFailures) addPair(src string) *pairFailures {
	if p := s.pair(src); p != nil {
		*p = pairFailures{}
		return p
	}
	if !s.hasFirst {
		s.first, s.firstSrc, s.hasFirst = pairFailures{}, src, true
		return &s.first
	}
	if s.more == nil {
		s.more = make(map[string]*pairFailures, 1)
	}
	p := &pairFailures{}
	s.more[src] = p
	return p
}

// deletePair removes src's pair.
func (s *subjectFailures) deletePair(src string) {
	if s.hasFirst && s.firstSrc == src {
		s.first, s.firstSrc, s.hasFirst = pairFailures{}, "", false
		return
	}
	delete(s.more, src)
}

// pairs counts the subject's pairs.
func (s *subjectFailures) pairs() int {
	n := len(s.more)
	if s.hasFirst {
		n++
	}
	return n
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
		subjects: map[subjectKey]*subjectFailures{}, deliveries: map[deliveryKey][]event{}}, nil
}

// Limits returns the limiter's budgets, defaults filled in.
func (l *MemoryLimiter) Limits() Limits { return l.limits }

// enter checks ctx, reads the clock and takes the mutex (the caller
// releases it), and forgets a few entries that have expired.
func (l *MemoryLimiter) enter(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("challenge: limiter: %w", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	l.sweep(now, sweepPerCall)
	return now, nil
}

// sweepPerCall is how many entries of each map a call looks at. Go starts
// every iteration of a map at a random place, so each entry is soon
// looked at, and the work per call stays constant however large the maps
// grow: every call adds at most one entry to each.
const sweepPerCall = 2

// sweep looks at up to n entries of each map and forgets those no budget
// needs any more.
func (l *MemoryLimiter) sweep(now time.Time, n int) {
	i := 0
	for k, tat := range l.buckets {
		if !now.Before(tat) {
			delete(l.buckets, k)
		}
		if i++; i == n {
			break
		}
	}
	i = 0
	for k, s := range l.subjects {
		s.log = prune(s.log, now, l.limits.SubjectFailures.Per)
		if s.hasFirst && l.forgiven(&s.first, now) {
			s.deletePair(s.firstSrc)
		}
		for src, p := range s.more {
			if l.forgiven(p, now) {
				delete(s.more, src)
			}
		}
		if len(s.log) == 0 && s.pairs() == 0 {
			delete(l.subjects, k)
		}
		if i++; i == n {
			break
		}
	}
	i = 0
	for k, log := range l.deliveries {
		if log = prune(log, now, max(l.limits.Deliveries.Per, l.limits.DestinationDeliveries.Per)); len(log) == 0 {
			delete(l.deliveries, k)
		} else {
			l.deliveries[k] = log
		}
		if i++; i == n {
			break
		}
	}
}

// prune drops the events of log that are per or more before now.
func prune(log []event, now time.Time, per time.Duration) []event {
	i := 0
	for i < len(log) && !now.Before(log[i].at.Add(per)) {
		i++
	}
	return log[i:]
}

// full returns how long until log, pruned, holds fewer than r.Events, or
// zero if it does.
func full(log []event, now time.Time, r Rate) time.Duration {
	if len(log) < r.Events {
		return 0
	}
	return log[len(log)-r.Events].at.Add(r.Per).Sub(now)
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
		s = newSubjectFailures()
		l.subjects[key] = s
	}
	p := s.pair(a.Source)
	if p != nil && l.forgiven(p, now) {
		p = nil
	}
	var wait time.Duration
	if p != nil {
		wait = p.last.Add(l.limits.Hold(p.n)).Sub(now)
	}
	s.log = prune(s.log, now, l.limits.SubjectFailures.Per)
	wait = max(wait, full(s.log, now, l.limits.SubjectFailures))
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	if p == nil {
		p = s.addPair(a.Source)
	}
	p.n++
	p.last = now
	s.log = append(s.log, event{now, a.ID})
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
	for i := len(s.log) - 1; i >= 0; i-- { // newest first: a refund follows its charge closely
		if s.log[i].id == a.ID {
			s.log = append(s.log[:i], s.log[i+1:]...)
			if p := s.pair(a.Source); p != nil && p.n > 0 {
				if p.n--; p.n == 0 {
					s.deletePair(a.Source) // a pair without failures is no pair
				}
			}
			if len(s.log) == 0 && s.pairs() == 0 {
				delete(l.subjects, subjectKey{a.Kind, a.Subject})
			}
			return nil
		}
	}
	return nil // refunded already, or forgotten
}

// Deliver implements [Limiter].
func (l *MemoryLimiter) Deliver(ctx context.Context, d Delivery) error {
	now, err := l.enter(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	pairKey, destKey := deliveryKey{d.Destination, d.Source, true}, deliveryKey{destination: d.Destination}
	pair := prune(l.deliveries[pairKey], now, l.limits.Deliveries.Per)
	dest := prune(l.deliveries[destKey], now, l.limits.DestinationDeliveries.Per)
	l.deliveries[pairKey], l.deliveries[destKey] = pair, dest
	if wait := max(full(pair, now, l.limits.Deliveries), full(dest, now, l.limits.DestinationDeliveries)); wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	l.deliveries[pairKey] = append(pair, event{at: now})
	l.deliveries[destKey] = append(dest, event{at: now})
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
