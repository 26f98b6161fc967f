// Package httpapi serves challengekit's challenge APIs over net/http. Each
// flow mounts on its own into any existing *http.ServeMux (Go 1.22 method
// and path patterns), so a server can expose one flow or all of them.
//
// A handler decodes and validates the request, calls one service method,
// maps the error to the endpoint's documented envelope through one table,
// and encodes the answer. Business rules live in the flow packages, never
// here. Every error is answered in the endpoint's envelope and logged with
// its cause and a fresh error ID that also appears in the body, so support
// can find the log line from what a client reports; internal error text
// never reaches a client, and secrets never reach a log line.
package httpapi
