package challenge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// DefaultMaxAttempts is the attempt budget when [EngineOptions.MaxAttempts]
// is zero.
const DefaultMaxAttempts = 3

// EngineOptions configures an [Engine]. The zero value is ready to use.
type EngineOptions struct {
	// Clock stamps records and judges expiry. Nil means the system clock.
	Clock Clock
	// IDs makes record IDs. Nil means [RandomIDs].
	IDs IDSource
	// MaxAttempts is the per-challenge budget of failed attempts; the
	// failure that reaches it fires the machine's Lock event. Zero means
	// DefaultMaxAttempts; negative is an error.
	MaxAttempts int
	// Logger receives one line per saved change. The zero value logs
	// nothing. Lines carry kind, id, event, states, attempts and duration;
	// never Data, secrets, subjects or sources.
	Logger zerolog.Logger
	// LogSubjectKey, if not empty, adds to every line a keyed hash of the
	// record's subject, subject_hash: the first 16 hex digits of
	// HMAC-SHA256(LogSubjectKey, subject), so that one user's lines can be
	// correlated without naming the user. The same key and subject always
	// give the same hash; keep the key secret (anyone holding it can test
	// a guess of a subject) and change it to unlink old logs from new.
	LogSubjectKey []byte
	// Observer, if set, receives every saved change, with its subject and
	// source (for an audit trail).
	Observer Observer
	// Tracer, if set, follows every Create, Step and Get (see [Tracer]).
	Tracer Tracer
	// Limiter, if set, is charged for every start that names its caller
	// (Start.Origin) and for every attempt a flow declares with
	// [Tx.Attempt]; attempts whose answers are right are refunded.
	Limiter Limiter
}

// refundTimeout bounds giving back an attempt's charge after the request
// that made it has ended or been cancelled.
const refundTimeout = 2 * time.Second

// Engine runs the requests of one flow against its records: load, lazily
// expire, let the flow decide through a [Tx], save with compare-and-set,
// then log and observe. It is safe for concurrent use and holds no lock
// across a request: two requests racing on one record are settled by the
// store's compare-and-set.
type Engine struct {
	store    Store
	machine  *Machine
	clock    Clock
	ids      IDSource
	max      int
	log      zerolog.Logger
	observer Observer
	limiter  Limiter
	tracer   Tracer
	hashKey  []byte
}

// NewEngine returns an Engine for machine's records in store, or an error
// if opts are invalid.
func NewEngine(store Store, machine *Machine, opts EngineOptions) (*Engine, error) {
	switch {
	case store == nil:
		return nil, errors.New("challenge: engine: nil store")
	case machine == nil:
		return nil, errors.New("challenge: engine: nil machine")
	case opts.MaxAttempts < 0:
		return nil, fmt.Errorf("challenge: engine %s: negative MaxAttempts %d", machine.Name(), opts.MaxAttempts)
	}
	e := &Engine{store: store, machine: machine, clock: opts.Clock, ids: opts.IDs,
		max: opts.MaxAttempts, log: opts.Logger, observer: opts.Observer, limiter: opts.Limiter,
		tracer: opts.Tracer, hashKey: bytes.Clone(opts.LogSubjectKey)}
	if e.clock == nil {
		e.clock = SystemClock{}
	}
	if e.ids == nil {
		e.ids = RandomIDs{}
	}
	if e.max == 0 {
		e.max = DefaultMaxAttempts
	}
	return e, nil
}

// Machine returns the engine's machine.
func (e *Engine) Machine() *Machine { return e.machine }

// MaxAttempts returns the per-challenge attempt budget.
func (e *Engine) MaxAttempts() int { return e.max }

// NewID returns a fresh identifier from the engine's [IDSource]; flows use
// it for tokens and nonces as well as record IDs.
func (e *Engine) NewID() string { return e.ids.NewID() }

// Start describes a new challenge.
type Start struct {
	// ID is the record's ID; empty means a fresh one from the IDSource.
	ID string
	// Subject is who the challenge is about.
	Subject string
	// TTL is how long the challenge accepts operations; zero means it
	// never expires.
	TTL time.Duration
	// Data is the flow's initial payload.
	Data []byte
	// Origin is who opens the challenge. With a Limiter, a non-empty
	// Origin.Caller is charged for the start (and Origin.Source, if set);
	// starts are never charged to the Subject.
	Origin Origin
}

