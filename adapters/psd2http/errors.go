package psd2http

import (
	"errors"
	"net/http"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

// problem is one row of the PSD2 error envelope: status, code, title
// and the default details.
type problem struct {
	status  int
	code    string
	title   string
	details string
}

var (
	psd2Invalid      = problem{400, "invalid_request", "Invalid Request", "Request is invalid"}
	psd2NotOwned     = problem{400, "invalid_request", "Invalid Request", "The IBAN requested by the TPP does not belong to the specified person."}
	psd2NoToken      = problem{401, "token_required", "Token Required", "No Authorization header was provided."}
	psd2BadToken     = problem{401, "invalid_token", "Invalid Token", "The access token is invalid."}
	psd2Expired      = problem{401, "unauthorized_psd2_challenge", "Unauthorized PSD2 challenge", "Challenge expired."}
	psd2Forbidden    = problem{403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed."}
	psd2NotFound     = problem{404, "model_not_found", "Model Not Found", "Model was not found"}
	psd2BadMethod    = problem{405, "method_not_allowed", "Method Not Allowed", "The method is not allowed on this resource."}
	psd2TooLarge     = problem{413, "request_too_large", "Request Too Large", "Request body is too large."}
	psd2Throttled    = problem{429, "too_many_requests", "Too Many Requests", "Too many attempts; retry later."}
	psd2BadMediaType = problem{415, "unsupported_media_type", "Unsupported Media Type", "Content-Type must be application/json."}
	psd2Generic      = problem{500, "generic_error", "Generic Error", "An unexpected error occurred."}
	psd2Unavailable  = problem{503, "service_unavailable", "Service Unavailable", "The service is unavailable; nothing was changed. Retry later."}
	psd2Unknown      = problem{503, "outcome_unknown", "Outcome Unknown", "The change may or may not have been saved. The request is safe to repeat: its repeat answers the outcome."}
)

// errorTable is the one table from errors to the PSD2 envelope, checked in
// order with errors.Is. Order matters where an error matches two rows: an
// IBAN mismatch that exhausts the budget also matches challenge.ErrLocked
// and must still answer 400.
var errorTable = []struct {
	err     error
	problem problem
}{
	{psd2.ErrIBANNotOwned, psd2NotOwned},
	{ErrNoCredentials, psd2NoToken},
	{ErrBadCredentials, psd2BadToken},
	{challenge.ErrExpired, psd2Expired},
	{challenge.ErrNotFound, psd2NotFound},
	{httpkit.ErrNoSuchPath, psd2NotFound},
	{errWrongCaller, psd2Forbidden},
	{psd2.ErrOtherPerson, psd2Forbidden},
	{challenge.ErrInvalidTransition, psd2Forbidden}, // includes final and locked challenges
	{challenge.ErrThrottled, psd2Throttled},
	{httpkit.ErrMethodNotAllowed, psd2BadMethod},
	{httpkit.ErrBodyTooLarge, psd2TooLarge},
	{httpkit.ErrUnsupportedMediaType, psd2BadMediaType},
	{challenge.ErrOutcomeUnknown, psd2Unknown},
	{challenge.ErrUnavailable, psd2Unavailable},
}

// problemFor maps err to its envelope row, and to the field at fault
// for a malformed request.
func problemFor(err error) (p problem, field, message string) {
	var fe *challenge.FieldError
	if errors.As(err, &fe) {
		p = psd2Invalid
		p.details = httpkit.Sentence(fe)
		return p, fe.Field, fe.Message
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.problem, "", ""
		}
	}
	return psd2Generic, "", ""
}

// flatError is the per-endpoint envelope, exactly these fields.
type flatError struct {
	ID      string `json:"id"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Title   string `json:"title"`
	Details string `json:"details"`
}

// wrappedErrors is Solaris' general error format.
type wrappedErrors struct {
	Errors []wrappedError `json:"errors"`
}

type wrappedError struct {
	ID     string       `json:"id"`
	Status int          `json:"status"`
	Code   string       `json:"code"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Source *errorSource `json:"source,omitempty"`
}

type errorSource struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail answers err in the PSD2 envelope and logs it with its cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, field, message := problemFor(err)
	id := httpkit.NewErrorID()
	ev := h.log.Warn()
	if p.status >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", p.status).Str("code", p.code).Str("method", r.Method).
		Str("route", r.Pattern).Str("psd2_challenge_id", httpkit.Clip(r.PathValue("psd2_challenge_id"))).
		AnErr("cause", err).Msg("psd2 request refused")
	httpkit.SetAllow(w, err)
	httpkit.SetRetryAfter(w, err, p.status)
	h.setChallenge(w, p.status, err)
	var body any = flatError{ID: id, Status: p.status, Code: p.code, Title: p.title, Details: p.details}
	if h.wrapped {
		e := wrappedError{ID: id, Status: p.status, Code: p.code, Title: p.title, Detail: p.details}
		if field != "" {
			e.Source = &errorSource{Field: field, Message: message}
		}
		body = wrappedErrors{Errors: []wrappedError{e}}
	}
	_ = httpkit.WriteJSON(w, p.status, body) // encoding these structs cannot fail
}
