package questionshttp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// errorResponse is the security-question endpoints' error body, in JSON
// or, with the same names, XML.
type errorResponse struct {
	XMLName xml.Name     `json:"-" xml:"Error"`
	Code    int          `json:"Code" xml:"Code"`
	Message string       `json:"Message" xml:"Message"`
	Errors  []fieldError `json:"Errors,omitempty" xml:"Errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"Field" xml:"Field"`
	Message string `json:"Message" xml:"Message"`
}

// errorTable is the one table from errors to status and message,
// checked in order with errors.Is.
var errorTable = []struct {
	err     error
	status  int
	message string
}{
	{ErrNoCredentials, http.StatusUnauthorized, "Login required."},
	{ErrBadCredentials, http.StatusUnauthorized, "The session or its CSRF token is not valid."},
	{errWrongCaller, http.StatusForbidden, "Not allowed to act for this user."},
	{questions.ErrUnknownBusiness, http.StatusNotFound, "Unknown business."},
	{challenge.ErrThrottled, http.StatusTooManyRequests, "Too many attempts; retry later."},
	{httpkit.ErrNoSuchPath, http.StatusNotFound, "No such resource."},
	{httpkit.ErrMethodNotAllowed, http.StatusMethodNotAllowed, "The method is not allowed on this resource."},
	{httpkit.ErrNotAcceptable, http.StatusNotAcceptable, "None of the media types in Accept can be served."},
	{httpkit.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "Request body is too large."},
	{httpkit.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "Unsupported Content-Type."},
	{challenge.ErrOutcomeUnknown, http.StatusServiceUnavailable, "Outcome unknown: the change may or may not have been saved. The request is safe to repeat."},
	{challenge.ErrUnavailable, http.StatusServiceUnavailable, "The service is unavailable; nothing was changed. Retry later."},
}

// errorBody maps err to the status and body to answer with. list names
// the request's array ("UserIdentificationChallenge", "Challenge"), to name
// each failing entry's field.
func errorBody(err error, list, errorID string) errorResponse {
	var rules *questions.RuleError
	var fe *challenge.FieldError
	switch {
	case errors.As(err, &rules):
		body := errorResponse{Code: http.StatusBadRequest, Message: "The request breaks the business's rules."}
		for _, v := range rules.Violations {
			field := v.Field
			if v.Entry >= 0 {
				field = fmt.Sprintf("%s[%d].%s", list, v.Entry, v.Field)
			}
			body.Errors = append(body.Errors, fieldError{Field: field, Message: v.Message})
		}
		return body
	case errors.As(err, &fe):
		body := errorResponse{Code: http.StatusBadRequest, Message: httpkit.Sentence(fe)}
		if fe.Field != "" {
			body.Errors = []fieldError{{Field: fe.Field, Message: fe.Message}}
		}
		return body
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return errorResponse{Code: row.status, Message: row.message}
		}
	}
	return errorResponse{Code: http.StatusInternalServerError,
		Message: "An unexpected error occurred (reference " + errorID + ")."}
}

// fail answers err in the negotiated media type (JSON when none can be)
// and logs it with its cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	list := "UserIdentificationChallenge"
	if r.PathValue("BusinessID") != "" {
		list = "Challenge"
	}
	id := httpkit.NewErrorID()
	body := errorBody(err, list, id)
	ev := h.log.Warn()
	if body.Code >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", body.Code).Str("method", r.Method).Str("route", r.Pattern).
		Str("user_id", httpkit.Clip(r.PathValue("UserID"))).Str("business_id", httpkit.Clip(r.PathValue("BusinessID"))).
		AnErr("cause", err).Msg("security-question request refused")
	mt, nerr := httpkit.ResponseMediaType(r, mediaTypes)
	if nerr != nil {
		mt = "application/json"
	}
	httpkit.SetAllow(w, err)
	httpkit.SetRetryAfter(w, err, body.Code)
	httpkit.SetWWWAuthenticate(w, body.Code, h.challenge(err))
	_ = httpkit.WriteAs(w, mt, body.Code, body)
}
