package tracing_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/challengekit/challengekit/adapters/tracing"
	"github.com/challengekit/challengekit/challenge"
)

// Trace an engine and its store. In a server, the TracerProvider exports
// to your collector, and Tracer.Handler wraps the mux as well.
func Example() {
	spans := tracetest.NewInMemoryExporter() // your exporter
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())

	tr := tracing.New(tp)
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	machine, _ := challenge.NewMachine(challenge.Definition{Name: "door", Initial: "closed",
		Transitions: []challenge.Transition{{Event: "open", From: []challenge.State{"closed"}, To: "open"}}})
	engine, _ := challenge.NewEngine(tr.Store(mem, "memory"), machine, challenge.EngineOptions{Tracer: tr})

	ctx := context.Background()
	rec, _ := engine.Create(ctx, challenge.Start{})
	_, _ = engine.Step(ctx, rec.ID, func(tx *challenge.Tx) error { return tx.Fire("open") })

	for _, s := range spans.GetSpans() { // in the order they ended
		fmt.Print(s.Name)
		for _, kv := range s.Attributes {
			if kv.Key == tracing.OutcomeKey || kv.Key == tracing.EventKey {
				fmt.Printf(" %s=%s", kv.Key, kv.Value.String())
			}
		}
		fmt.Println()
	}
	// Output:
	// store.create
	// challenge.create challenge.outcome=ok
	// store.get
	// store.update
	// challenge.step challenge.outcome=ok challenge.event=open
}
