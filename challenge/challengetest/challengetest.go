// Package challengetest helps test code built on package challenge
// deterministically: a clock that moves only when told, IDs that are
// predictable, and an observer that records every change.
package challengetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// Epoch is the time a [FakeClock] from NewClock starts at.
var Epoch = time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC)

// FakeClock is a [challenge.Clock] that moves only when Advance or Set is
// called. It is safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ challenge.Clock = (*FakeClock)(nil)

// NewClock returns a FakeClock reading [Epoch].
func NewClock() *FakeClock { return &FakeClock{now: Epoch} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative) and
// returns the new time.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// SequentialIDs is a [challenge.IDSource] that returns Prefix followed by
// 1, 2, 3, ... It is safe for concurrent use. Use it only in tests: its IDs
// are guessable.
type SequentialIDs struct {
	Prefix string
	n      atomic.Uint64
}

var _ challenge.IDSource = (*SequentialIDs)(nil)

// NewID returns the next ID.
func (s *SequentialIDs) NewID() string {
	return fmt.Sprintf("%s%d", s.Prefix, s.n.Add(1))
}

// Recorder is a [challenge.Observer] that keeps every change it is given.
// It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	changes []challenge.Change
}

var _ challenge.Observer = (*Recorder)(nil)

// Observe records c.
func (r *Recorder) Observe(_ context.Context, c challenge.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

// Changes returns a copy of the changes recorded so far, in order.
func (r *Recorder) Changes() []challenge.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]challenge.Change(nil), r.changes...)
}

// Events returns the events of the recorded changes, in order, with ""
// for creations and for failed attempts that fired no event.
func (r *Recorder) Events() []challenge.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]challenge.Event, len(r.changes))
	for i, c := range r.changes {
		out[i] = c.Event
	}
	return out
}

// LogBuffer collects log output, for tests that check what was logged (and
// that no secret was). Give it to zerolog.New; it is safe for concurrent
// use, unlike a bytes.Buffer.
type LogBuffer struct {
	mu      sync.Mutex
	b       []byte
	written chan struct{} // closed and replaced on every Write
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if l.written != nil {
		close(l.written)
		l.written = nil
	}
	return len(p), nil
}

// WaitFor blocks until everything written so far contains each of substrs,
// or ctx is done, and reports which. It is for logs written by another
// goroutine or process, which may arrive after the response that caused
// them. It returns what was written, for the failure message.
func (l *LogBuffer) WaitFor(ctx context.Context, substrs ...string) (string, bool) {
	for {
		l.mu.Lock()
		s := string(l.b)
		if containsAll(s, substrs) {
			l.mu.Unlock()
			return s, true
		}
		if l.written == nil {
			l.written = make(chan struct{})
		}
		written := l.written
		l.mu.Unlock()
		select {
		case <-written:
		case <-ctx.Done():
			return l.String(), false
		}
	}
}

func containsAll(s string, substrs []string) bool {
	for _, sub := range substrs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// Race runs fn(0) … fn(n-1) on n goroutines released together, and
// returns when all have returned: the way to make requests race on one
// record or one budget. fn must be safe for concurrent use; it stores its
// results itself (each i in its own slot).
func Race(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
