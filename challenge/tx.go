package challenge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tx is one engine step's view of a record, handed to the function given
// to [Engine.Step]. Reads come from the record as loaded; changes are kept
// in the Tx and saved by the engine when the function returns. A Tx is not
// safe for concurrent use and must not be used after the function returns.
type Tx struct {
	engine  *Engine
	ctx     context.Context
	charge  stepCharge // kept across the runs of one Step
	rec     *Record
	now     time.Time
	changes []change
	buf     [2]change // backs changes: most steps make one or two
	after   []func(context.Context) error
	source  string // the request's source, as the flow gave it to Attempt
	scheme  string // if set, the source is scheme:source (SetSourceOf), joined only for an Observer
	dirty   bool
	failed  bool
	saved   bool // the run's changes were saved
}

// change is a Change made in a Tx, kept compactly (a Tx is allocated per
// request, and its size is garbage the collector pays for): the engine
// adds the record's kind, ID and times when it emits the Change.
type change struct {
	event    Event
	from, to State
	reason   string
	attempts int
	failed   bool
}

// reset readies tx for a run of the step's function on rec.
func (tx *Tx) reset(rec *Record) {
	tx.rec, tx.changes, tx.after, tx.dirty, tx.failed, tx.saved = rec, tx.buf[:0], tx.after[:0], false, false, false
	tx.source, tx.scheme = "", "" // a re-run names its own, or none
}

// ID returns the record's ID.
func (tx *Tx) ID() string { return tx.rec.ID }

// State returns the record's current state, including transitions fired in
// this Tx.
func (tx *Tx) State() State { return tx.rec.State }

// Subject returns the record's subject.
func (tx *Tx) Subject() string { return tx.rec.Subject }

// Attempts returns the number of failed attempts, including any recorded in
// this Tx.
func (tx *Tx) Attempts() int { return tx.rec.Attempts }

// Remaining returns how many more failed attempts the budget allows.
func (tx *Tx) Remaining() int { return max(0, tx.engine.max-tx.rec.Attempts) }

// Data returns the flow's payload. The slice belongs to the Tx: read it or
// decode it, and change it only through SetData.
func (tx *Tx) Data() []byte { return tx.rec.Data }

// CreatedAt returns when the record was created.
func (tx *Tx) CreatedAt() time.Time { return tx.rec.CreatedAt }

// ExpiresAt returns when the record expires (zero: never).
func (tx *Tx) ExpiresAt() time.Time { return tx.rec.ExpiresAt }

// Now returns the step's time: one reading of the engine's clock, so that
// every decision in a step sees the same instant.
func (tx *Tx) Now() time.Time { return tx.now }

// Attempt charges the answer this step is about to evaluate to the
// engine's Limiter, as an attempt of subject from source at this engine's
// kind of challenge (see [Limiter.Attempt]). Call it after every check
// that could refuse the request without evaluating an answer, and before
// evaluating it. It returns a *ThrottledError while the limiter holds the
// subject off from that source, or ErrUnavailable if the limiter's backend
// failed; the step should return that error as it is.
//
// The charge is made once per [Engine.Step], however often its function
// runs, and is refunded when the step ends unless a run of the step
// recorded a failure with [Tx.Fail] (even one whose save then lost a race:
// the wrong answer was checked). Without a Limiter, Attempt charges
// nothing. Either way, source is the step's source in the [Change]s it
// saves.
func (tx *Tx) Attempt(subject, source string) error {
	return tx.AttemptIn(tx.engine.machine.Name(), subject, source)
}

// AttemptIn is [Tx.Attempt] charged to another kind's budget: for an
// answer to a secret that another kind of challenge also checks (a user's
// security answers, asked by a factor of a login as well as by a
// verification of their own), so that the secret has one budget whichever
// challenge asks for it.
func (tx *Tx) AttemptIn(kind, subject, source string) error {
	e := tx.engine
	tx.source, tx.scheme = source, ""
	if e.limiter == nil {
		return nil
	}
	c := &tx.charge
	a := Attempt{Kind: kind, Subject: subject, Source: source}
	if c.charged {
		if c.attempt.Kind == a.Kind && c.attempt.Subject == a.Subject && c.attempt.Source == a.Source {
			return nil
		}
		// A re-run that charges someone else: the first charge is given
		// back, unless it paid for a wrong answer.
		if !c.failed {
			e.refund(tx.ctx, c.attempt)
		}
		c.charged, c.failed = false, false
	}
	a.ID = NewID()
	if err := e.limiter.Attempt(tx.ctx, a); err != nil {
		return fmt.Errorf("challenge: %s %s: %w", a.Kind, tx.rec.ID, limiterError(err))
	}
	c.attempt, c.charged = a, true
	return nil
}

