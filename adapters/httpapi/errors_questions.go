package httpapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// questionsError is the security-question endpoints' error body, in JSON
// or, with the same names, XML.
type questionsError struct {
	XMLName xml.Name              `json:"-" xml:"Error"`
	Code    int                   `json:"Code" xml:"Code"`
	Message string                `json:"Message" xml:"Message"`
	Errors  []questionsFieldError `json:"Errors,omitempty" xml:"Errors,omitempty"`
}

type questionsFieldError struct {
	Field   string `json:"Field" xml:"Field"`
	Message string `json:"Message" xml:"Message"`
}

// questionsErrors is the one table from errors to status and message,
// checked in order with errors.Is.
var questionsErrors = []struct {
	err     error
	status  int
	message string
}{
	{ErrNoCredentials, http.StatusUnauthorized, "Login required."},
	{ErrBadCredentials, http.StatusUnauthorized, "The session or its CSRF token is not valid."},
	{errWrongCaller, http.StatusForbidden, "Not allowed to act for this user."},
	{questions.ErrUnknownBusiness, http.StatusNotFound, "Unknown business."},
	{challenge.ErrThrottled, http.StatusTooManyRequests, "Too many attempts; retry later."},
	{errNoSuchPath, http.StatusNotFound, "No such resource."},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "The method is not allowed on this resource."},
	{errNotAcceptable, http.StatusNotAcceptable, "None of the media types in Accept can be served."},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge, "Request body is too large."},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "Unsupported Content-Type."},
	{challenge.ErrOutcomeUnknown, http.StatusServiceUnavailable, "Outcome unknown: the change may or may not have been saved. The request is safe to repeat."},
	{challenge.ErrUnavailable, http.StatusServiceUnavailable, "The service is unavailable; nothing was changed. Retry later."},
}

// questionsBody maps err to the status and body to answer with. list names
// the request's array ("UserIdentificationChallenge", "Challenge"), to name
// each failing entry's field.
func questionsBody(err error, list, errorID string) questionsError {
	var rules *questions.RuleError
	var in *inputError
	switch {
	case errors.As(err, &rules):
		body := questionsError{Code: http.StatusBadRequest, Message: "The request breaks the business's rules."}
		for _, v := range rules.Violations {
			field := v.Field
			if v.Entry >= 0 {
				field = fmt.Sprintf("%s[%d].%s", list, v.Entry, v.Field)
			}
			body.Errors = append(body.Errors, questionsFieldError{Field: field, Message: v.Message})
		}
		return body
	case errors.As(err, &in):
		body := questionsError{Code: http.StatusBadRequest, Message: in.Sentence()}
		if in.Field != "" {
			body.Errors = []questionsFieldError{{Field: in.Field, Message: in.Message}}
		}
		return body
	}
	for _, row := range questionsErrors {
		if errors.Is(err, row.err) {
			return questionsError{Code: row.status, Message: row.message}
		}
	}
	return questionsError{Code: http.StatusInternalServerError,
		Message: "An unexpected error occurred (reference " + errorID + ")."}
}

// fail answers err in the negotiated media type (JSON when none can be)
// and logs it with its cause.
func (h *Questions) fail(w http.ResponseWriter, r *http.Request, err error) {
	list := "UserIdentificationChallenge"
	if r.PathValue("BusinessID") != "" {
		list = "Challenge"
	}
	id := newErrorID()
	body := questionsBody(err, list, id)
	ev := h.log.Warn()
	if body.Code >= 500 {
		ev = h.log.Error()
	}
	ev.Str("error_id", id).Int("status", body.Code).Str("method", r.Method).Str("route", r.Pattern).
		Str("user_id", clip(r.PathValue("UserID"))).Str("business_id", clip(r.PathValue("BusinessID"))).
		AnErr("cause", err).Msg("security-question request refused")
	mt, nerr := responseMediaType(r, akanaMediaTypes)
	if nerr != nil {
		mt = "application/json"
	}
	if body.Code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, HEAD, PUT")
	}
	setRetryAfter(w, err, body.Code)
	_ = writeAs(w, mt, body.Code, body)
}
