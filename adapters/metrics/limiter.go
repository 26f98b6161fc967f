package metrics

import (
	"context"
	"errors"

	"github.com/challengekit/challengekit/challenge"
)

// Limiter wraps next so that each refusal ([challenge.ErrThrottled]) is
// counted by operation ("start", "attempt", "deliver") and, for attempts,
// by the attempt's kind (starts and deliveries have none: "none"). Callers,
// subjects, sources and destinations are never used. The wrapper returns
// what next returns, unchanged, and is safe for concurrent use as next is.
func (m *Metrics) Limiter(next challenge.Limiter) challenge.Limiter {
	return &limiter{m: m, next: next}
}

type limiter struct {
	m    *Metrics
	next challenge.Limiter
}

var _ challenge.Limiter = (*limiter)(nil)

func (l *limiter) Start(ctx context.Context, o challenge.Origin) error {
	return l.count(none, "start", l.next.Start(ctx, o))
}

func (l *limiter) Attempt(ctx context.Context, a challenge.Attempt) error {
	return l.count(orNone(a.Kind), "attempt", l.next.Attempt(ctx, a))
}

func (l *limiter) Refund(ctx context.Context, a challenge.Attempt) error {
	return l.next.Refund(ctx, a)
}

func (l *limiter) Deliver(ctx context.Context, d challenge.Delivery) error {
	return l.count(none, "deliver", l.next.Deliver(ctx, d))
}

func (l *limiter) Reset(ctx context.Context, kind, subject string) error {
	return l.next.Reset(ctx, kind, subject)
}

func (l *limiter) count(kind, op string, err error) error {
	if errors.Is(err, challenge.ErrThrottled) {
		l.m.throttled.WithLabelValues(kind, op).Inc()
	}
	return err
}
