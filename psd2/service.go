// Package psd2 implements a bank's PSD2 access-to-account consent challenge
// (Solaris-style) on the challenge core.
//
// A third-party provider (TPP) asks for access to an account; the bank
// creates a challenge ([Service.Create]); the partner that runs the login
// screen checks it ([Service.GetForPartner]) and, once the customer has
// logged in, reports the person ([Service.EnterCredentials]); the bank
// checks that the person owns the IBAN and answers with the URL of its
// second-factor step, whose outcome authorizes or fails the challenge
// ([Service.CompleteSecondFactor]).
//
// Partners are tenants: a challenge belongs to the partner whose customer
// holds the account, and to every other partner it does not exist.
//
// The package knows nothing of HTTP; adapters/psd2http serves it.
package psd2

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/challengekit/challengekit/challenge"
)

// Refusals specific to PSD2, matched with errors.Is. Expiry, unknown IDs,
// final states and malformed fields are the core's challenge.ErrExpired,
// challenge.ErrNotFound, challenge.ErrFinal and *challenge.FieldError.
var (
	// ErrIBANNotOwned: the person does not own the challenge's IBAN. It
	// counts as a failed attempt.
	ErrIBANNotOwned = errors.New("psd2: the IBAN requested by the TPP does not belong to the specified person")
	// ErrOtherPerson: the challenge already belongs to a different person.
	ErrOtherPerson = errors.New("psd2: challenge belongs to another person")
)

// MaxFieldLength bounds every text field of a request.
const MaxFieldLength = 255

// DefaultTTL is how long a challenge lives when Options.TTL is zero.
const DefaultTTL = 5 * time.Minute

// Options tunes a [Service]. The zero value is ready to use.
type Options struct {
	// TTL is how long a challenge accepts operations. Zero means DefaultTTL.
	TTL time.Duration
	// Engine configures the engine the challenges run on: one
	// configuration an application shares among its flows. Its
	// MaxAttempts is how many IBAN mismatches a challenge takes before it
	// fails. Its Limiter budgets creations per caller
	// (CreateRequest.Caller), and the PATCHes that name a person who does
	// not own the account per (person, partner), with a hard cap per
	// person across partners.
	Engine challenge.EngineOptions
}

// Service runs PSD2 consent challenges. It is safe for concurrent use.
type Service struct {
	engine    *challenge.Engine
	accounts  AccountDirectory
	redirects Redirects
	ttl       time.Duration
}

