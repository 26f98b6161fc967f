package httpkit

import (
	"errors"
	"net/http"
	"strings"
)

// Caller authentication errors. Each HTTP package exports them under its
// own name, for its authenticators to return (possibly wrapped).
var (
	// ErrNoCredentials: the request carries no credentials (401).
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: the credentials are malformed or unknown (401).
	ErrBadCredentials = errors.New("bad credentials")
)

// MinSecretLength is the shortest bearer token or client secret the
// built-in authenticators accept. The floor catches configuration
// mistakes (an empty or truncated secret); it cannot make a guessable one
// safe: production secrets should carry at least 128 random bits.
const MinSecretLength = 12

// Challenger is implemented by an authenticator that names the
// authentication scheme its callers use. Every 401 carries a
// WWW-Authenticate header (RFC 9110 §11.6.1); each HTTP package answers
// with its own scheme unless the authenticator names one. err is the
// error the request is refused with, so a challenge can tell a missing
// credential from a bad one (RFC 6750 §3.1's error="invalid_token").
type Challenger interface {
	WWWAuthenticate(err error) string
}

// SetWWWAuthenticate sets the WWW-Authenticate header of a 401 answer.
func SetWWWAuthenticate(w http.ResponseWriter, status int, challenge string) {
	if status == http.StatusUnauthorized && challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
}

// QuotedString quotes s as an RFC 9110 quoted-string, for an
// authentication parameter's value.
func QuotedString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= ' ' && c != 0x7f):
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
