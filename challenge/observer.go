package challenge

import (
	"context"
	"time"
)

// Change describes one saved change to a challenge, as the [Engine] hands
// it to an [Observer] (and logs it, without Subject and Source). It never
// carries the record's Data.
type Change struct {
	Kind string
	ID   string
	// Subject is the record's subject after the change (the user, where
	// the flow knows them; empty until then), for an audit trail.
	Subject string
	// Source is where the request came from, where the engine knows it:
	// the Origin.Source of a create, the source a step's flow charged with
	// [Tx.Attempt]; empty otherwise.
	Source string
	// Event is the event fired; empty when the change only recorded a
	// failed attempt.
	Event Event
	// From is the state before the change; empty when the record was created.
	From State
	// To is the state after the change.
	To State
	// Attempts is the record's failed-attempt count after the change.
	Attempts int
	// Failed is true when the change recorded a failed attempt.
	Failed bool
	// Reason is the failed attempt's cause, as the flow worded it.
	Reason string
	// At is when the change was made, by the engine's clock.
	At time.Time
	// Duration is how long the engine step took until the save.
	Duration time.Duration
}

// Observer receives every change the [Engine] saves, after the save. Use it
// to export metrics or an audit trail. Observe is called synchronously on
// the request's goroutine, so it must be quick and safe for concurrent use.
type Observer interface {
	Observe(ctx context.Context, c Change)
}

// ObserverFunc adapts a function to the [Observer] interface.
type ObserverFunc func(ctx context.Context, c Change)

// Observe calls f(ctx, c).
func (f ObserverFunc) Observe(ctx context.Context, c Change) { f(ctx, c) }
