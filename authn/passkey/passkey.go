// Package passkey is the ChallengePasskey factor of package authn: a
// WebAuthn assertion by one of the user's passkeys, verified with
// github.com/go-webauthn/webauthn, user verification required.
package passkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
)

// Key is the factor key of [Factor].
const Key = "ChallengePasskey"

// PromptKey names the prompt whose value is the
// PublicKeyCredentialRequestOptions, as JSON, to hand to the browser's
// navigator.credentials.get({publicKey: ...}).
const PromptKey = "publicKey"

// maxAnswer bounds the assertion an answer may hold; a longer one is
// wrong, unread.
const maxAnswer = 64 << 10

// Options configures a [Factor]. RPID, RPDisplayName and Origins are
// required.
type Options struct {
	// RPID is the relying party's ID: the site's registrable domain
	// ("example.com").
	RPID string
	// RPDisplayName is the relying party's name shown by authenticators
	// at registration.
	RPDisplayName string
	// Origins are the origins ("https://login.example.com") an assertion
	// may come from.
	Origins []string
	// Timeout is how long the browser is told to wait for the user; zero
	// means five minutes. The transaction's own expiry bounds the
	// challenge regardless.
	Timeout time.Duration
}

// Factor is the ChallengePasskey factor, passive. Init asks for an
// assertion of a fresh challenge by one of the user's credentials, with
// user verification required; the challenge is kept in the transaction's
// factor state, so that an assertion answers the transaction it was made
// for and no other. Validate takes the assertion as the browser's
// navigator.credentials.get returns it, serialized as JSON
// (PublicKeyCredential.toJSON()), and verifies it with go-webauthn:
// origin, RP ID, user verification, signature and sign count. Anything
// wrong with it (malformed JSON included) is a wrong answer.
//
// An accepted assertion moves the credential's stored sign count by a
// compare-and-set ([Credentials.UpdateSignCount]) that names the
// transaction: a count that does not move forward is a cloned
// authenticator and is refused, except that a step of the same
// transaction run again (after a lost race, or a repeated request) finds
// its own update and accepts the same assertion again.
//
// The user's ID is the WebAuthn user handle, which authenticators keep:
// it must be at most 64 bytes, and should be an opaque ID rather than an
// e-mail address.
//
// It is safe for concurrent use.
type Factor struct {
	creds Credentials
	wa    *webauthn.WebAuthn
}

var _ authn.Factor = (*Factor)(nil)