// NewService returns a Service keeping its challenges in store, checking
// ownership with accounts and building redirect URLs with redirects.
func NewService(store challenge.Store, accounts AccountDirectory, redirects Redirects, opts Options) (*Service, error) {
	if accounts == nil || redirects == nil {
		return nil, errors.New("psd2: NewService needs an AccountDirectory and a Redirects")
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("psd2: negative TTL %v", opts.TTL)
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	m, err := challenge.NewMachine(Definition())
	if err != nil {
		return nil, err
	}
	eng, err := challenge.NewEngine(store, m, opts.Engine)
	if err != nil {
		return nil, fmt.Errorf("psd2: %w", err)
	}
	return &Service{engine: eng, accounts: accounts, redirects: redirects, ttl: opts.TTL}, nil
}

// Machine returns the service's state machine.
func (s *Service) Machine() *challenge.Machine { return s.engine.Machine() }

// Challenge is a PSD2 challenge as callers see it.
type Challenge struct {
	ID          string
	Status      challenge.State
	IBAN        string // electronic form
	TPPName     string
	TPPID       string
	Scope       string
	PersonID    string // empty until credentials were entered
	RedirectURL string // empty until the challenge was redirected
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// CreateRequest is what the bank knows when a TPP asks for access.
type CreateRequest struct {
	IBAN    string // required; spaces allowed
	TPPName string // required
	TPPID   string
	Scope   string
	// Caller names the bank's system that asks, whose budget of starts
	// the Limiter charges; empty charges none.
	Caller string
}

// Create starts a challenge in state pending, belonging to the partner
// whose customer holds the account. It returns a *challenge.FieldError for
// a missing or invalid field, or an IBAN the AccountDirectory does not
// know.
func (s *Service) Create(ctx context.Context, req CreateRequest) (*Challenge, error) {
	iban, ok := NormalizeIBAN(req.IBAN)
	switch {
	case req.IBAN == "":
		return nil, &challenge.FieldError{Field: "iban", Message: "is required"}
	case !ok:
		return nil, &challenge.FieldError{Field: "iban", Message: "is not a valid IBAN"}
	case req.TPPName == "":
		return nil, &challenge.FieldError{Field: "tpp_name", Message: "is required"}
	}
	for _, f := range []struct{ name, value string }{{"tpp_name", req.TPPName}, {"tpp_id", req.TPPID}, {"scope", req.Scope}} {
		if err := checkText(f.name, f.value); err != nil {
			return nil, err
		}
	}
	partner, err := s.accounts.PartnerOf(ctx, iban)
	switch {
	case errors.Is(err, ErrUnknownAccount):
		return nil, &challenge.FieldError{Field: "iban", Message: "is not an account of this bank"}
	case err != nil:
		return nil, fmt.Errorf("psd2: account directory: %w", err)
	case partner == "":
		return nil, errors.New("psd2: account directory: an account without a partner")
	}
	p := payload{IBAN: iban, TPPName: req.TPPName, TPPID: req.TPPID, Scope: req.Scope, Partner: partner}
	rec, err := s.engine.Create(ctx, challenge.Start{TTL: s.ttl, Data: p.encode(), Origin: challenge.Origin{Caller: req.Caller}})
	if err != nil {
		return nil, fmt.Errorf("psd2: create: %w", err)
	}
	return s.view(rec, &p), nil
}

// Get returns the challenge with this ID, whichever partner it belongs to:
// the bank's view. It returns challenge.ErrNotFound for an unknown ID and
// challenge.ErrExpired for an expired challenge.
func (s *Service) Get(ctx context.Context, id string) (*Challenge, error) {
	var (
		rec challenge.Record
		p   payload
	)
	// A read that only decodes: the record is lent, not copied. Inside
	// the callback only decoding runs (the strings it reads are copies),
	// and no port is called: the store's lock or connection is held.
	err := s.engine.View(ctx, id, func(lent *challenge.Record) error {
		var err error
		if p, err = decodePayload(lent.Data); err != nil {
			return fmt.Errorf("psd2: get %s: %w", id, err)
		}
		rec = *lent
		rec.Data = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(&rec, &p), nil
}

// GetForPartner returns the challenge with this ID if it belongs to
// partner. A challenge of another partner, expired or not, is
// challenge.ErrNotFound, exactly as an unknown ID; an expired one of the
// partner's is challenge.ErrExpired.
func (s *Service) GetForPartner(ctx context.Context, partner, id string) (*Challenge, error) {
	var p payload
	rec, err := s.engine.StepGuarded(ctx, id, s.tenant(partner, &p), nil)
	if err != nil {
		return nil, err
	}
	return s.view(rec, &p), nil
}

// tenant returns a guard that decodes a record's payload into p and lets
// only partner's challenges through.
func (s *Service) tenant(partner string, p *payload) func(*challenge.Record) error {
	return func(rec *challenge.Record) error {
		var err error
		if *p, err = decodePayload(rec.Data); err != nil {
			return err
		}
		if partner == "" || p.Partner != partner {
			return fmt.Errorf("psd2: challenge of another partner: %w", challenge.ErrNotFound)
		}
		return nil
	}
}

// ResetLimits forgives personID the failed PATCHes the Limiter holds
// against them, from every partner.
func (s *Service) ResetLimits(ctx context.Context, personID string) error {
	return s.engine.ResetLimits(ctx, personID)
}

// EnterCredentials records that personID logged in on partner's screen for
// challenge id (the PATCH of the API):
//
//   - pending, and the person owns the IBAN: the challenge moves through
//     credentials_entered to redirected and gets a fresh one-time redirect
//     token;
//   - redirected (or credentials_entered) for the same person: nothing
//     changes and the same redirect URL is returned, so a client retrying
//     after a lost response is not punished;
//   - the person does not own the IBAN: ErrIBANNotOwned, counted as a failed
//     attempt of the challenge and, with a Limiter, of the person from this
//     partner; the attempt that exhausts the budget fails the challenge and
//     still returns ErrIBANNotOwned (also matching challenge.ErrLocked).
//     The same person again (a retry) is answered the same, and counted
//     once;
//   - the person does not own the IBAN while the Limiter holds them off
//     from this partner: a *challenge.ThrottledError, counted nowhere;
//   - another person past pending: ErrOtherPerson;
//   - authorized or failed: challenge.ErrFinal; expired: challenge.ErrExpired;
//     unknown, or another partner's: challenge.ErrNotFound.
func (s *Service) EnterCredentials(ctx context.Context, partner, id, personID string) (*Challenge, error) {
	if personID == "" {
		return nil, &challenge.FieldError{Field: "person_id", Message: "is required"}
	}
	if err := checkText("person_id", personID); err != nil {
		return nil, err
	}
	var p payload
	rec, err := s.engine.StepGuarded(ctx, id, s.tenant(partner, &p), func(tx *challenge.Tx) error {
		tx.SetSourceOf("partner", partner)
		switch tx.State() {
		case StatePending:
			if personID == p.LastMismatch {
				return ErrIBANNotOwned // a retry of the last mismatch: counted once already
			}
			owns, err := s.accounts.OwnsIBAN(ctx, personID, p.IBAN)
			if err != nil {
				return fmt.Errorf("psd2: account directory: %w", err)
			}
			if !owns {
				// Who owns an account is no secret to guess at, so the
				// person is charged when the lookup fails, not before: the
				// owner's PATCHes, however many race, are never held.
				if err := tx.Attempt(personID, "partner:"+partner); err != nil {
					return err
				}
				p.LastMismatch = personID
				tx.SetData(p.encode())
				return tx.Fail(ErrIBANNotOwned)
			}
			if err := tx.Fire(EventEnterCredentials); err != nil {
				return err
			}
			tx.SetSubject(personID)
			return s.redirect(tx, &p)
		case StateCredentialsEntered:
			if tx.Subject() != personID {
				return ErrOtherPerson
			}
			return s.redirect(tx, &p)
		case StateRedirected:
			if tx.Subject() != personID {
				return ErrOtherPerson
			}
			return nil // a retry: answer with what the first request got
		default:
			return tx.Fire(EventEnterCredentials) // refused: final
		}
	})
	if err != nil {
		return nil, err
	}
	return s.view(rec, &p), nil
}

func (s *Service) redirect(tx *challenge.Tx, p *payload) error {
	if err := tx.Fire(EventRedirect); err != nil {
		return err
	}
	p.RedirectToken = s.engine.NewID()
	tx.SetData(p.encode())
	return nil
}

// CompleteSecondFactor records the outcome of the bank's second-factor step
// for a redirected challenge: success authorizes it, failure fails it.
// Reporting the same outcome again is answered with the challenge as it is
// (a retry); anything else on a finished challenge is challenge.ErrFinal,
// and on a challenge not yet redirected challenge.ErrInvalidTransition.
func (s *Service) CompleteSecondFactor(ctx context.Context, id string, success bool) (*Challenge, error) {
	event, done := EventFail, StateFailed
	if success {
		event, done = EventAuthorize, StateAuthorized
	}
	var p payload
	rec, err := s.engine.Step(ctx, id, func(tx *challenge.Tx) error {
		var err error
		if p, err = decodePayload(tx.Data()); err != nil {
			return err
		}
		if tx.State() == done {
			return nil
		}
		return tx.Fire(event)
	})
	if err != nil {
		return nil, err
	}
	return s.view(rec, &p), nil
}

func (s *Service) view(rec *challenge.Record, p *payload) *Challenge {
	c := &Challenge{
		ID: rec.ID, Status: rec.State, IBAN: p.IBAN, TPPName: p.TPPName, TPPID: p.TPPID, Scope: p.Scope,
		PersonID: rec.Subject, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt,
	}
	if p.RedirectToken != "" {
		c.RedirectURL = s.redirects.RedirectURL(p.RedirectToken)
	}
	return c
}

func checkText(field, value string) error {
	switch {
	case len(value) > MaxFieldLength:
		return &challenge.FieldError{Field: field, Message: fmt.Sprintf("is longer than %d bytes", MaxFieldLength)}
	case !utf8.ValidString(value):
		return &challenge.FieldError{Field: field, Message: "is not valid UTF-8"}
	}
	for _, r := range value {
		if r < 0x20 || r == 0x7f {
			return &challenge.FieldError{Field: field, Message: "contains control characters"}
		}
	}
	return nil
}
