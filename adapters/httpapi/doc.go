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
//
// Request bodies are read strictly, so that no two parsers read one two
// ways: a repeated member or element, invalid UTF-8 and an out-of-range
// number are each a 400 naming the field. Wrap the server's root handler
// in [StrictPaths] so that every spelling of a path under an API answers
// in that API's envelope. A store that fails answers 503: the code says
// whether the request may have changed anything, and every write is safe
// to repeat.
package httpapi