// SetSource names where this step's request comes from (the end user's
// address, or the caller where the flow does not know it), for the
// [Change]s the step saves: what an audit trail records. [Tx.Attempt]
// sets it as well. It changes nothing in the record.
func (tx *Tx) SetSource(source string) { tx.source, tx.scheme = source, "" }

// SetSourceOf is SetSource(scheme + ":" + name), as "partner:acme", with
// the string joined only if an [Observer] will see it: steps on the hot
// path pay nothing for an audit trail nobody keeps.
func (tx *Tx) SetSourceOf(scheme, name string) { tx.source, tx.scheme = name, scheme }

// AfterSave registers fn to run once this step's changes are saved: what
// must happen once per applied step, and never for a run the step
// discards, such as sending a code or notifying a device. The engine runs
// the functions a run registered, in order and with the step's context,
// after that run's save (or, if the run changes nothing, as the step
// ends), and never those of a run whose save lost a race or whose function
// returned an error (other than a failure recorded with [Tx.Fail], whose
// changes are saved). The first function to fail stops the rest, and the
// step returns its error, wrapped in an [*AfterSaveError]: the record was
// saved, and what fn was to do may not have been done.
func (tx *Tx) AfterSave(fn func(ctx context.Context) error) {
	tx.after = append(tx.after, fn)
}

// SetData replaces the flow's payload; the engine saves it with the record.
func (tx *Tx) SetData(data []byte) {
	tx.rec.Data = data
	tx.dirty = true
}

// SetSubject replaces the record's subject.
func (tx *Tx) SetSubject(subject string) {
	tx.rec.Subject = subject
	tx.dirty = true
}

// Fire fires event on the record. It returns a [*TransitionError] (matching
// ErrInvalidTransition, and ErrFinal or ErrLocked where they apply) if the
// event is not allowed in the current state, and leaves the record as it
// was.
func (tx *Tx) Fire(event Event) error {
	m := tx.engine.machine
	from := tx.rec.State
	to, err := m.fire(context.Background(), from, event)
	if err != nil {
		var te *TransitionError
		if errors.As(err, &te) && from == m.locked && tx.rec.Attempts >= tx.engine.max {
			te.Locked = true
		}
		return err
	}
	tx.rec.State = to
	tx.dirty = true
	tx.changes = append(tx.changes, change{event: event, from: from, to: to, attempts: tx.rec.Attempts})
	return nil
}

// Fail records a failed attempt (a wrong answer, a mismatched account)
// whose cause is cause, and returns the error the flow should return from
// its step function. The attempt is saved even though the step returns an
// error. The failure that exhausts the budget also fires the machine's Lock
// event, and the error returned then matches both ErrLocked and cause.
//
// Fail returns a [*TransitionError] and records nothing if the machine has
// no Lock event or the Lock event is not allowed in the current state: an
// attempt that could never lock the challenge must not be counted as if it
// could.
func (tx *Tx) Fail(cause error) error {
	m := tx.engine.machine
	if m.def.Lock == "" || !m.Can(tx.rec.State, m.def.Lock) {
		return &TransitionError{Machine: m.Name(), From: tx.rec.State, Event: m.def.Lock, Final: m.IsFinal(tx.rec.State)}
	}
	tx.rec.Attempts++
	tx.failed, tx.dirty = true, true
	if tx.charge.charged {
		tx.charge.failed = true
	}
	if tx.rec.Attempts < tx.engine.max {
		tx.changes = append(tx.changes, change{from: tx.rec.State, to: tx.rec.State,
			attempts: tx.rec.Attempts, failed: true, reason: cause.Error()})
		return cause
	}
	if err := tx.Fire(m.def.Lock); err != nil {
		return err // unreachable: Can said yes
	}
	last := &tx.changes[len(tx.changes)-1]
	last.failed, last.reason = true, cause.Error()
	return fmt.Errorf("%w: %w", ErrLocked, cause)
}
