package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/tracing"
	"github.com/challengekit/challengekit/challenge"
)

// traceFlush bounds how long exit waits for the last spans to be written.
const traceFlush = 5 * time.Second

// startTracing, when -trace-file is set, sets cfg.tracer to export every
// span, as one JSON object a line, to that file. The function it returns
// flushes the spans and closes the file; call it once serving has ended.
func startTracing(cfg *config, log zerolog.Logger) (func(), error) {
	if cfg.traceFile == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(cfg.traceFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("-trace-file: %w", err)
	}
	exp, err := stdouttrace.New(stdouttrace.WithWriter(f))
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("-trace-file: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "challengekit-example-server"))))
	cfg.tracer = tracing.New(tp)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), traceFlush)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn().Err(err).Msg("traces not flushed")
		}
		if err := f.Close(); err != nil {
			log.Warn().Err(err).Msg("trace file not closed")
		}
	}, nil
}

// engineTracer is the engine's Tracer: none unless tracing.
func (c *config) engineTracer() challenge.Tracer {
	if c.tracer == nil {
		return nil
	}
	return c.tracer
}

// tracedStore traces store's calls, if tracing.
func (c *config) tracedStore(store challenge.Store) challenge.Store {
	if c.tracer == nil {
		return store
	}
	return c.tracer.Store(store, c.store)
}

// tracedHandler traces the requests h serves, if tracing. Wrap the
// mounted mux directly, so that spans are named after its routes.
func (c *config) tracedHandler(h http.Handler) http.Handler {
	if c.tracer == nil {
		return h
	}
	return c.tracer.Handler(h)
}
