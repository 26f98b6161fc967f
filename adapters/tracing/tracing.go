package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/challengekit/challengekit/challenge"
)

// ScopeName is the instrumentation scope of the package's spans.
const ScopeName = "github.com/challengekit/challengekit/adapters/tracing"

// The attributes of the package's spans, besides OpenTelemetry's
// semantic conventions (http.*, error.type).
const (
	// KindKey is the kind of challenge (psd2, authn, …).
	KindKey = attribute.Key("challenge.kind")
	// OperationKey is the engine's operation: create, step or get.
	OperationKey = attribute.Key("challenge.operation")
	// EventKey is the last event an operation fired and saved.
	EventKey = attribute.Key("challenge.event")
	// FromKey and ToKey are the record's state before and after.
	FromKey = attribute.Key("challenge.state.from")
	ToKey   = attribute.Key("challenge.state.to")
	// OutcomeKey is ok, failed (a wrong answer was saved) or error.
	OutcomeKey = attribute.Key("challenge.outcome")
	// BackendKey is the store's backend (memory, redis, postgres).
	BackendKey = attribute.Key("challenge.store.backend")
)

// Tracer makes the package's spans with one TracerProvider. It is a
// [challenge.Tracer], and wraps HTTP handlers and stores. It is safe for
// concurrent use.
type Tracer struct {
	tracer trace.Tracer
}

var _ challenge.Tracer = (*Tracer)(nil)

// New returns a Tracer whose spans go to tp; nil means OpenTelemetry's
// no-op provider, which records nothing.
func New(tp trace.TracerProvider) *Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Tracer{tracer: tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))}
}

// StartOperation starts the span of an engine operation, named
// "challenge.create", "challenge.step" or "challenge.get", as a child of
// the span in ctx. Its attributes are the kind and operation, and, as it
// ends, the event, the states and the outcome; an error sets the span's
// status and error.type.
func (t *Tracer) StartOperation(ctx context.Context, op challenge.Operation) (context.Context, func(challenge.OperationResult)) {
	ctx, span := t.tracer.Start(ctx, "challenge."+op.Name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KindKey.String(op.Kind), OperationKey.String(op.Name)))
	return ctx, func(r challenge.OperationResult) {
		attrs := make([]attribute.KeyValue, 0, 5)
		attrs = append(attrs, OutcomeKey.String(string(r.Outcome)))
		if r.Event != "" {
			attrs = append(attrs, EventKey.String(string(r.Event)))
		}
		if r.From != "" {
			attrs = append(attrs, FromKey.String(string(r.From)))
		}
		if r.To != "" {
			attrs = append(attrs, ToKey.String(string(r.To)))
		}
		if r.Err != nil {
			class := ErrorType(r.Err)
			attrs = append(attrs, semconv.ErrorTypeKey.String(class))
			// A wrong answer or a refusal is the flow working; only
			// what the service could not do is an error of the span.
			if r.Outcome == challenge.OutcomeError && serverFault(r.Err) {
				span.SetStatus(codes.Error, class)
			}
		}
		span.SetAttributes(attrs...)
		span.End()
	}
}

// ErrorType names err's class for the error.type attribute, from the
// challenge package's sentinels ("not_found", "expired", "unavailable",
// …), "canceled" or "deadline_exceeded" for a context's end, or "_OTHER".
// It never returns err's message, which may name a record.
func ErrorType(err error) string {
	for _, c := range errorClasses {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	var fe *challenge.FieldError
	if errors.As(err, &fe) {
		return "invalid_field"
	}
	var ae *challenge.AfterSaveError
	if errors.As(err, &ae) {
		return "after_save"
	}
	return "_OTHER"
}

// errorClasses are checked in order: the most specific first (a locked
// challenge's error also matches the flow's cause).
var errorClasses = []struct {
	err  error
	name string
}{
	{challenge.ErrOutcomeUnknown, "outcome_unknown"},
	{challenge.ErrUnavailable, "unavailable"},
	{challenge.ErrThrottled, "throttled"},
	{challenge.ErrLocked, "locked"},
	{challenge.ErrExpired, "expired"},
	{challenge.ErrFinal, "final"},
	{challenge.ErrInvalidTransition, "invalid_transition"},
	{challenge.ErrStaleNonce, "stale_nonce"},
	{challenge.ErrNotFound, "not_found"},
	{challenge.ErrAlreadyExists, "already_exists"},
	{challenge.ErrConflict, "conflict"},
	{challenge.ErrInvalidRecord, "invalid_record"},
	{challenge.ErrInvalidRequest, "invalid_request"},
	{context.DeadlineExceeded, "deadline_exceeded"},
	{context.Canceled, "canceled"},
}

// serverFault reports whether err is the service's failure rather than an
// answer to the request.
func serverFault(err error) bool {
	switch ErrorType(err) {
	case "outcome_unknown", "unavailable", "deadline_exceeded", "canceled", "after_save", "_OTHER", "invalid_record":
		return true
	}
	return false
}
