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
	// Attributes are shown to the agent in challengeAttrMap and
	// factorAttributes (e.g. deviceName). Never put a secret here. Values
	// are strings; an attribute whose value is an object is given as one
	// pair per member, named "attribute.member" (both plain names:
	// letters, digits, '_' and '-'), and answered as one object.
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
// agent reports its outcome with Finalize. Implementations must be safe
// for concurrent use. Factors of their own packages ship with challengekit
// (authn/totp, authn/otpcode, authn/kba, authn/push, authn/recovery,
// authn/passkey); every one passes
// authn/factortest.Run, and so must any other.
//
// # Running more than once
//
// The Service calls Init and Validate inside a step of the transaction,
// and a step can run more than once: when its save loses a race with
// another request, the step reads the transaction again and runs once
// more (see challenge.Engine.Step); and a client that did not hear an
// answer repeats its request, which may run it again. A correct answer
// must be accepted, and a wrong one counted, exactly once, and nothing
// sent twice, however often a step runs. So a factor:
//
//   - keeps what it must remember in the State it returns, which is saved
//     with the transaction by the same compare-and-set as the rest of the
//     step, and is discarded with a run that lost its race. State is kept
//     in the store: never put a secret in it in plain form;
//   - sends nothing itself: what Init delivers (a code, a notification)
//     it returns as InitResult.Deliver, which the Service runs once the
//     transaction is saved (challenge.Tx.AfterSave), never for a run that
//     lost its race;
//   - keys any change it must make elsewhere with the transaction's ID,
//     so that making it again for the same transaction changes nothing
//     and answers the same (TOTP claims each time step for one
//     transaction: a re-run finds its own claim);
//   - leaves counting to the Service: a wrong answer is a ValidateResult
//     with Correct false, never an error, and the Service counts it
//     against the transaction's budget and the Limiter's, once.
type Factor interface {
	Key() string
	Passive() bool
	// Init starts the factor for a transaction.
	Init(ctx context.Context, req InitRequest) (InitResult, error)
	// Validate checks an answer against the state Init (or the last
	// Validate) returned. Passive factors only.
	Validate(ctx context.Context, req ValidateRequest) (ValidateResult, error)
}

// SharedBudget is implemented by a factor whose secret another kind of
// challenge checks too (ChallengeKBA: the user's security answers, which
// package questions verifies on its own), so that the secret has one
// Limiter budget whichever challenge asks for it: Validate charges its
// answers to the kind and subject AttemptBudget names instead of the
// transaction's, and Service.ResetLimits resets that budget too.
type SharedBudget interface {
	AttemptBudget(userID string, reg Registration) (kind, subject string)
}

// InitRequest is what a factor's Init is given.
type InitRequest struct {
	TransactionID string
	UserID        string
	Registration  Registration
	// Attributes are the factorAttributes of the Init request; a value
	// that was an object arrives as one "attribute.member" pair per member.
	Attributes []KeyValue
	// Origin is the agent and the end user's address (or the agent again,
	// "agent:<id>", when it reported none).
	Origin challenge.Origin
}

// InitResult is what a factor's Init returns.
type InitResult struct {
	State   []byte     // kept with the transaction, handed back to Validate
	Prompts []KeyValue // what to ask the user
	// Deliver, if set, sends what the factor sends (a code, a
	// notification). The Service runs it once the transaction has been
	// saved, and never for a run of the step that lost a race, so that
	// nothing is sent twice. Setting it makes the Init subject to the
	// Service's delivery limits, charged to the Registration's
	// Destination (the user, if it has none). An error fails the request
	// after the transaction was saved; the agent may repeat the Init.
	Deliver func(ctx context.Context) error
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
