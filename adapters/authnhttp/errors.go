package authnhttp

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// errorResponse is the factor-transaction endpoints' error body.
type errorResponse struct {
	XMLName    xml.Name   `json:"-" xml:"AuthnAPIResponse"`
	StatusInfo statusInfo `json:"statusInfo" xml:"statusInfo"`
}

type statusInfo struct {
	Code    string `json:"code" xml:"code"`
	Message string `json:"message" xml:"message"`
	Status  string `json:"status" xml:"status"`
}

// basicChallenge is the WWW-Authenticate header of every 401: agents
// authenticate with HTTP Basic (RFC 7617), their secrets in UTF-8. An
// expired transaction answers 401 too, as the original API does, and
// carries it as well, since RFC 9110 §11.6.1 asks it of every 401.
const basicChallenge = `Basic realm="authn", charset="UTF-8"`

// errorTable is the one table from errors to status, code and message,
// checked in order with errors.Is. An expired transaction is not here: it
// is answered with the transaction's own response (status failed, code
// expired).
var errorTable = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{ErrNoCredentials, http.StatusUnauthorized, "UNAUTHORIZED", "The agent's credentials are missing."},
	{ErrBadCredentials, http.StatusUnauthorized, "UNAUTHORIZED", "The agent's credentials are not valid."},
	{challenge.ErrStaleNonce, http.StatusBadRequest, "INVALID_NONCE", "nonce: is missing, stale or already used"},
	{authn.ErrClosed, http.StatusBadRequest, "TRANSACTION_CLOSED", "The transaction accepts no further operation."},
	{challenge.ErrInvalidTransition, http.StatusBadRequest, "INVALID_REQUEST", "challengeop: not allowed in the transaction's state"},
	{challenge.ErrNotFound, http.StatusNotFound, "NOT_FOUND", "Unknown correlationId."},
	{authn.ErrTooManySends, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many codes or notifications sent; retry later."},
	{challenge.ErrThrottled, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many attempts; retry later."},
	{httpkit.ErrNoSuchPath, http.StatusNotFound, "NOT_FOUND", "No such resource."},
	{httpkit.ErrMethodNotAllowed, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource."},
	{httpkit.ErrNotAcceptable, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "Accept must allow application/json or application/xml."},
	{httpkit.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "Request body is too large."},
	{httpkit.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json or application/xml."},
	{challenge.ErrOutcomeUnknown, http.StatusServiceUnavailable, "OUTCOME_UNKNOWN", "The change may or may not have been saved. The request is safe to repeat with the same nonce: its repeat answers the outcome."},
	{challenge.ErrUnavailable, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is unavailable; nothing was changed. Retry later."},
}

func errorBody(err error, errorID string) (int, errorResponse) {
	invalid := func(msg string) (int, errorResponse) {
		return http.StatusBadRequest, errorResponse{StatusInfo: statusInfo{Code: "INVALID_REQUEST", Message: msg, Status: "error"}}
	}
	var fe *challenge.FieldError
	switch {
	case errors.As(err, &fe) && fe.Field != "":
		return invalid(fe.Field + ": " + fe.Message)
	case errors.As(err, &fe):
		return invalid(fe.Message)
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.status, errorResponse{StatusInfo: statusInfo{Code: row.code, Message: row.message, Status: "error"}}
		}
	}
	return http.StatusInternalServerError, errorResponse{StatusInfo: statusInfo{Code: "INTERNAL_ERROR",
		Message: "An unexpected error occurred (reference " + errorID + ").", Status: "error"}}
}

// fail answers err and logs it with its cause; never the request's nonce
// or answer.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := httpkit.NewErrorID()
	mt, nerr := httpkit.ResponseMediaType(r, mediaTypes)
	if nerr != nil {
		mt = "application/json"
	}
	var status int
	var body any
	if errors.Is(err, challenge.ErrExpired) {
		// An expired transaction answers status failed, code expired, with 401.
		status = http.StatusUnauthorized
		wire := wire(&authn.Response{CorrelationID: correlationIDOf(err), State: authn.StateExpired})
		wire.StatusInfo.Message = "The transaction has expired."
		body = wire
	} else {
		var b errorResponse
		status, b = errorBody(err, id)
		body = b
	}
	ev := h.log.Warn()
	if status >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", status).Str("method", r.Method).Str("route", r.Pattern).
		AnErr("cause", err).Msg("authn request refused")
	httpkit.SetAllow(w, err)
	httpkit.SetRetryAfter(w, err, status)
	httpkit.SetWWWAuthenticate(w, status, basicChallenge)
	_ = httpkit.WriteAs(w, mt, status, body)
}

// expiredError carries the correlationId of an expired transaction to fail.
type expiredError struct {
	correlationID string
	err           error
}

func (e *expiredError) Error() string { return e.err.Error() }
func (e *expiredError) Unwrap() error { return e.err }

func correlationIDOf(err error) string {
	var ee *expiredError
	if errors.As(err, &ee) {
		return ee.correlationID
	}
	return ""
}
