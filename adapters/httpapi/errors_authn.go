package httpapi

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// authnAPIResponse is the factor-transaction endpoints' error body.
type authnAPIResponse struct {
	XMLName    xml.Name        `json:"-" xml:"AuthnAPIResponse"`
	StatusInfo authnStatusInfo `json:"statusInfo" xml:"statusInfo"`
}

type authnStatusInfo struct {
	Code    string `json:"code" xml:"code"`
	Message string `json:"message" xml:"message"`
	Status  string `json:"status" xml:"status"`
}

// authnErrors is the one table from errors to status, code and message,
// checked in order with errors.Is. An expired transaction is not here: it
// is answered with the transaction's own response (status failed, code
// expired).
var authnErrors = []struct {
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
	{errNoSuchPath, http.StatusNotFound, "NOT_FOUND", "No such resource."},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource."},
	{errNotAcceptable, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "Accept must allow application/json or application/xml."},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "Request body is too large."},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json or application/xml."},
	{challenge.ErrOutcomeUnknown, http.StatusServiceUnavailable, "OUTCOME_UNKNOWN", "The change may or may not have been saved. The request is safe to repeat with the same nonce: its repeat answers the outcome."},
	{challenge.ErrUnavailable, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is unavailable; nothing was changed. Retry later."},
}

func authnBody(err error, errorID string) (int, authnAPIResponse) {
	invalid := func(msg string) (int, authnAPIResponse) {
		return http.StatusBadRequest, authnAPIResponse{StatusInfo: authnStatusInfo{Code: "INVALID_REQUEST", Message: msg, Status: "error"}}
	}
	var in *inputError
	var fe *challenge.FieldError
	switch {
	case errors.As(err, &in) && in.Field != "":
		return invalid(in.Field + ": " + in.Message)
	case errors.As(err, &in):
		return invalid(in.Message)
	case errors.As(err, &fe):
		return invalid(fe.Field + ": " + fe.Message)
	}
	for _, row := range authnErrors {
		if errors.Is(err, row.err) {
			return row.status, authnAPIResponse{StatusInfo: authnStatusInfo{Code: row.code, Message: row.message, Status: "error"}}
		}
	}
	return http.StatusInternalServerError, authnAPIResponse{StatusInfo: authnStatusInfo{Code: "INTERNAL_ERROR",
		Message: "An unexpected error occurred (reference " + errorID + ").", Status: "error"}}
}

// fail answers err and logs it with its cause; never the request's nonce
// or answer.
func (h *Authn) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := newErrorID()
	mt, nerr := responseMediaType(r, authnMediaTypes)
	if nerr != nil {
		mt = "application/json"
	}
	var status int
	var body any
	if errors.Is(err, challenge.ErrExpired) {
		// An expired transaction answers status failed, code expired, with 401.
		status = http.StatusUnauthorized
		wire := authnWire(&authn.Response{CorrelationID: correlationIDOf(err), State: authn.StateExpired})
		wire.StatusInfo.Message = "The transaction has expired."
		body = wire
	} else {
		var b authnAPIResponse
		status, b = authnBody(err, id)
		body = b
	}
	ev := h.log.Warn()
	if status >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", status).Str("method", r.Method).Str("route", r.Pattern).
		AnErr("cause", err).Msg("authn request refused")
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "POST, PUT")
	}
	setRetryAfter(w, err, status)
	_ = writeAs(w, mt, status, body)
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
