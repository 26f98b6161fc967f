package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PSD2Role is what a caller of the PSD2 endpoints may do.
type PSD2Role int

const (
	// PSD2Partner is a partner that runs its customers' login screen: it
	// verifies (GET) and updates (PATCH) its own customers' challenges.
	PSD2Partner PSD2Role = iota + 1
	// PSD2Bank is the bank's own systems: they create challenges and report
	// the second factor's result, and may read every challenge.
	PSD2Bank
)

// PSD2Caller is who calls a PSD2 endpoint.
type PSD2Caller struct {
	Role PSD2Role
	// Name names the caller: for a partner, the tenant whose customers'
	// challenges it may see and change (a partner without a name sees
	// none); for the bank, its system, whose starts the Limiter budgets.
	Name string
}

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

// PSD2BankName is the Name of the bank's callers in [PSD2Tokens].
const PSD2BankName = "bank"

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

// NewPSD2Tokens returns an authenticator for the given tokens: partners
// maps each partner's name to its tokens, and bank lists the bank's. Each
// token must be at least MinTokenLength bytes and used once.
func NewPSD2Tokens(partners map[string][]string, bank []string) (*PSD2Tokens, error) {
	t := &PSD2Tokens{}
	seen := map[string]bool{}
	add := func(who string, caller PSD2Caller, tokens []string) error {
		for i, tok := range tokens {
			if len(tok) < MinTokenLength {
				return fmt.Errorf("httpapi: PSD2 %s token #%d is shorter than %d bytes", who, i+1, MinTokenLength)
			}
			if seen[tok] {
				return errors.New("httpapi: a PSD2 token is given twice")
			}
			seen[tok] = true
			t.entries = append(t.entries, tokenEntry{sha256.Sum256([]byte(tok)), caller})
		}
		return nil
	}
	for name, tokens := range partners {
		if name == "" {
			return nil, errors.New("httpapi: a PSD2 partner needs a name")
		}
		if err := add("partner "+name, PSD2Caller{Role: PSD2Partner, Name: name}, tokens); err != nil {
			return nil, err
		}
	}
	if err := add("bank", PSD2Caller{Role: PSD2Bank, Name: PSD2BankName}, bank); err != nil {
		return nil, err
	}
	return t, nil
}

// AuthenticatePSD2 implements [PSD2Authenticator].
func (t *PSD2Tokens) AuthenticatePSD2(r *http.Request) (PSD2Caller, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return PSD2Caller{}, ErrNoCredentials
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return PSD2Caller{}, fmt.Errorf("%w: not a bearer token", ErrBadCredentials)
	}
	digest := sha256.Sum256([]byte(token))
	var caller PSD2Caller
	for _, e := range t.entries { // no early exit: the time does not depend on which token matched
		if subtle.ConstantTimeCompare(digest[:], e.digest[:]) == 1 {
			caller = e.caller
		}
	}
	if caller.Role == 0 {
		return PSD2Caller{}, fmt.Errorf("%w: unknown token", ErrBadCredentials)
	}
	return caller, nil
}
