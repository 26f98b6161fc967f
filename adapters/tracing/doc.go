// Package tracing traces challengekit with OpenTelemetry: a span per HTTP
// request ([Tracer.Handler]), per engine operation (a [Tracer] is a
// [challenge.Tracer]: set it as challenge.EngineOptions.Tracer) and per
// store call ([Tracer.Store]). Within one request the spans nest: the
// HTTP request's span is the parent of the engine's, whose children are
// the store calls the engine made.
//
// Spans carry what a trace reader needs and nothing a secret or a person
// can be read from: the kind of challenge, the event, the states and the
// outcome; the HTTP method, route pattern and status; the store's
// backend. Never a record ID, a subject, a path, a token, a nonce, an
// answer or an error message; errors are named by their class in
// error.type (not_found, conflict, expired, …).
//
// The package exports nothing itself: spans go to the TracerProvider
// given to [New], and a nil provider is OpenTelemetry's no-op.
package tracing