// Create stores a new record in the machine's initial state and returns it.
// It returns ErrInvalidRecord for a bad ID or a negative TTL, a
// *ThrottledError if the engine's Limiter refuses the start, the store's
// ErrAlreadyExists if the ID is taken, or, when the store fails,
// ErrUnavailable or ErrOutcomeUnknown wrapping the store's error.
func (e *Engine) Create(ctx context.Context, s Start) (*Record, error) {
	if e.tracer == nil {
		return e.create(ctx, s)
	}
	ctx, end := e.tracer.StartOperation(ctx, Operation{Kind: e.machine.Name(), Name: opCreate})
	rec, err := e.create(ctx, s)
	res := OperationResult{Outcome: OutcomeOK, Err: err}
	if err != nil {
		res.Outcome = OutcomeError
	} else {
		res.To = rec.State
	}
	end(res)
	return rec, err
}

func (e *Engine) create(ctx context.Context, s Start) (*Record, error) {
	start := e.clock.Now()
	kind := e.machine.Name()
	if s.TTL < 0 {
		return nil, fmt.Errorf("challenge: create %s: %w: negative TTL", kind, ErrInvalidRecord)
	}
	if s.ID == "" {
		s.ID = e.ids.NewID()
	}
	if len(s.ID) > MaxIDLength {
		return nil, fmt.Errorf("challenge: create %s: %w: id of %d bytes", kind, ErrInvalidRecord, len(s.ID))
	}
	if e.limiter != nil && s.Origin.Caller != "" {
		if err := e.limiter.Start(ctx, s.Origin); err != nil {
			return nil, fmt.Errorf("challenge: create %s: %w", kind, limiterError(err))
		}
	}
	now := storeTime(start)
	rec := &Record{Kind: kind, ID: s.ID, State: e.machine.Initial(), Subject: s.Subject,
		CreatedAt: now, UpdatedAt: now, Data: s.Data}
	if s.TTL > 0 {
		rec.ExpiresAt = storeTime(now.Add(s.TTL))
	}
	sent := ctx.Err() == nil
	if err := e.store.Create(ctx, rec); err != nil {
		return nil, writeError(err, sent)
	}
	e.emit(ctx, rec, []change{{to: rec.State}}, "", s.Origin.Source, now, start)
	return rec, nil
}

// Get returns the record with this ID. A record past its ExpiresAt in a
// non-final state is moved to the machine's expired state first (and that
// change saved), and Get returns ErrExpired, as it does for a record
// already in the expired state. Other errors: ErrNotFound, ErrConflict (the
// record kept changing while it was being expired), or the store's own.
func (e *Engine) Get(ctx context.Context, id string) (*Record, error) {
	return e.Step(ctx, id, nil)
}

// View is [Engine.Get] for a caller that only reads the record, as one
// that decodes its Data into a view of its own does: fn is called with the
// record as the store lends it (see [Viewer]), without the copy Get
// makes, and View returns fn's error as it is. rec is valid only while fn
// runs: fn must not change it or keep it, or rec.Data, or a slice of it;
// nor may fn use the engine or its store. A record that Get would answer
// with ErrExpired (expiring it first, if it is past ExpiresAt in a
// non-final state) is answered the same way, and fn is not called; so are
// ErrNotFound and the store's failures. fn is called after those checks,
// so a flow that must answer another tenant's expired challenge as not
// found uses [Engine.StepGuarded]. A tracer sees View as a Get.
func (e *Engine) View(ctx context.Context, id string, fn func(rec *Record) error) error {
	if e.tracer == nil {
		return e.view(ctx, id, fn, nil)
	}
	return e.traced(ctx, opGet, func(ctx context.Context, res *OperationResult) error {
		return e.view(ctx, id, fn, res)
	})
}

