// Package authn implements factor transactions (Oracle UAS-style): an
// agent starts an authentication transaction for a user, picks one of the
// user's registered factors, and drives it through Init, Validate and
// Finalize. Every response carries a fresh single-use nonce that the next
// request must present.
//
// Built-in factors: ChallengeOMATOTP (TOTP), ChallengeEmail and
// ChallengeSMS (one-time codes through a Sender), ChallengeKBA (security
// questions) and ChallengeOMAPUSH (push through a Notifier). The package
// knows nothing of HTTP; adapters/httpapi serves it.
package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
)

// Refusals, matched with errors.Is. Unknown transactions are
// challenge.ErrNotFound, expired ones challenge.ErrExpired, a stale, reused
// or missing nonce challenge.ErrStaleNonce, and a missing or wrong field a
// *challenge.FieldError.
var (
	// ErrClosed: the transaction is authenticated, failed, in error or
	// blocked, and accepts no further operation.
	ErrClosed = errors.New("authn: transaction is closed")
	// ErrWrongAnswer: Validate was given a wrong answer; it counts.
	ErrWrongAnswer = errors.New("authn: wrong answer")
)

// Result is the outcome an agent reports with Finalize.
type Result string

// The results of Finalize.
const (
	ResultSuccess Result = "Success"
	ResultFailure Result = "Failure"
	ResultError   Result = "Error"
)

// Reasons a Failure or Error may give.
var Reasons = []string{"wrong_answer", "too_many_attempts", "channel_comm_error", "other_error",
	"unavailable_for_user", "user_abandoned", "user_timedout"}

// Options tunes a [Service]. The zero value is ready to use.
type Options struct {
	// TTL is a transaction's lifetime when Begin asks for none; zero means
	// 5 minutes. MaxTTL caps what Begin may ask; zero means 1 hour.
	TTL, MaxTTL time.Duration
	// MaxAttempts is a transaction's budget of wrong answers; zero means 3.
	MaxAttempts int
	// AuthenticateOnValidate authenticates as soon as a passive factor is
	// satisfied, instead of waiting for Finalize Success. Off by default:
	// the agent stays in charge of ending the transaction.
	AuthenticateOnValidate bool
	// Clock, IDs, Logger, Observer and Limiter are handed to the engine. A
	// Limiter throttles a user ID that keeps beginning transactions or
	// failing them; unknown and known IDs are throttled alike.
	Clock    challenge.Clock
	IDs      challenge.IDSource
	Logger   zerolog.Logger
	Observer challenge.Observer
	Limiter  challenge.Limiter
}

// Service runs factor transactions. It is safe for concurrent use.
type Service struct {
	engine   *challenge.Engine
	registry Registry
	factors  map[string]Factor
	ttl      time.Duration
	maxTTL   time.Duration
	authOnV  bool
}

// NewService returns a Service keeping transactions in store, reading
// registrations from registry, and running the given factors.
func NewService(store challenge.Store, registry Registry, factors []Factor, opts Options) (*Service, error) {
	if registry == nil {
		return nil, errors.New("authn: NewService needs a Registry")
	}
	if opts.TTL < 0 || opts.MaxTTL < 0 {
		return nil, errors.New("authn: negative TTL")
	}
	if opts.TTL == 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.MaxTTL == 0 {
		opts.MaxTTL = time.Hour
	}
	s := &Service{registry: registry, factors: map[string]Factor{}, ttl: opts.TTL, maxTTL: opts.MaxTTL, authOnV: opts.AuthenticateOnValidate}
	for _, f := range factors {
		if _, dup := s.factors[f.Key()]; dup {
			return nil, fmt.Errorf("authn: factor %q given twice", f.Key())
		}
		s.factors[f.Key()] = f
	}
	m, err := challenge.NewMachine(Definition())
	if err != nil {
		return nil, err
	}
	s.engine, err = challenge.NewEngine(store, m, challenge.EngineOptions{Clock: opts.Clock, IDs: opts.IDs,
		MaxAttempts: opts.MaxAttempts, Logger: opts.Logger, Observer: opts.Observer, Limiter: opts.Limiter})
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	return s, nil
}

