package authn

import (
	"context"
	"slices"

	"github.com/challengekit/challengekit/challenge"
)

// KeyValue is one entry of challengeAttrMap, prompts or factorAttributes.
type KeyValue struct {
	Key   string
	Value string
}

// Registration is one factor a user has registered.
type Registration struct {
	// FactorKey names the factor, e.g. "ChallengeOMATOTP".
	FactorKey string
	// Attributes are shown to the agent in challengeAttrMap (e.g.
	// deviceName). Never put a secret here.
	Attributes []KeyValue
	// Destination is where a one-time code goes (an e-mail address, a phone
	// number). Responses show it masked.
	Destination string
	// Secret is the factor's shared secret (a TOTP base32 key). It is never
	// shown or logged.
	Secret string
	// Subject is the user's ID in another system the factor uses (for
	// ChallengeKBA, the security-questions user ID); empty means the authn
	// user ID.
	Subject string
}

// Registry tells which factors a user has registered. Implementations must
// be safe for concurrent use.
type Registry interface {
	// Registrations returns the user's factors, and whether the user is
	// known at all. An error means the registry could not answer.
	Registrations(ctx context.Context, userID string) (regs []Registration, known bool, err error)
}

// MemoryRegistry is the in-memory [Registry]: a fixed map from user ID to
// registrations. It is safe for concurrent use.
type MemoryRegistry struct {
	users map[string][]Registration
}

var _ Registry = (*MemoryRegistry)(nil)

// NewMemoryRegistry returns a registry of the given users. A user with no
// registrations is known but unregistered.
func NewMemoryRegistry(users map[string][]Registration) *MemoryRegistry {
	m := &MemoryRegistry{users: make(map[string][]Registration, len(users))}
	for u, regs := range users {
		m.users[u] = slices.Clone(regs)
	}
	return m
}

// Registrations implements [Registry].
func (m *MemoryRegistry) Registrations(_ context.Context, userID string) ([]Registration, bool, error) {
	regs, ok := m.users[userID]
	return slices.Clone(regs), ok, nil
}

// Factor is one way of proving who one is. A passive factor can check an
// answer itself (Validate); a non-passive one only starts (Init), and the
// agent reports its outcome with Finalize. Implementations must be safe for
// concurrent use, and must keep no secret in the state they return in
// plain form: state is stored with the transaction.
type Factor interface {
	Key() string
	Passive() bool
	// Init starts the factor for a transaction.
	Init(ctx context.Context, req InitRequest) (InitResult, error)
	// Validate checks an answer against the state Init (or the last
	// Validate) returned. Passive factors only.
	Validate(ctx context.Context, req ValidateRequest) (ValidateResult, error)
}

// LimitResetter is a Factor that charges the Limiter under budgets of its
// own (ChallengeKBA charges its security-question verifications), which
// Service.ResetLimits resets along with the transactions'.
type LimitResetter interface {
	ResetLimits(ctx context.Context, userID string, reg Registration) error
}

// InitRequest is what a factor's Init is given.
type InitRequest struct {
	TransactionID string
	UserID        string
	Registration  Registration
	Attributes    []KeyValue // factorAttributes of the Init request
	// Origin is the agent and the end user's address (or the agent again,
	// "agent:<id>", when it reported none), for a factor that opens a
	// challenge of its own to budget it alike.
	Origin challenge.Origin
}

// InitResult is what a factor's Init returns.
type InitResult struct {
	State   []byte     // kept with the transaction, handed back to Validate
	Prompts []KeyValue // what to ask the user
	// AfterSave, if set, delivers what the factor sends (a code, a
	// notification) once the transaction has been saved, so that a request
	// that loses a race and is re-run never sends twice. Setting it makes
	// the Init subject to the Service's delivery limits, charged to the
	// Registration's Destination (the user, if it has none). An error
	// fails the request; the agent may Init again.
	AfterSave func(ctx context.Context) error
}

// ValidateRequest is what a factor's Validate is given.
type ValidateRequest struct {
	TransactionID string
	UserID        string
	Registration  Registration
	State         []byte
	Answer        string // never logged
}

// ValidateResult is what a factor's Validate returns.
type ValidateResult struct {
	State     []byte
	Correct   bool       // the answer was right
	Satisfied bool       // the factor needs nothing more
	Prompts   []KeyValue // the next thing to ask, when correct but not satisfied
}