// traced runs an operation of the engine as the tracer's operation name:
// the operation ends with run's outcome, or as an error if run panics.
func (e *Engine) traced(ctx context.Context, name string, run func(context.Context, *OperationResult) error) error {
	ctx, end := e.tracer.StartOperation(ctx, Operation{Kind: e.machine.Name(), Name: name})
	var res OperationResult
	ended := false
	defer func() {
		if !ended { // run panicked: the operation still ends, as an error
			end(OperationResult{Outcome: OutcomeError, Err: errors.New("challenge: " + name + " panicked")})
		}
	}()
	err := run(ctx, &res)
	res.Err = err
	switch {
	case err == nil:
		res.Outcome = OutcomeOK
	case res.Outcome == "":
		res.Outcome = OutcomeError
	}
	ended = true
	end(res)
	return err
}

// view is View; res, if not nil, is given the record's state.
func (e *Engine) view(ctx context.Context, id string, fn func(rec *Record) error, res *OperationResult) error {
	kind := e.machine.Name()
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("challenge: %s: id of %d bytes: %w", kind, len(id), ErrNotFound)
	}
	v := &engineView{engine: e, fn: fn, res: res, now: storeTime(e.clock.Now())}
	err := View(ctx, e.store, kind, id, v.lend)
	switch {
	case v.lent:
		return err
	case v.expired != nil:
		return v.expired
	case err != nil:
		return readError(err)
	case v.expire:
		rec, err := e.step(ctx, id, nil, nil, res)
		if err != nil {
			return err
		}
		return fn(rec) // no longer expired: another request changed it meanwhile
	}
	return nil
}

// engineView is one call of [Engine.View]: what its function, lend, was
// given and found (in one allocation, rather than one per variable a
// closure would capture).
type engineView struct {
	engine  *Engine
	fn      func(*Record) error
	res     *OperationResult
	now     time.Time
	lent    bool  // fn was called
	expire  bool  // the record is to be expired, as Get expires it
	expired error // the record is in the expired state
}

func (v *engineView) lend(rec *Record) error {
	e := v.engine
	if v.res != nil {
		v.res.From, v.res.To = rec.State, rec.State
	}
	switch {
	case rec.State == e.machine.expired && rec.State != "":
		v.expired = e.expiredErr(rec)
		return v.expired
	case rec.Expired(v.now) && !e.machine.IsFinal(rec.State):
		v.expire = true // saved as Get saves it, once the store's record is no longer lent
		return nil
	}
	v.lent = true
	return v.fn(rec)
}

// Step runs one request against the record with this ID:
//
//  1. load it (one store read);
//  2. if it is past ExpiresAt in a non-final state, expire it as [Engine.Get]
//     does and return ErrExpired without calling fn;
//  3. call fn, which inspects the record and changes it through tx;
//  4. if fn returned nil and changed anything, save it with compare-and-set
//     (one store write), then log and observe each change;
//  5. return the record as saved.
//
// If fn returns an error, its changes are discarded and Step returns the
// error as is, with one exception: a failed attempt recorded with
// [Tx.Fail] is saved (with everything fn changed before it) and then fn's
// error is returned, so that wrong answers always count.
//
// If the save loses a race with another writer, Step reads the record again
// and calls fn once more on the fresh record, so that fn can answer a retry
// of a request that already won with the winner's outcome, or refuse
// precisely in the new state. fn must therefore derive everything from tx
// and may be called twice. A second lost race returns ErrConflict.
//
// An attempt charged with [Tx.Attempt] is charged once however often fn
// runs, and refunded when Step returns unless a run recorded a failure
// with [Tx.Fail]. What fn registers with [Tx.AfterSave] runs once, after
// the save of the run that registered it.
//
// When the store fails, Step returns ErrUnavailable (a read failed) or
// ErrOutcomeUnknown (a write may or may not have been applied), wrapping
// the store's error.
func (e *Engine) Step(ctx context.Context, id string, fn func(tx *Tx) error) (*Record, error) {
	return e.StepGuarded(ctx, id, nil, fn)
}