// New returns the factor, keeping the users' credentials in creds.
func New(creds Credentials, opts Options) (*Factor, error) {
	if creds == nil {
		return nil, errors.New("passkey: needs Credentials")
	}
	if opts.RPID == "" || opts.RPDisplayName == "" || len(opts.Origins) == 0 {
		return nil, errors.New("passkey: needs an RP ID, an RP display name and origins")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          opts.RPID,
		RPDisplayName: opts.RPDisplayName,
		RPOrigins:     opts.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
			Registration: webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Factor{creds: creds, wa: wa}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return Key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return true }

// user is a [webauthn.User] of the given credentials.
type user struct {
	id    string
	name  string // shown by authenticators at registration; "" means id
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte { return []byte(u.id) }

func (u *user) WebAuthnName() string {
	if u.name == "" {
		return u.id
	}
	return u.name
}

func (u *user) WebAuthnDisplayName() string                { return u.WebAuthnName() }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// errUserID is the error of a user ID that cannot be a user handle.
var errUserID = errors.New("passkey: a passkey user's ID is 1 to 64 bytes")

// load returns the user's credentials as go-webauthn's user, each with
// the sign count it had before txID moved it, if txID did: a step of
// txID run again is checked as its first run was.
func (f *Factor) load(ctx context.Context, userID, txID string) (*user, error) {
	if len(userID) == 0 || len(userID) > 64 {
		return nil, errUserID
	}
	list, err := f.creds.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	u := &user{id: userID, creds: make([]webauthn.Credential, len(list))}
	for i, c := range list {
		u.creds[i] = c.Credential
		if txID != "" && c.LastTransaction == txID {
			u.creds[i].Authenticator.SignCount = c.PreviousSignCount
		}
	}
	return u, nil
}

// Init implements [authn.Factor]: it asks for an assertion of a fresh
// challenge by one of the user's credentials, and refuses a user with
// none.
func (f *Factor) Init(ctx context.Context, req authn.InitRequest) (authn.InitResult, error) {
	u, err := f.load(ctx, req.UserID, "")
	if errors.Is(err, errUserID) {
		return authn.InitResult{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "cannot start: the user's ID is longer than a passkey's user handle (64 bytes)"}
	}
	if err != nil {
		return authn.InitResult{}, err
	}
	if len(u.creds) == 0 {
		return authn.InitResult{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "cannot start: the user has no passkey"}
	}
	assertion, session, err := f.wa.BeginLogin(u)
	if err != nil {
		return authn.InitResult{}, fmt.Errorf("passkey: begin login: %w", err)
	}
	options, err := json.Marshal(assertion.Response)
	if err != nil {
		return authn.InitResult{}, fmt.Errorf("passkey: %w", err)
	}
	st := loginState{Challenge: session.Challenge}
	return authn.InitResult{State: st.encode(), Prompts: []authn.KeyValue{{Key: PromptKey, Value: string(options)}}}, nil
}

// Validate implements [authn.Factor]: an assertion of the transaction's
// challenge by one of the user's credentials, user verified, whose sign
// count moves forward, is right.
func (f *Factor) Validate(ctx context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	wrong := authn.ValidateResult{State: req.State}
	st, err := decodeLoginState(req.State)
	if err != nil || len(req.Answer) > maxAnswer {
		return wrong, nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(req.Answer))
	if err != nil {
		return wrong, nil
	}
	u, err := f.load(ctx, req.UserID, req.TransactionID)
	if err != nil {
		return authn.ValidateResult{}, fmt.Errorf("passkey: validate: %w", err)
	}
	session := webauthn.SessionData{
		Challenge:        st.Challenge,
		RelyingPartyID:   f.wa.Config.RPID,
		UserID:           u.WebAuthnID(),
		UserVerification: protocol.VerificationRequired,
	}
	cred, err := f.wa.ValidateLogin(u, session, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return wrong, nil
	}
	ok, err := f.creds.UpdateSignCount(ctx, req.UserID, cred.ID, cred.Authenticator.SignCount, req.TransactionID)
	if err != nil {
		return authn.ValidateResult{}, fmt.Errorf("passkey: validate: %w", err)
	}
	if !ok {
		return wrong, nil
	}
	return authn.ValidateResult{Correct: true, Satisfied: true}, nil // the challenge is spent
}

// BeginRegistration starts the registration of a passkey for userID:
// it returns the PublicKeyCredentialCreationOptions, as JSON, to hand to
// the browser's navigator.credentials.create({publicKey: ...}), and the
// session to give back to [Factor.FinishRegistration]. The session is
// go-webauthn's SessionData as JSON; it holds no secret, but it is the
// registration's challenge and must stay with the server (in the
// caller's server-side session, say), not travel through the browser.
// The user's credentials are excluded, so an authenticator registers
// once. The authenticator shows the account as name ("" means userID).
func (f *Factor) BeginRegistration(ctx context.Context, userID, name string) (options, session []byte, err error) {
	u, err := f.load(ctx, userID, "")
	if err != nil {
		return nil, nil, err
	}
	u.name = name
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i, c := range u.creds {
		exclude[i] = c.Descriptor()
	}
	creation, sd, err := f.wa.BeginRegistration(u, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	if options, err = json.Marshal(creation.Response); err != nil {
		return nil, nil, fmt.Errorf("passkey: %w", err)
	}
	if session, err = json.Marshal(sd); err != nil {
		return nil, nil, fmt.Errorf("passkey: %w", err)
	}
	return options, session, nil
}

// ErrRegistrationRefused is returned by [Factor.FinishRegistration] for
// a response that does not register a credential: malformed, for another
// session, origin or RP ID, or without user verification.
var ErrRegistrationRefused = errors.New("passkey: the registration response was refused")

// FinishRegistration verifies the browser's answer to
// [Factor.BeginRegistration] (the PublicKeyCredential that
// navigator.credentials.create returned, serialized as JSON) against the
// session it returned, and stores the credential.
func (f *Factor) FinishRegistration(ctx context.Context, userID string, session, response []byte) error {
	var sd webauthn.SessionData
	if err := json.Unmarshal(session, &sd); err != nil {
		return fmt.Errorf("%w: a malformed session", ErrRegistrationRefused)
	}
	u, err := f.load(ctx, userID, "")
	if err != nil {
		return err
	}
	if !bytes.Equal(sd.UserID, u.WebAuthnID()) {
		return fmt.Errorf("%w: the session is another user's", ErrRegistrationRefused)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return ErrRegistrationRefused
	}
	cred, err := f.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return ErrRegistrationRefused
	}
	return f.creds.Add(ctx, userID, *cred)
}

// loginState is the factor's state in a transaction: the challenge Init
// asked to sign, base64url as go-webauthn gives it. It is not a secret;
// it is spent (the state emptied) by the right answer.
type loginState struct {
	Challenge string
	rest      string // fields a later release appended, kept as they are
}

// loginStateVersion leads every encoded state. Version 1 is the
// challenge; then what a later release appended.
const loginStateVersion = 1

func (s loginState) encode() []byte {
	return append(binenc.AppendString([]byte{loginStateVersion}, s.Challenge), s.rest...)
}

func decodeLoginState(data []byte) (loginState, error) {
	r := binenc.NewReader(data, loginStateVersion)
	s := loginState{Challenge: r.ReadString()}
	s.rest = r.Rest()
	if err := r.Err(); err != nil {
		return loginState{}, err
	}
	if s.Challenge == "" {
		return loginState{}, fmt.Errorf("%w: no challenge", binenc.ErrCorrupt)
	}
	return s, nil
}