// Machine returns the transaction's state machine.
func (s *Service) Machine() *challenge.Machine { return s.engine.Machine() }

// ChallengeInfo describes a factor in a response.
type ChallengeInfo struct {
	FactorKey  string
	Passive    bool
	Attributes []KeyValue
	Prompts    []KeyValue
}

// Response is what every operation answers.
type Response struct {
	CorrelationID string
	Nonce         string // fresh; the next request must present it
	Status        string // one of the seven Status constants
	Code          string
	Message       string
	Challenges    []ChallengeInfo
}

// BeginRequest starts a transaction.
type BeginRequest struct {
	ClientID string // the agent; only it may continue the transaction
	UserID   string // empty: pending identification
	GroupID  string
	TTL      time.Duration // zero: Options.TTL
}

// Begin starts a transaction for a user: pending verification with the
// user's factors, missing registration if the user has none, or pending
// identification if the user is unknown or not given.
func (s *Service) Begin(ctx context.Context, req BeginRequest) (*Response, error) {
	ttl := req.TTL
	switch {
	case ttl < 0 || ttl > s.maxTTL:
		return nil, &challenge.FieldError{Field: "timeToLiveInSec", Message: fmt.Sprintf("must be between 1 and %d", int(s.maxTTL.Seconds()))}
	case ttl == 0:
		ttl = s.ttl
	}
	p := payload{ClientID: req.ClientID, UserID: req.UserID, GroupID: req.GroupID}
	var regs []Registration
	if req.UserID != "" {
		var err error
		if regs, p.Known, err = s.registry.Registrations(ctx, req.UserID); err != nil {
			return nil, fmt.Errorf("authn: registry: %w", err)
		}
	}
	for _, r := range regs {
		if _, ok := s.factors[r.FactorKey]; ok && !slices.Contains(p.Factors, r.FactorKey) {
			p.Factors = append(p.Factors, r.FactorKey)
		}
	}
	nonce := s.rotate(&p)
	rec, err := s.engine.Create(ctx, challenge.Start{Subject: req.UserID, TTL: ttl, Data: p.encode()})
	if err != nil {
		return nil, err
	}
	resp := s.response(rec.ID, nonce, rec.State, &p, "")
	for _, key := range p.Factors {
		resp.Challenges = append(resp.Challenges, s.info(key, find(regs, key), nil))
	}
	return resp, nil
}