// StepGuarded is [Engine.Step] with a guard: guard, if not nil, is called
// with every record Step loads, before anything else (expiry included),
// and an error it returns is returned as it is with nothing changed.
// Flows use it to keep a tenant's challenges from every other tenant:
// a guard answering ErrNotFound makes another tenant's challenge, expired
// or not, indistinguishable from one that does not exist. guard must not
// change the record.
func (e *Engine) StepGuarded(ctx context.Context, id string, guard func(*Record) error, fn func(tx *Tx) error) (*Record, error) {
	if e.tracer == nil {
		return e.step(ctx, id, guard, fn, nil)
	}
	name := opStep
	if fn == nil {
		name = opGet
	}
	var rec *Record
	err := e.traced(ctx, name, func(ctx context.Context, res *OperationResult) error {
		var err error
		rec, err = e.step(ctx, id, guard, fn, res)
		return err
	})
	return rec, err
}

// step is StepGuarded; res, if not nil, is given the states and event of
// the last run, and OutcomeFailed if that run saved a failed attempt.
func (e *Engine) step(ctx context.Context, id string, guard func(*Record) error, fn func(tx *Tx) error, res *OperationResult) (*Record, error) {
	kind := e.machine.Name()
	if id == "" || len(id) > MaxIDLength {
		return nil, fmt.Errorf("challenge: %s: id of %d bytes: %w", kind, len(id), ErrNotFound)
	}
	start := e.clock.Now()
	// One Tx serves every run, so that the attempt it charged is charged
	// once and settled once.
	tx := &Tx{engine: e, ctx: ctx, now: storeTime(start)}
	for try := 0; ; try++ {
		rec, err := e.store.Get(ctx, kind, id)
		if err != nil {
			e.settle(ctx, &tx.charge, false)
			return nil, readError(err)
		}
		if guard != nil {
			if err := guard(rec); err != nil {
				e.settle(ctx, &tx.charge, false)
				return nil, err
			}
		}
		tx.reset(rec)
		from := rec.State
		out, err := e.decide(ctx, tx, start, fn)
		if try == 0 && errors.Is(err, ErrConflict) {
			continue
		}
		if res != nil {
			res.From, res.To = from, from
			if tx.saved {
				res.To = tx.rec.State
				for _, ch := range tx.changes {
					if ch.event != "" {
						res.Event = ch.event
					}
				}
				if tx.failed {
					res.Outcome = OutcomeFailed
				}
			}
		}
		e.settle(ctx, &tx.charge, tx.failed)
		return out, err
	}
}

// stepCharge is the attempt one Step has charged to the Limiter, kept
// across the runs of its function.
type stepCharge struct {
	attempt Attempt
	charged bool
	// failed is set when any run recorded a failure with the charge: a
	// wrong answer was checked, and stays counted even if its run then
	// lost a race and the run after it evaluated nothing.
	failed bool
}

// settle refunds the step's charge unless a run recorded a failure with
// it.
func (e *Engine) settle(ctx context.Context, c *stepCharge, failed bool) {
	if c.charged && !c.failed && !failed {
		e.refund(ctx, c.attempt)
	}
	c.charged = false
}

// refund gives an attempt's charge back, even if the request's context has
// ended: the charge belongs to the answer, not to the connection.
func (e *Engine) refund(ctx context.Context, a Attempt) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
		defer cancel()
	}
	if err := e.limiter.Refund(ctx, a); err != nil {
		// Failing closed: the attempt stays counted as a failure.
		e.log.Warn().Err(err).Str("kind", a.Kind).Msg("limiter did not take back a right answer's charge")
	}
}

// limiterError classifies a Limiter's error: a refusal as it is, anything
// else as ErrUnavailable.
func limiterError(err error) error {
	if errors.Is(err, ErrThrottled) || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: limiter: %w", ErrUnavailable, err)
}

// ResetLimits forgets the failures the engine's Limiter holds against
// subject in this engine's kind, from every source: what an application
// calls once it has established who the user is by other means. Without a
// Limiter it does nothing.
func (e *Engine) ResetLimits(ctx context.Context, subject string) error {
	if e.limiter == nil {
		return nil
	}
	if err := e.limiter.Reset(ctx, e.machine.Name(), subject); err != nil {
		return fmt.Errorf("challenge: %s: reset limits: %w", e.machine.Name(), limiterError(err))
	}
	return nil
}

