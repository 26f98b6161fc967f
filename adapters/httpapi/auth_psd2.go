package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PSD2Caller is who is calling a PSD2 endpoint.
type PSD2Caller int

const (
	// PSD2Partner is the partner that runs the customer's login screen: it
	// verifies (GET) and updates (PATCH) challenges.
	PSD2Partner PSD2Caller = iota + 1
	// PSD2Bank is the bank's own systems: they create challenges and report
	// the second factor's result, and may also read them.
	PSD2Bank
)

// Caller authentication errors, returned by a [PSD2Authenticator].
var (
	// ErrNoCredentials: the request carries no credentials (401).
	ErrNoCredentials = errors.New("httpapi: no credentials")
	// ErrBadCredentials: the credentials are malformed or unknown (401).
	ErrBadCredentials = errors.New("httpapi: bad credentials")
	// errWrongCaller: known credentials of a caller the endpoint refuses (403).
	errWrongCaller = errors.New("httpapi: caller may not use this endpoint")
)

// PSD2Authenticator tells who sent a request to a PSD2 endpoint. It
// returns ErrNoCredentials or ErrBadCredentials (possibly wrapped) when it
// cannot tell; any other error is answered as an internal error.
// Implementations must be safe for concurrent use.
type PSD2Authenticator interface {
	AuthenticatePSD2(r *http.Request) (PSD2Caller, error)
}

// PSD2Tokens is a [PSD2Authenticator] over fixed bearer tokens
// ("Authorization: Bearer <token>"). It compares in constant time and keeps
// only SHA-256 digests of the tokens. It is safe for concurrent use.
type PSD2Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [sha256.Size]byte
	caller PSD2Caller
}

var _ PSD2Authenticator = (*PSD2Tokens)(nil)

// MinTokenLength is the shortest bearer token NewPSD2Tokens accepts. The
// floor catches configuration mistakes (an empty or truncated token); it
// cannot make a guessable token safe: production tokens should carry at
// least 128 random bits.
const MinTokenLength = 12

// NewPSD2Tokens returns an authenticator for the given partner and bank
// tokens. Each must be at least MinTokenLength bytes and used once.
func NewPSD2Tokens(partner, bank []string) (*PSD2Tokens, error) {
	t := &PSD2Tokens{}
	seen := map[string]bool{}
	for _, group := range []struct {
		name   string
		caller PSD2Caller
		tokens []string
	}{{"partner", PSD2Partner, partner}, {"bank", PSD2Bank, bank}} {
		for i, tok := range group.tokens {
			if len(tok) < MinTokenLength {
				return nil, fmt.Errorf("httpapi: PSD2 %s token #%d is shorter than %d bytes", group.name, i+1, MinTokenLength)
			}
			if seen[tok] {
				return nil, errors.New("httpapi: a PSD2 token is given twice")
			}
			seen[tok] = true
			t.entries = append(t.entries, tokenEntry{sha256.Sum256([]byte(tok)), group.caller})
		}
	}
	return t, nil
}

// AuthenticatePSD2 implements [PSD2Authenticator].
func (t *PSD2Tokens) AuthenticatePSD2(r *http.Request) (PSD2Caller, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return 0, ErrNoCredentials
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return 0, fmt.Errorf("%w: not a bearer token", ErrBadCredentials)
	}
	digest := sha256.Sum256([]byte(token))
	var caller PSD2Caller
	for _, e := range t.entries { // no early exit: the time does not depend on which token matched
		if subtle.ConstantTimeCompare(digest[:], e.digest[:]) == 1 {
			caller = e.caller
		}
	}
	if caller == 0 {
		return 0, fmt.Errorf("%w: unknown token", ErrBadCredentials)
	}
	return caller, nil
}