// Init starts one of the user's registered factors (again, to switch
// factor). The nonce may be empty; if given it must be the latest.
func (s *Service) Init(ctx context.Context, clientID, id, nonce, factorKey string, attrs []KeyValue) (*Response, error) {
	var after func(context.Context) error
	var p payload
	var newNonce string
	var reg Registration
	rec, err := s.step(ctx, clientID, id, nonce, true, &p, func(tx *challenge.Tx) error {
		// Refuse before the factor acts: its Init may send a code.
		if !s.engine.Machine().Can(tx.State(), EventInit) {
			return &challenge.FieldError{Field: "challengeop", Message: "Init is not allowed once a factor is satisfied; Finalize the transaction"}
		}
		f, ok := s.factors[factorKey]
		if !ok || !slices.Contains(p.Factors, factorKey) {
			return &challenge.FieldError{Field: "challengedata.factorKey", Message: "is not a factor registered for the user"}
		}
		var err error
		if reg, err = s.registration(ctx, p.UserID, factorKey); err != nil {
			return err
		}
		res, err := f.Init(ctx, InitRequest{TransactionID: tx.ID(), UserID: p.UserID, Registration: reg, Attributes: attrs})
		if err != nil {
			return fmt.Errorf("authn: %s init: %w", factorKey, err)
		}
		if err := tx.Fire(EventInit); err != nil {
			return err
		}
		p.Factor, p.FactorState, p.Prompts, after = factorKey, res.State, res.Prompts, res.AfterSave
		newNonce = s.rotate(&p)
		tx.SetData(p.encode())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if after != nil {
		if err := after(ctx); err != nil {
			return nil, fmt.Errorf("authn: %s delivery: %w", factorKey, err)
		}
	}
	resp := s.response(rec.ID, newNonce, rec.State, &p, "")
	resp.Challenges = []ChallengeInfo{s.info(factorKey, reg, p.Prompts)}
	return resp, nil
}

// Validate checks an answer with the passive factor being run. A right
// answer satisfies the factor (or, for ChallengeKBA, asks the next
// question); a wrong one counts against the budget and is answered with
// the same prompts, and the one that exhausts the budget blocks the
// transaction. Either way the response carries a fresh nonce.
func (s *Service) Validate(ctx context.Context, clientID, id, nonce, answer string) (*Response, error) {
	var p payload
	var newNonce, message string
	var reg Registration
	rec, err := s.step(ctx, clientID, id, nonce, false, &p, func(tx *challenge.Tx) error {
		if tx.State() != StateInitiated {
			return &challenge.FieldError{Field: "challengeop", Message: "Validate needs a factor started with Init and not yet satisfied"}
		}
		f := s.factors[p.Factor]
		if f == nil || !f.Passive() {
			return &challenge.FieldError{Field: "challengeop", Message: "Validate is for passive factors only; report the outcome with Finalize"}
		}
		var err error
		if reg, err = s.registration(ctx, p.UserID, p.Factor); err != nil {
			return err
		}
		res, err := f.Validate(ctx, ValidateRequest{TransactionID: tx.ID(), UserID: p.UserID, Registration: reg, State: p.FactorState, Answer: answer})
		if err != nil {
			return fmt.Errorf("authn: %s validate: %w", p.Factor, err)
		}
		p.FactorState = res.State
		newNonce = s.rotate(&p)
		if !res.Correct {
			tx.SetData(p.encode())
			message = fmt.Sprintf("The answer is not correct. %d attempts left.", max(0, tx.Remaining()-1))
			return tx.Fail(ErrWrongAnswer)
		}
		if !res.Satisfied {
			p.Prompts = res.Prompts
			tx.SetData(p.encode())
			return nil
		}
		p.Prompts = nil
		if err := tx.Fire(EventSatisfy); err != nil {
			return err
		}
		if s.authOnV {
			if err := tx.Fire(EventAuthenticate); err != nil {
				return err
			}
		}
		tx.SetData(p.encode())
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrWrongAnswer) {
			return nil, err
		}
		state := StateInitiated
		if errors.Is(err, challenge.ErrLocked) {
			state, message = StateBlocked, "Too many wrong answers; the transaction is blocked."
		}
		resp := s.response(id, newNonce, state, &p, message)
		if state == StateInitiated {
			resp.Challenges = []ChallengeInfo{s.info(p.Factor, reg, p.Prompts)}
		}
		return resp, nil
	}
	resp := s.response(rec.ID, newNonce, rec.State, &p, "")
	resp.Challenges = []ChallengeInfo{s.info(p.Factor, reg, p.Prompts)}
	return resp, nil
}

// Finalize closes the transaction with the agent's result: Success after a
// satisfied factor, or after starting a non-passive factor whose outcome
// the agent saw, authenticates; Failure and Error record their reason.
func (s *Service) Finalize(ctx context.Context, clientID, id, nonce string, result Result, reason string) (*Response, error) {
	switch {
	case result != ResultSuccess && result != ResultFailure && result != ResultError:
		return nil, &challenge.FieldError{Field: "challengeResult", Message: "must be one of Success Error Failure"}
	case result != ResultSuccess && !slices.Contains(Reasons, reason):
		return nil, &challenge.FieldError{Field: "challengeResultReason", Message: "is required with Failure and Error, and must be a known reason"}
	}
	var p payload
	var newNonce string
	rec, err := s.step(ctx, clientID, id, nonce, false, &p, func(tx *challenge.Tx) error {
		var event challenge.Event
		switch result {
		case ResultSuccess:
			f := s.factors[p.Factor]
			passive := f == nil || f.Passive()
			if tx.State() != StateValidated && (tx.State() != StateInitiated || passive) {
				return &challenge.FieldError{Field: "challengeResult", Message: "Success needs a satisfied factor, or a started non-passive one"}
			}
			event = EventAuthenticate
		case ResultFailure:
			event, p.Reason = EventFail, reason
		default:
			event, p.Reason = EventError, reason
		}
		if err := tx.Fire(event); err != nil {
			return err
		}
		newNonce = s.rotate(&p)
		tx.SetData(p.encode())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.response(rec.ID, newNonce, rec.State, &p, p.Reason), nil
}

// step runs fn on transaction id after the checks every operation shares:
// the agent that began it, an open state, and the latest nonce (optional
// when nonceOptional and empty). A failed check changes nothing, so a stale
// nonce is not rotated.
func (s *Service) step(ctx context.Context, clientID, id, nonce string, nonceOptional bool, p *payload, fn func(*challenge.Tx) error) (*challenge.Record, error) {
	return s.engine.Step(ctx, id, func(tx *challenge.Tx) error {
		var err error
		if *p, err = decodePayload(tx.Data()); err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(p.ClientID), []byte(clientID)) != 1 {
			// Another agent's transaction is none of this agent's business.
			return fmt.Errorf("authn: transaction of another agent: %w", challenge.ErrNotFound)
		}
		if s.engine.Machine().IsFinal(tx.State()) {
			return fmt.Errorf("%w (%s)", ErrClosed, tx.State())
		}
		if nonce != "" || !nonceOptional {
			got := sha256.Sum256([]byte(nonce))
			if nonce == "" || subtle.ConstantTimeCompare(got[:], p.NonceHash) != 1 {
				return fmt.Errorf("authn: nonce missing, stale or reused: %w", challenge.ErrStaleNonce)
			}
		}
		return fn(tx)
	})
}

// rotate gives p a fresh nonce and returns it; only its hash is kept.
func (s *Service) rotate(p *payload) string {
	n := s.engine.NewID()
	h := sha256.Sum256([]byte(n))
	p.NonceHash = h[:]
	return n
}

func (s *Service) registration(ctx context.Context, userID, key string) (Registration, error) {
	regs, _, err := s.registry.Registrations(ctx, userID)
	if err != nil {
		return Registration{}, fmt.Errorf("authn: registry: %w", err)
	}
	for _, r := range regs {
		if r.FactorKey == key {
			return r, nil
		}
	}
	return Registration{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "is no longer registered for the user"}
}

func find(regs []Registration, key string) Registration {
	for _, r := range regs {
		if r.FactorKey == key {
			return r
		}
	}
	return Registration{FactorKey: key}
}

func (s *Service) response(id, nonce string, state challenge.State, p *payload, message string) *Response {
	status, code := wireStatus(state, p)
	if message == "" {
		message = defaultMessages[status]
	}
	return &Response{CorrelationID: id, Nonce: nonce, Status: status, Code: code, Message: message}
}

var defaultMessages = map[string]string{
	StatusAuthenticated:         "The user is authenticated.",
	StatusPendingVerification:   "Waiting for the user to complete a factor.",
	StatusPendingIdentification: "The user is not known.",
	StatusFailed:                "The authentication failed.",
	StatusError:                 "The authentication ended in error.",
	StatusMissingRegistration:   "The user has no registered factor.",
	StatusChallengeBlocked:      "Too many wrong answers; the transaction is blocked.",
}

func (s *Service) info(key string, reg Registration, prompts []KeyValue) ChallengeInfo {
	f := s.factors[key]
	return ChallengeInfo{FactorKey: key, Passive: f != nil && f.Passive(), Attributes: reg.Attributes, Prompts: prompts}
}