// decide runs fn once on tx's record, then saves what it changed.
func (e *Engine) decide(ctx context.Context, tx *Tx, start time.Time, fn func(*Tx) error) (*Record, error) {
	rec := tx.rec
	if rec.State == e.machine.expired && rec.State != "" {
		return nil, e.expiredErr(rec)
	}
	if rec.Expired(tx.now) && !e.machine.IsFinal(rec.State) {
		if e.machine.def.Expire != "" {
			if err := tx.Fire(e.machine.def.Expire); err != nil {
				return nil, err
			}
			if err := e.save(ctx, tx, start); err != nil {
				return nil, err
			}
		}
		return nil, e.expiredErr(rec)
	}
	if fn != nil {
		if err := fn(tx); err != nil {
			if !tx.failed {
				return nil, err
			}
			if serr := e.save(ctx, tx, start); serr != nil {
				return nil, serr
			}
			if aerr := e.afterSave(ctx, tx); aerr != nil {
				return nil, aerr
			}
			return nil, err
		}
	}
	if tx.dirty {
		if err := e.save(ctx, tx, start); err != nil {
			return nil, err
		}
	}
	if err := e.afterSave(ctx, tx); err != nil {
		return nil, err
	}
	return tx.rec, nil
}

// afterSave runs the functions the saved run registered with
// [Tx.AfterSave].
func (e *Engine) afterSave(ctx context.Context, tx *Tx) error {
	for _, fn := range tx.after {
		if err := fn(ctx); err != nil {
			return &AfterSaveError{Record: tx.rec, Err: err}
		}
	}
	return nil
}

func (e *Engine) expiredErr(rec *Record) error {
	return fmt.Errorf("challenge: %s %s: %w", rec.Kind, rec.ID, ErrExpired)
}

func (e *Engine) save(ctx context.Context, tx *Tx, start time.Time) error {
	tx.rec.UpdatedAt = tx.now
	sent := ctx.Err() == nil
	if err := e.store.Update(ctx, tx.rec); err != nil {
		return writeError(err, sent)
	}
	tx.saved = true
	e.emit(ctx, tx.rec, tx.changes, tx.scheme, tx.source, tx.now, start)
	return nil
}

// emit logs and observes changes to rec that have been saved at time at,
// asked for from source (empty if unknown).
func (e *Engine) emit(ctx context.Context, rec *Record, changes []change, scheme, source string, at, start time.Time) {
	if len(changes) == 0 {
		return
	}
	took := e.clock.Now().Sub(start)
	var subjectHash string
	for _, ch := range changes {
		level, msg := zerolog.InfoLevel, "challenge transition"
		switch {
		case ch.from == "":
			msg = "challenge created"
		case ch.failed && ch.event == "":
			level, msg = zerolog.WarnLevel, "challenge attempt failed"
		case ch.failed:
			level, msg = zerolog.WarnLevel, "challenge locked"
		}
		if ev := e.log.WithLevel(level); ev != nil {
			ev = ev.Str("kind", rec.Kind).Str("id", rec.ID)
			if len(e.hashKey) > 0 && rec.Subject != "" { // one hash for every subjectless record would link them
				if subjectHash == "" {
					subjectHash = SubjectHash(e.hashKey, rec.Subject)
				}
				ev = ev.Str("subject_hash", subjectHash)
			}
			if ch.event != "" {
				ev = ev.Str("event", string(ch.event)).Str("from", string(ch.from))
			}
			ev = ev.Str("to", string(ch.to)).Int("attempts", ch.attempts)
			if ch.reason != "" {
				ev = ev.Str("reason", ch.reason)
			}
			ev.Dur("duration", took).Msg(msg)
		}
		if e.observer != nil {
			if scheme != "" {
				source, scheme = scheme+":"+source, "" // joined once, for every change of the step
			}
			e.observer.Observe(ctx, Change{Kind: rec.Kind, ID: rec.ID, Subject: rec.Subject, Source: source,
				Event: ch.event, From: ch.from, To: ch.to,
				Attempts: ch.attempts, Failed: ch.failed, Reason: ch.reason, At: at, Duration: took})
		}
	}
}

// SubjectHash returns the keyed hash of subject that the engine logs as
// subject_hash when [EngineOptions.LogSubjectKey] is key: the first 16
// hex digits of HMAC-SHA256(key, subject). An operator holding the key
// computes it to find one user's lines.
func SubjectHash(key []byte, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))[:16]
}
