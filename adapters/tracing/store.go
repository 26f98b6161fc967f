package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/challengekit/challengekit/challenge"
)

// Store is a [challenge.Store] whose calls each make a span: "store.create",
// "store.get", "store.view", "store.update" and "store.delete", children of the span in
// the call's context (the engine's operation), with the kind of record
// and the backend as attributes. It implements [challenge.Pinger] too
// ("store.ping"): it pings the wrapped store if that is a Pinger, and is
// always ready otherwise, as the interface takes a Store that is not;
// [challenge.Viewer], whose calls go to the wrapped store's View, or its
// Get if it has no View (through challenge.View); and
// [challenge.ChangeViewer] ("store.view"), likewise. It is safe for
// concurrent use if the store it wraps is.
type Store struct {
	next    challenge.Store
	tracer  trace.Tracer
	backend attribute.KeyValue
}

var (
	_ challenge.Store        = (*Store)(nil)
	_ challenge.Pinger       = (*Store)(nil)
	_ challenge.Viewer       = (*Store)(nil)
	_ challenge.ChangeViewer = (*Store)(nil)
)

// Ping implements [challenge.Pinger], in a span "store.ping".
func (s *Store) Ping(ctx context.Context) error {
	p, ok := s.next.(challenge.Pinger)
	if !ok {
		return nil
	}
	ctx, span := s.tracer.Start(ctx, "store.ping", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(s.backend))
	err := p.Ping(ctx)
	end(span, err)
	return err
}

// Store wraps store so that its calls are traced; backend names it in the
// spans ("memory", "redis", "postgres").
func (t *Tracer) Store(store challenge.Store, backend string) *Store {
	return &Store{next: store, tracer: t.tracer, backend: BackendKey.String(backend)}
}

// Unwrap returns the store that s traces.
func (s *Store) Unwrap() challenge.Store { return s.next }

func (s *Store) start(ctx context.Context, op, kind string) (context.Context, trace.Span) {
	return s.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.backend, KindKey.String(kind), semconv.DBOperationNameKey.String(op)))
}

// end ends span with err's class. A missing record, a taken ID or a lost
// race are answers of the store, not its failures.
func end(span trace.Span, err error) {
	if err != nil {
		class := ErrorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(class))
		if !errors.Is(err, challenge.ErrNotFound) && !errors.Is(err, challenge.ErrAlreadyExists) &&
			!errors.Is(err, challenge.ErrConflict) {
			span.SetStatus(codes.Error, class)
		}
	}
	span.End()
}

// Create creates rec in the wrapped store, in a span "store.create".
func (s *Store) Create(ctx context.Context, rec *challenge.Record) error {
	ctx, span := s.start(ctx, "create", rec.Kind)
	err := s.next.Create(ctx, rec)
	end(span, err)
	return err
}

// Get reads a record from the wrapped store, in a span "store.get".
func (s *Store) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	ctx, span := s.start(ctx, "get", kind)
	rec, err := s.next.Get(ctx, kind, id)
	end(span, err)
	return rec, err
}

// View reads a record from the wrapped store and lends it to fn, in a
// span "store.view" that ends when fn is called: the read's, not fn's.
func (s *Store) View(ctx context.Context, kind, id string, fn func(rec *challenge.Record) error) error {
	spanCtx, span := s.start(ctx, "view", kind)
	called := false
	err := challenge.View(spanCtx, s.next, kind, id, func(rec *challenge.Record) error {
		called = true
		end(span, nil)
		return fn(rec)
	})
	if !called {
		end(span, err)
	}
	return err
}

// ViewChanged reads a record from the wrapped store unless it is
// unchanged (see [challenge.ChangeViewer]), in a span "store.view" that
// ends when fn is called, or with the read if fn is not.
func (s *Store) ViewChanged(ctx context.Context, kind, id, seen string, fn func(rec *challenge.Record) error) (string, error) {
	spanCtx, span := s.start(ctx, "view", kind)
	called := false
	stamp, err := challenge.ViewChanged(spanCtx, s.next, kind, id, seen, func(rec *challenge.Record) error {
		called = true
		end(span, nil)
		return fn(rec)
	})
	if !called {
		end(span, err)
	}
	return stamp, err
}

// Update updates rec in the wrapped store, in a span "store.update".
func (s *Store) Update(ctx context.Context, rec *challenge.Record) error {
	ctx, span := s.start(ctx, "update", rec.Kind)
	err := s.next.Update(ctx, rec)
	end(span, err)
	return err
}

// Delete deletes a record from the wrapped store, in a span "store.delete".
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	ctx, span := s.start(ctx, "delete", kind)
	err := s.next.Delete(ctx, kind, id)
	end(span, err)
	return err
}
