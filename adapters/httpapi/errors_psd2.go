package httpapi

import (
	"errors"
	"net/http"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

// psd2Problem is one row of the PSD2 error envelope: status, code, title
// and the default details.
type psd2Problem struct {
	status  int
	code    string
	title   string
	details string
}

var (
	psd2Invalid      = psd2Problem{400, "invalid_request", "Invalid Request", "Request is invalid"}
	psd2NotOwned     = psd2Problem{400, "invalid_request", "Invalid Request", "The IBAN requested by the TPP does not belong to the specified person."}
	psd2NoToken      = psd2Problem{401, "token_required", "Token Required", "No Authorization header was provided."}
	psd2BadToken     = psd2Problem{401, "invalid_token", "Invalid Token", "The access token is invalid."}
	psd2Expired      = psd2Problem{401, "unauthorized_psd2_challenge", "Unauthorized PSD2 challenge", "Challenge expired."}
	psd2Forbidden    = psd2Problem{403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed."}
	psd2NotFound     = psd2Problem{404, "model_not_found", "Model Not Found", "Model was not found"}
	psd2BadMethod    = psd2Problem{405, "method_not_allowed", "Method Not Allowed", "The method is not allowed on this resource."}
	psd2TooLarge     = psd2Problem{413, "request_too_large", "Request Too Large", "Request body is too large."}
	psd2Throttled    = psd2Problem{429, "too_many_requests", "Too Many Requests", "Too many attempts; retry later."}
	psd2BadMediaType = psd2Problem{415, "unsupported_media_type", "Unsupported Media Type", "Content-Type must be application/json."}
	psd2Generic      = psd2Problem{500, "generic_error", "Generic Error", "An unexpected error occurred."}
	psd2Unavailable  = psd2Problem{503, "service_unavailable", "Service Unavailable", "The service is unavailable; nothing was changed. Retry later."}
	psd2Unknown      = psd2Problem{503, "outcome_unknown", "Outcome Unknown", "The change may or may not have been saved. The request is safe to repeat: its repeat answers the outcome."}
)

// psd2Errors is the one table from errors to the PSD2 envelope, checked in
// order with errors.Is. Order matters where an error matches two rows: an
// IBAN mismatch that exhausts the budget also matches challenge.ErrLocked
// and must still answer 400.
var psd2Errors = []struct {
	err     error
	problem psd2Problem
}{
	{psd2.ErrIBANNotOwned, psd2NotOwned},
	{ErrNoCredentials, psd2NoToken},
	{ErrBadCredentials, psd2BadToken},
	{challenge.ErrExpired, psd2Expired},
	{challenge.ErrNotFound, psd2NotFound},
	{errNoSuchPath, psd2NotFound},
	{errWrongCaller, psd2Forbidden},
	{psd2.ErrOtherPerson, psd2Forbidden},
	{challenge.ErrInvalidTransition, psd2Forbidden}, // includes final and locked challenges
	{challenge.ErrThrottled, psd2Throttled},
	{errMethodNotAllowed, psd2BadMethod},
	{errBodyTooLarge, psd2TooLarge},
	{errUnsupportedMediaType, psd2BadMediaType},
	{challenge.ErrOutcomeUnknown, psd2Unknown},
	{challenge.ErrUnavailable, psd2Unavailable},
}

// psd2ProblemFor maps err to its envelope row, and to the field at fault
// for a malformed request.
func psd2ProblemFor(err error) (p psd2Problem, field, message string) {
	var in *inputError
	var fe *challenge.FieldError
	switch {
	case errors.As(err, &in):
		p = psd2Invalid
		p.details = in.Sentence()
		return p, in.Field, in.Message
	case errors.As(err, &fe):
		p = psd2Invalid
		p.details = fe.Field + " " + fe.Message
		return p, fe.Field, fe.Message
	}
	for _, row := range psd2Errors {
		if errors.Is(err, row.err) {
			return row.problem, "", ""
		}
	}
	return psd2Generic, "", ""
}

// psd2FlatError is the per-endpoint envelope, exactly these fields.
type psd2FlatError struct {
	ID      string `json:"id"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Title   string `json:"title"`
	Details string `json:"details"`
}

// psd2WrappedErrors is Solaris' general error format.
type psd2WrappedErrors struct {
	Errors []psd2WrappedError `json:"errors"`
}

type psd2WrappedError struct {
	ID     string           `json:"id"`
	Status int              `json:"status"`
	Code   string           `json:"code"`
	Title  string           `json:"title"`
	Detail string           `json:"detail"`
	Source *psd2ErrorSource `json:"source,omitempty"`
}

type psd2ErrorSource struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail answers err in the PSD2 envelope and logs it with its cause.
func (h *PSD2) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, field, message := psd2ProblemFor(err)
	id := newErrorID()
	ev := h.log.Warn()
	if p.status >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", p.status).Str("code", p.code).Str("method", r.Method).
		Str("route", r.Pattern).Str("psd2_challenge_id", clip(r.PathValue("psd2_challenge_id"))).
		AnErr("cause", err).Msg("psd2 request refused")
	if p.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", allowedMethods(r.Pattern))
	}
	setRetryAfter(w, err, p.status)
	var body any = psd2FlatError{ID: id, Status: p.status, Code: p.code, Title: p.title, Details: p.details}
	if h.wrapped {
		e := psd2WrappedError{ID: id, Status: p.status, Code: p.code, Title: p.title, Detail: p.details}
		if field != "" {
			e.Source = &psd2ErrorSource{Field: field, Message: message}
		}
		body = psd2WrappedErrors{Errors: []psd2WrappedError{e}}
	}
	_ = writeJSON(w, p.status, body) // encoding these structs cannot fail
}
