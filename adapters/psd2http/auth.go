package psd2http

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

// Role is what a caller of the PSD2 endpoints may do.
type Role int

const (
	// RolePartner is a partner that runs its customers' login screen: it
	// verifies (GET) and updates (PATCH) its own customers' challenges.
	RolePartner Role = iota + 1
	// RoleBank is the bank's own systems: they create challenges and report
	// the second factor's result, and may read every challenge.
	RoleBank
)

// Caller is who calls a PSD2 endpoint.
type Caller struct {
	Role Role
	// Name names the caller: for a partner, the tenant whose customers'
	// challenges it may see and change (a partner without a name sees
	// none); for the bank, its system, whose starts the Limiter budgets.
	Name string
}

// Caller authentication errors, returned by an [Authenticator].
var (
	// ErrNoCredentials: the request carries no credentials (401).
	ErrNoCredentials = httpkit.ErrNoCredentials
	// ErrBadCredentials: the credentials are malformed or unknown (401).
	ErrBadCredentials = httpkit.ErrBadCredentials
	// errWrongCaller: known credentials of a caller the endpoint refuses (403).
	errWrongCaller = errors.New("psd2http: caller may not use this endpoint")
)

// Authenticator tells who sent a request to a PSD2 endpoint. It
// returns ErrNoCredentials or ErrBadCredentials (possibly wrapped) when it
// cannot tell; any other error is answered as an internal error.
// Implementations must be safe for concurrent use.
type Authenticator interface {
	Authenticate(r *http.Request) (Caller, error)
}

// Tokens is a [Authenticator] over fixed bearer tokens
// ("Authorization: Bearer <token>"). It compares in constant time and keeps
// only SHA-256 digests of the tokens. It is safe for concurrent use.
type Tokens struct {
	entries []tokenEntry
}

// BankName is the Name of the bank's callers in [Tokens].
const BankName = "bank"

type tokenEntry struct {
	digest [sha256.Size]byte
	caller Caller
}

var _ Authenticator = (*Tokens)(nil)

// MinTokenLength is the shortest bearer token NewTokens accepts. The
// floor catches configuration mistakes (an empty or truncated token); it
// cannot make a guessable token safe: production tokens should carry at
// least 128 random bits.
const MinTokenLength = httpkit.MinSecretLength

// NewTokens returns an authenticator for the given tokens: partners
// maps each partner's name to its tokens, and bank lists the bank's. Each
// token must be at least MinTokenLength bytes and used once.
func NewTokens(partners map[string][]string, bank []string) (*Tokens, error) {
	t := &Tokens{}
	seen := map[string]bool{}
	add := func(who string, caller Caller, tokens []string) error {
		for i, tok := range tokens {
			if len(tok) < MinTokenLength {
				return fmt.Errorf("psd2http: PSD2 %s token #%d is shorter than %d bytes", who, i+1, MinTokenLength)
			}
			if seen[tok] {
				return errors.New("psd2http: a PSD2 token is given twice")
			}
			seen[tok] = true
			t.entries = append(t.entries, tokenEntry{sha256.Sum256([]byte(tok)), caller})
		}
		return nil
	}
	for name, tokens := range partners {
		if name == "" {
			return nil, errors.New("psd2http: a PSD2 partner needs a name")
		}
		if err := add("partner "+name, Caller{Role: RolePartner, Name: name}, tokens); err != nil {
			return nil, err
		}
	}
	if err := add("bank", Caller{Role: RoleBank, Name: BankName}, bank); err != nil {
		return nil, err
	}
	return t, nil
}

// Authenticate implements [Authenticator].
func (t *Tokens) Authenticate(r *http.Request) (Caller, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Caller{}, ErrNoCredentials
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Caller{}, fmt.Errorf("%w: not a bearer token", ErrBadCredentials)
	}
	digest := sha256.Sum256([]byte(token))
	var caller Caller
	for _, e := range t.entries { // no early exit: the time does not depend on which token matched
		if subtle.ConstantTimeCompare(digest[:], e.digest[:]) == 1 {
			caller = e.caller
		}
	}
	if caller.Role == 0 {
		return Caller{}, fmt.Errorf("%w: unknown token", ErrBadCredentials)
	}
	return caller, nil
}

// Challenger may be implemented by an [Authenticator] to name the
// scheme of the WWW-Authenticate header that every 401 carries. Without
// it the handler answers RFC 6750's Bearer challenge: bearerChallenge.
type Challenger = httpkit.Challenger

// realm is the protection space of the PSD2 endpoints' Bearer challenges.
const realm = `realm="psd2"`

// bearerChallenge is RFC 6750 §3's challenge for a refused request: the
// realm alone when the request carried no token (or the token is fine
// and the challenge has expired: the token was not at fault),
// error="invalid_token" when the token is unknown or malformed, and
// error="insufficient_scope" for a known caller the endpoint refuses
// (answered 403). "" when err is none of these.
func bearerChallenge(err error) string {
	switch {
	case errors.Is(err, ErrBadCredentials):
		return `Bearer ` + realm + `, error="invalid_token", error_description="The access token is invalid."`
	case errors.Is(err, errWrongCaller):
		return `Bearer ` + realm + `, error="insufficient_scope", error_description="The caller may not use this endpoint."`
	}
	return `Bearer ` + realm
}

// setChallenge sets WWW-Authenticate on a 401, and on the 403 of a
// caller the endpoint refuses, where RFC 6750 §3.1 has one too.
func (h *Handler) setChallenge(w http.ResponseWriter, status int, err error) {
	if c, ok := h.auth.(Challenger); ok {
		httpkit.SetWWWAuthenticate(w, status, c.WWWAuthenticate(err))
		return
	}
	if status == http.StatusUnauthorized || errors.Is(err, errWrongCaller) {
		w.Header().Set("WWW-Authenticate", bearerChallenge(err))
	}
}
