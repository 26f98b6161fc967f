package challenge

import "context"

// Tracer follows the [Engine]'s operations for distributed tracing. The
// engine calls StartOperation as a Create, Step or Get begins, runs the
// operation (its store calls, the flow's function, and what that function
// registers with [Tx.AfterSave]) in the context StartOperation returns,
// and calls the function it returned exactly once, with how the operation
// ended.
//
// The engine hands a Tracer no record ID, subject, data or error message,
// only the kind, the states, the event and the outcome, so that a trace
// never carries a secret or a person. A Tracer must be safe for concurrent
// use. Package adapters/tracing implements it with OpenTelemetry.
type Tracer interface {
	StartOperation(ctx context.Context, op Operation) (context.Context, func(OperationResult))
}

// Operation names an engine operation as it begins.
type Operation struct {
	// Kind is the engine's kind of challenge (its machine's name).
	Kind string
	// Name is "create", "step", or "get" (a step that only reads).
	Name string
}

// Outcome is how an engine operation ended.
type Outcome string

// The outcomes of an engine operation.
const (
	// OutcomeOK: the operation succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeFailed: the operation saved a failed attempt (a wrong
	// answer), and returned the flow's error.
	OutcomeFailed Outcome = "failed"
	// OutcomeError: the operation returned an error without saving a
	// failed attempt: a refusal, an expired challenge, a store's failure.
	OutcomeError Outcome = "error"
)

// OperationResult describes how an engine operation ended.
type OperationResult struct {
	Outcome Outcome
	// From is the record's state as loaded; empty for a create, or when
	// nothing was loaded.
	From State
	// To is the record's state after the operation: as saved, or as
	// loaded when nothing was saved.
	To State
	// Event is the last event the operation fired and saved; empty if
	// none.
	Event Event
	// Err is the error the operation returned, nil for OutcomeOK. Its
	// message may name the record; classify it with errors.Is rather
	// than exporting the message.
	Err error
}

// Names of engine operations, as in [Operation.Name].
const (
	opCreate = "create"
	opStep   = "step"
	opGet    = "get"
)
