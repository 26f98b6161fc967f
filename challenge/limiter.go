package challenge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrThrottled: the subject opened or failed too many challenges lately and
// must wait. It is carried by a [*ThrottledError].
var ErrThrottled = errors.New("challenge: too many attempts; retry later")

// ThrottledError says how long a throttled subject must wait. It matches
// ErrThrottled.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("challenge: too many attempts; retry in %v", e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) work on a *ThrottledError.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Limiter throttles a subject (a user, a person) that keeps opening fresh
// challenges or failing them. The attempt budget stops guessing within one
// challenge; a Limiter stops an attacker from simply opening the next one.
// Because anyone who knows a subject's name can trip it, a Limiter must
// hold a subject off only briefly: it slows guessing down, it never locks
// an account. Implementations must be safe for concurrent use.
type Limiter interface {
	// Allow is asked before subject opens a challenge. It returns nil, or a
	// *ThrottledError saying how long to wait.
	Allow(ctx context.Context, subject string) error
	// Failed records a failed attempt (a wrong answer) by subject.
	Failed(ctx context.Context, subject string) error
}

// LimiterOptions configures a [MemoryLimiter]. The zero value is ready to
// use.
type LimiterOptions struct {
	// Clock reads the time; nil means the system clock.
	Clock Clock
	// Window is the period over which starts and failures are counted;
	// zero means 10 minutes.
	Window time.Duration
	// Starts is how many challenges a subject may open per Window; zero
	// means 20.
	Starts int
	// Failures is how many failed attempts a subject may make per Window;
	// zero means 5.
	Failures int
	// MaxBackoff caps how long a subject is ever held off, whoever tripped
	// the limit; zero means 1 minute. The hold doubles from 1 second with
	// each event past the limit, up to this cap.
	MaxBackoff time.Duration
}

// MemoryLimiter is the in-process [Limiter]. A fleet sharing one store can
// still use one per process: it then throttles each process separately. It
// is safe for concurrent use, and forgets a subject once its window has
// passed.
type MemoryLimiter struct {
	opts     LimiterOptions
	mu       sync.Mutex
	subjects map[string]*limitState
	calls    int
}

var _ Limiter = (*MemoryLimiter)(nil)

type limitState struct {
	windowEnd time.Time
	starts    int
	failures  int
	strikes   int // holds given for starts over the quota in this window
	owed      bool
	heldUntil time.Time
}

// NewMemoryLimiter returns a MemoryLimiter, or an error if opts are
// invalid.
func NewMemoryLimiter(opts LimiterOptions) (*MemoryLimiter, error) {
	if opts.Window < 0 || opts.Starts < 0 || opts.Failures < 0 || opts.MaxBackoff < 0 {
		return nil, errors.New("challenge: limiter options must not be negative")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Window == 0 {
		opts.Window = 10 * time.Minute
	}
	if opts.Starts == 0 {
		opts.Starts = 20
	}
	if opts.Failures == 0 {
		opts.Failures = 5
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = time.Minute
	}
	return &MemoryLimiter{opts: opts, subjects: map[string]*limitState{}}, nil
}

// state returns subject's counters, starting a new window when the last one
// has passed. It also forgets idle subjects now and then. l.mu is held.
func (l *MemoryLimiter) state(subject string, now time.Time) *limitState {
	if l.calls++; l.calls%1024 == 0 {
		for k, s := range l.subjects {
			if !now.Before(s.windowEnd) && !now.Before(s.heldUntil) {
				delete(l.subjects, k)
			}
		}
	}
	s, ok := l.subjects[subject]
	if !ok || !now.Before(s.windowEnd) {
		held := time.Time{}
		if ok {
			held = s.heldUntil
		}
		s = &limitState{windowEnd: now.Add(l.opts.Window), heldUntil: held}
		l.subjects[subject] = s
	}
	return s
}

// hold holds the subject off for a back-off that doubles with each event
// past the limit (excess, from 1), capped at MaxBackoff.
func (l *MemoryLimiter) hold(s *limitState, now time.Time, excess int) {
	d := l.opts.MaxBackoff
	if excess < 31 {
		d = min(time.Second<<(excess-1), l.opts.MaxBackoff)
	}
	s.heldUntil = now.Add(d)
}

// Allow implements [Limiter].
func (l *MemoryLimiter) Allow(_ context.Context, subject string) error {
	now := l.opts.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(subject, now)
	if now.Before(s.heldUntil) {
		return &ThrottledError{RetryAfter: s.heldUntil.Sub(now)}
	}
	s.starts++
	if s.starts <= l.opts.Starts {
		return nil
	}
	// Over the quota, a subject that waited out its hold gets one start
	// through, and the hold before the next doubles: whoever tripped the
	// limit, waiting as told always works.
	if s.owed {
		s.owed = false
		return nil
	}
	s.strikes++
	s.owed = true
	l.hold(s, now, s.strikes)
	return &ThrottledError{RetryAfter: s.heldUntil.Sub(now)}
}

// Failed implements [Limiter].
func (l *MemoryLimiter) Failed(_ context.Context, subject string) error {
	now := l.opts.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(subject, now)
	s.failures++
	if s.failures >= l.opts.Failures {
		l.hold(s, now, s.failures-l.opts.Failures+1)
	}
	return nil
}
