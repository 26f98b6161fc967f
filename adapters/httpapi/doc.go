// Package httpapi is the front door to challengekit's HTTP adapters: Mount
// puts any of the three challenge APIs on an existing *http.ServeMux in a
// few lines. It has no routes or handlers of its own; each API is served
// by its own package, which can also be mounted alone:
//
//   - adapters/psd2http: the PSD2 consent challenge,
//     PATCH /v1/psd2/challenges/{psd2_challenge_id} and its neighbours;
//   - adapters/authnhttp: factor transactions, POST and PUT /authn/v1;
//   - adapters/questionshttp: security questions,
//     /api/users/{UserID}/challenges and /api/businesses/{BusinessID}/challenges.
//
// Every handler decodes and validates the request, calls one service
// method, maps the error to the endpoint's documented envelope through one
// table, and encodes the answer. Business rules live in the flow packages,
// never in the adapters. Every error is answered in the endpoint's
// envelope and logged with its cause and a fresh error ID that also
// appears in the body, so support can find the log line from what a
// client reports; internal error text never reaches a client, and secrets
// never reach a log line.
//
// Request bodies are read strictly, so that no two parsers read one two
// ways: a repeated member or element, invalid UTF-8 and an out-of-range
// number are each a 400 naming the field. The handler Mount returns
// answers every spelling of a path under a mounted API in that API's
// envelope. A store that fails answers 503: the code says whether the
// request may have changed anything, and every write is safe to repeat.
package httpapi
