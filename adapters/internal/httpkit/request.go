package httpkit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
)

// DefaultMaxBodyBytes bounds request bodies when an options struct leaves
// MaxBodyBytes zero. Challenge requests are a few hundred bytes.
const DefaultMaxBodyBytes = 64 << 10

// BodyLimit resolves an options struct's MaxBodyBytes.
func BodyLimit(n int64) (int64, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("httpkit: negative MaxBodyBytes %d", n)
	case n == 0:
		return DefaultMaxBodyBytes, nil
	}
	return n, nil
}

// Request problems found before a service is called. Handlers map them to
// their own envelopes.
var (
	ErrUnsupportedMediaType = errors.New("httpkit: unsupported media type")
	ErrBodyTooLarge         = errors.New("httpkit: request body too large")
	ErrMethodNotAllowed     = errors.New("httpkit: method not allowed")
	ErrNoSuchPath           = errors.New("httpkit: no such path")
)

// Sentence words a field error as one sentence naming the field; a body
// error (no Field) is its Message alone.
func Sentence(fe *challenge.FieldError) string {
	if fe.Field == "" {
		return fe.Message
	}
	return fe.Field + " " + fe.Message
}

// NewValidator returns a validator that names fields by their JSON names,
// with one tag of its own: maxbytes=N, a string of at most N bytes.
// Lengths in tags count bytes, as the stores and the flows do; a tag only
// checks a request's shape, and a rule a flow owns (an IBAN, an answer's
// length, a TTL's range) is left to the flow.
func NewValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	err := v.RegisterValidation("maxbytes", func(fl validator.FieldLevel) bool {
		n, err := strconv.Atoi(fl.Param())
		return err == nil && fl.Field().Kind() == reflect.String && fl.Field().Len() <= n
	})
	if err != nil {
		panic(err) // only a bad tag name fails, and "maxbytes" is not one
	}
	return v
}

// DecodeJSON reads one JSON object from r's body into dst and validates it.
// It refuses media types other than JSON (a missing Content-Type is taken
// as JSON) and bodies that are not strictly what dst takes (see decode.go),
// naming the field where it can. The validator runs unless dst is a
// [TagChecker] that passes.
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, v *validator.Validate, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return fmt.Errorf("%w: %.100q", ErrUnsupportedMediaType, ct)
		}
	}
	if err := DecodeBody(w, r, "application/json", maxBytes, dst); err != nil {
		return err
	}
	if c, ok := dst.(TagChecker); ok && c.PassesTags() {
		return nil
	}
	if err := v.Struct(dst); err != nil {
		return ValidationError(err)
	}
	return nil
}

// Guard serves an endpoint: it answers serve's error, or a panic, with
// fail, so no request ends in net/http's plain-text 500 or a dropped
// connection.
func Guard(log *zerolog.Logger, fail func(http.ResponseWriter, *http.Request, error), serve func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error().Str("route", r.Pattern).Str("stack", string(debug.Stack())).Msg("handler panicked")
				fail(w, r, fmt.Errorf("httpkit: panic in %s", r.Pattern))
			}
		}()
		if err := serve(w, r); err != nil {
			fail(w, r, err)
		}
	})
}

// TagChecker is a request body that tells, without the validator's
// reflection, whether it passes its validate tags: the validator boxes
// every field it visits. The validator then runs only on a body that
// does not pass, to word what is wrong. An implementation must agree with
// its tags exactly; keep a test that tries values on either side of each
// rule through both.
type TagChecker interface {
	PassesTags() bool
}

// ValidationError turns the first failing field into a *challenge.FieldError; fields
// are checked in declaration order, so the first is the most basic.
func ValidationError(err error) error {
	var errs validator.ValidationErrors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return fmt.Errorf("httpkit: validating request: %w", err)
	}
	fe := errs[0]
	var msg string
	switch fe.Tag() {
	case "required", "required_if", "required_unless":
		msg = "is required"
	case "maxbytes":
		msg = "must be at most " + fe.Param() + " bytes"
	case "max":
		msg = "must have at most " + fe.Param() + " entries"
	case "oneof":
		msg = "must be one of " + fe.Param()
	default:
		msg = "is invalid (" + fe.Tag() + ")"
	}
	// The namespace names nested fields by their path ("challengedata.factorKey");
	// its first element is the request type's name.
	_, field, _ := strings.Cut(fe.Namespace(), ".")
	return &challenge.FieldError{Field: field, Message: msg}
}

// NewErrorID returns a random (version 4) UUID for an error response.
func NewErrorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// WriteJSON answers with v as JSON, for an API that speaks nothing else
// (and so sends no Vary). Answers are never cached: they may carry
// one-time tokens. net/http sets Content-Length itself for a body
// written in one call.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	return write(w, "application/json", status, v)
}

// encodeJSON writes v to buf as json.Marshal would, without HTML escaping
// (answers and tokens go out as they are; the Content-Type is JSON) and
// without the newline json.Encoder ends with.
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

// SetRetryAfter tells a throttled client, or one refused while the store
// is unavailable (status 503), when to come back.
func SetRetryAfter(w http.ResponseWriter, err error, status int) {
	var te *challenge.ThrottledError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(te.RetryAfter.Seconds())))))
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
}

// PathID returns the path value name, refusing one that is not valid
// UTF-8: no ID this package issues is.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !utf8.ValidString(v) {
		return "", &challenge.FieldError{Field: name, Message: "is not valid UTF-8"}
	}
	return v, nil
}

// Clip bounds a client-supplied string before it reaches a log line.
func Clip(s string) string {
	const limit = 128
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
