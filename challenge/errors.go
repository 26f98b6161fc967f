package challenge

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the core returns wraps one of these (or a
// context error, or a store's own I/O error), so callers branch with
// [errors.Is]. Messages never contain secrets.
var (
	// ErrNotFound: no record with that kind and ID, or its retention window
	// has passed.
	ErrNotFound = errors.New("challenge: not found")
	// ErrAlreadyExists: Create found a live record with the same kind and ID.
	ErrAlreadyExists = errors.New("challenge: already exists")
	// ErrConflict: the record changed since it was read (compare-and-set on
	// Version failed).
	ErrConflict = errors.New("challenge: version conflict")
	// ErrInvalidRecord: a record given to a store lacks its Kind or ID.
	ErrInvalidRecord = errors.New("challenge: invalid record")
	// ErrExpired: the challenge is past its ExpiresAt.
	ErrExpired = errors.New("challenge: expired")
	// ErrInvalidTransition: the event is not allowed in the record's state.
	// It is always carried by a [*TransitionError].
	ErrInvalidTransition = errors.New("challenge: invalid transition")
	// ErrFinal: the challenge is in a final state and accepts no operation.
	// It is carried by a [*TransitionError] whose From state is final.
	ErrFinal = errors.New("challenge: already completed")
	// ErrLocked: the challenge's attempt budget is exhausted.
	ErrLocked = errors.New("challenge: attempts exhausted")
	// ErrStaleNonce: a flow that rotates nonces was shown one that is not
	// the latest. Flows return it; the core defines it so that every flow's
	// refusals are matched the same way.
	ErrStaleNonce = errors.New("challenge: stale nonce")
	// ErrInvalidRequest: a request field is missing or wrong. It is always
	// carried by a [*FieldError] naming the field.
	ErrInvalidRequest = errors.New("challenge: invalid request")
	// ErrUnavailable: the store or the limiter's backend failed before
	// anything was changed (a read failed, or a write was refused before
	// it was sent). The request may be repeated once the backend is back.
	ErrUnavailable = errors.New("challenge: store unavailable")
	// ErrOutcomeUnknown: a write failed in a way that leaves it unknown
	// whether it took effect (a timeout, a connection dropped mid-write).
	// The steps of the built-in flows are safe to repeat: the repeat
	// answers the true outcome.
	ErrOutcomeUnknown = errors.New("challenge: outcome unknown; the request is safe to repeat")
)

// readError classifies a store's read error: its documented refusals as
// they are, any other failure as ErrUnavailable.
func readError(err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// writeError classifies a store's write error: its documented refusals,
// and failures the store reports as ErrUnavailable, as they are; any other
// failure as ErrOutcomeUnknown, because the write may have been applied.
// sent is false when the context was done before the write was asked for,
// so nothing was written.
func writeError(err error, sent bool) error {
	switch {
	case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound), errors.Is(err, ErrAlreadyExists),
		errors.Is(err, ErrInvalidRecord), errors.Is(err, ErrUnavailable):
		return err
	case !sent:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// FieldError reports a request field that is missing or wrong, as flows
// return it and adapters answer it. It matches [ErrInvalidRequest].
type FieldError struct {
	Field   string // the wire name, e.g. "person_id" or "challengedata.factorKey"
	Message string // worded to follow the name: "is required"
}

func (e *FieldError) Error() string { return "challenge: " + e.Field + " " + e.Message }

// Is makes errors.Is(err, ErrInvalidRequest) work on a *FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidRequest }

// AfterSaveError reports that a function registered with [Tx.AfterSave]
// failed. The step's changes were saved: Record is the record as saved.
// It unwraps to the function's error.
type AfterSaveError struct {
	Record *Record
	Err    error
}

func (e *AfterSaveError) Error() string {
	return fmt.Sprintf("challenge: %s %s saved, then: %v", e.Record.Kind, e.Record.ID, e.Err)
}

func (e *AfterSaveError) Unwrap() error { return e.Err }

// TransitionError reports an event that a [Machine] does not allow in a
// state. It matches [ErrInvalidTransition] with [errors.Is], and also
// [ErrFinal] when From is a final state and [ErrLocked] when the challenge
// is final because its attempt budget ran out.
type TransitionError struct {
	Machine string
	From    State
	Event   Event
	// Final is true when From has no outgoing transitions.
	Final bool
	// Locked is true when From is the machine's lock state and the record's
	// attempt budget is exhausted.
	Locked bool
}

func (e *TransitionError) Error() string {
	switch {
	case e.Locked:
		return fmt.Sprintf("challenge: %s: event %q refused: attempts exhausted in state %q", e.Machine, e.Event, e.From)
	case e.Final:
		return fmt.Sprintf("challenge: %s: event %q refused: state %q is final", e.Machine, e.Event, e.From)
	default:
		return fmt.Sprintf("challenge: %s: event %q not allowed in state %q", e.Machine, e.Event, e.From)
	}
}

// Is makes errors.Is(err, ErrInvalidTransition), ErrFinal and ErrLocked
// work on a *TransitionError.
func (e *TransitionError) Is(target error) bool {
	switch target {
	case ErrInvalidTransition:
		return true
	case ErrFinal:
		return e.Final
	case ErrLocked:
		return e.Locked
	}
	return false
}
