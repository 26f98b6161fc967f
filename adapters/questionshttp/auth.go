package questionshttp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

// Caller authentication errors, returned by an [Authenticator].
var (
	// ErrNoCredentials: the request carries no session (401).
	ErrNoCredentials = httpkit.ErrNoCredentials
	// ErrBadCredentials: the session or its CSRF header is unknown or
	// wrong (401).
	ErrBadCredentials = httpkit.ErrBadCredentials
	// errWrongCaller: a logged-in user who may not act on this resource
	// (403).
	errWrongCaller = errors.New("questionshttp: caller may not act on this resource")
)

// Caller is the logged-in user calling a security-question
// endpoint.
type Caller struct {
	UserID string
	// SiteAdmin may act for any user of Business and change its catalog.
	SiteAdmin bool
	// Business is the business (federation member) the caller belongs to;
	// a site admin administers it and no other. [CookieSessions] sets it to
	// its federation member. A site admin with no Business administers
	// nothing: an authenticator that forgets it fails closed.
	Business string
}

// Authenticator tells who is logged in for a request to a
// security-question endpoint. It returns ErrNoCredentials or
// ErrBadCredentials (possibly wrapped) for a missing or bad session or
// CSRF header, which are answered 401. Implementations must be safe for
// concurrent use.
type Authenticator interface {
	Authenticate(r *http.Request) (Caller, error)
}

// Session is one logged-in session known to [CookieSessions].
type Session struct {
	Token     string // the session cookie's value
	CSRFToken string // the CSRF header's value for this session
	Caller    Caller
}

// CookieSessions is an [Authenticator] following the original
// platform's convention: the session cookie AtmoAuthToken_{fedmemberid}
// and, for every method but GET and HEAD, the header
// X-Csrf-Token_{fedmemberid}, which must match the session. It keeps only
// SHA-256 digests of the tokens and compares CSRF tokens in constant time.
// It holds a fixed set of sessions, for demos and tests; a real deployment
// implements Authenticator over its session store. It is safe for
// concurrent use.
type CookieSessions struct {
	cookie    string
	header    string
	challenge string
	sessions  map[[sha256.Size]byte]sessionEntry
}

type sessionEntry struct {
	csrf   [sha256.Size]byte
	caller Caller
}

var _ Authenticator = (*CookieSessions)(nil)

// NewCookieSessions returns an authenticator for the given sessions of the
// federation member fedMemberID.
func NewCookieSessions(fedMemberID string, sessions []Session) (*CookieSessions, error) {
	if fedMemberID == "" {
		return nil, errors.New("questionshttp: CookieSessions needs a federation member ID")
	}
	c := &CookieSessions{
		cookie: "AtmoAuthToken_" + fedMemberID,
		header: "X-Csrf-Token_" + fedMemberID,
		challenge: "Cookie realm=" + httpkit.QuotedString(fedMemberID) +
			", cookie-name=" + httpkit.QuotedString("AtmoAuthToken_"+fedMemberID),
		sessions: make(map[[sha256.Size]byte]sessionEntry, len(sessions)),
	}
	for i, s := range sessions {
		if len(s.Token) < httpkit.MinSecretLength || len(s.CSRFToken) < httpkit.MinSecretLength || s.Caller.UserID == "" {
			return nil, fmt.Errorf("questionshttp: session #%d needs a user and tokens of at least %d bytes", i+1, httpkit.MinSecretLength)
		}
		switch s.Caller.Business {
		case "":
			s.Caller.Business = fedMemberID // a member's sessions are its own
		case fedMemberID:
		default:
			return nil, fmt.Errorf("questionshttp: session #%d belongs to business %q, not to %q", i+1, s.Caller.Business, fedMemberID)
		}
		key := sha256.Sum256([]byte(s.Token))
		if _, dup := c.sessions[key]; dup {
			return nil, fmt.Errorf("questionshttp: session #%d repeats a token", i+1)
		}
		c.sessions[key] = sessionEntry{csrf: sha256.Sum256([]byte(s.CSRFToken)), caller: s.Caller}
	}
	return c, nil
}

// Authenticate implements [Authenticator].
func (c *CookieSessions) Authenticate(r *http.Request) (Caller, error) {
	cookie, err := r.Cookie(c.cookie)
	if err != nil || cookie.Value == "" {
		return Caller{}, fmt.Errorf("%w: no %s cookie", ErrNoCredentials, c.cookie)
	}
	// Looking up a digest reveals nothing useful about the token through timing.
	s, ok := c.sessions[sha256.Sum256([]byte(cookie.Value))]
	if !ok {
		return Caller{}, fmt.Errorf("%w: unknown session", ErrBadCredentials)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		got := r.Header.Get(c.header)
		digest := sha256.Sum256([]byte(got))
		if got == "" || subtle.ConstantTimeCompare(digest[:], s.csrf[:]) != 1 {
			return Caller{}, fmt.Errorf("%w: missing or wrong %s header", ErrBadCredentials, c.header)
		}
	}
	return s.caller, nil
}

// Challenger may be implemented by an [Authenticator] to name the scheme
// of the WWW-Authenticate header that every 401 carries. [CookieSessions]
// does; for an Authenticator that does not, the header is
// `Cookie realm="questions"`.
type Challenger = httpkit.Challenger

// WWWAuthenticate implements [Challenger] with the "Cookie" scheme of
// draft-broyer-http-cookie-auth (HTTP has no registered scheme for a
// session cookie): the federation member as realm, and the cookie the
// session must be sent in.
func (c *CookieSessions) WWWAuthenticate(error) string {
	return c.challenge
}

// challenge is the WWW-Authenticate header for a 401 refusing err.
func (h *Handler) challenge(err error) string {
	if c, ok := h.auth.(Challenger); ok {
		return c.WWWAuthenticate(err)
	}
	return `Cookie realm="questions"`
}
