package tracing_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/challengekit/challengekit/adapters/tracing"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/storetest"
)

// The traced store keeps the Store contract, View included, whether the
// store it wraps has a View of its own or not.
func TestTheTracedStorePassesTheConformanceSuite(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	storetest.RunWrapper(t, func(t *testing.T, next challenge.Store) challenge.Store {
		return tracing.New(tp).Store(next, "memory")
	})
}

// TestAViewIsOneSpanOfTheRead: the span ends when the record is lent, and
// an error of the caller's function is not the store's.
func TestAViewIsOneSpanOfTheRead(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	s := tracing.New(tp).Store(mem, "memory")
	ctx := context.Background()
	if err := s.Create(ctx, &challenge.Record{Kind: "k", ID: "a", State: "s", Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	exp.Reset()
	bad := errors.New("undecodable")
	if err := s.View(ctx, "k", "a", func(*challenge.Record) error { return bad }); err != bad {
		t.Fatalf("View = %v; want fn's error as it is", err)
	}
	if err := s.View(ctx, "k", "missing", func(*challenge.Record) error { return nil }); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("View(missing) = %v", err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 || spans[0].Name != "store.view" || spans[1].Name != "store.view" {
		t.Fatalf("spans %v; want two store.view", spans)
	}
	if spans[0].Status.Code == codes.Error || len(spans[0].Attributes) == 0 {
		t.Errorf("the span of a read that worked: status %v, attributes %v", spans[0].Status, spans[0].Attributes)
	}
	wantAttrs(t, spans[1], map[string]any{"error.type": "not_found"})
}

// TestAViewOfAnUnchangedRecordIsOneSpan: a ViewChanged that finds the
// record unchanged calls no fn, and makes a span of its read all the
// same.
func TestAViewOfAnUnchangedRecordIsOneSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	s := tracing.New(tp).Store(mem, "memory")
	ctx := context.Background()
	if err := s.Create(ctx, &challenge.Record{Kind: "k", ID: "a", State: "s"}); err != nil {
		t.Fatal(err)
	}
	stamp, err := s.ViewChanged(ctx, "k", "a", "", func(*challenge.Record) error { return nil })
	if err != nil || stamp == "" {
		t.Fatalf("ViewChanged = %q, %v; want the memory store's stamp", stamp, err)
	}
	exp.Reset()
	if again, err := s.ViewChanged(ctx, "k", "a", stamp, func(*challenge.Record) error {
		t.Fatal("fn called for an unchanged record")
		return nil
	}); err != nil || again != stamp {
		t.Fatalf("ViewChanged(unchanged) = %q, %v; want %q", again, err, stamp)
	}
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].Name != "store.view" || spans[0].Status.Code == codes.Error {
		t.Fatalf("spans %v; want one store.view that worked", spans)
	}
}
