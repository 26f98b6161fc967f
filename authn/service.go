// Package authn implements factor transactions (Oracle UAS-style): an
// agent starts an authentication transaction for a user, picks one of the
// user's registered factors, and drives it through Init, Validate and
// Finalize. Every response carries a fresh single-use nonce that the next
// request must present.
//
// The factors are packages of their own, written to the contract on
// [Factor]: authn/totp (ChallengeOMATOTP), authn/otpcode (ChallengeEmail,
// ChallengeSMS), authn/kba (ChallengeKBA: security questions),
// authn/push (ChallengeOMAPUSH), authn/recovery
// (ChallengeRecoveryCode: single-use recovery codes) and authn/passkey
// (ChallengePasskey: WebAuthn passkeys); authn/factortest checks any
// factor. The
// package answers domain values and knows nothing of HTTP;
// adapters/authnhttp serves it.
package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

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
	// ErrTooManySends: Init would deliver (send a code, push a
	// notification) past a delivery limit, and delivers nothing. It comes
	// with a *challenge.ThrottledError saying when to retry.
	ErrTooManySends = errors.New("authn: too many deliveries")
)

// Result is the outcome an agent reports with Finalize.
type Result string

// The results of Finalize.
const (
	ResultSuccess Result = "Success"
	ResultFailure Result = "Failure"
	ResultError   Result = "Error"
)

// Reason is why an agent reports Failure or Error with Finalize.
type Reason string

// The reasons of Finalize Failure and Error.
const (
	ReasonWrongAnswer        Reason = "wrong_answer"
	ReasonTooManyAttempts    Reason = "too_many_attempts"
	ReasonChannelCommError   Reason = "channel_comm_error"
	ReasonOtherError         Reason = "other_error"
	ReasonUnavailableForUser Reason = "unavailable_for_user"
	ReasonUserAbandoned      Reason = "user_abandoned"
	ReasonUserTimedOut       Reason = "user_timedout"
)

// Valid reports whether r is one of the reasons above.
func (r Reason) Valid() bool {
	switch r {
	case ReasonWrongAnswer, ReasonTooManyAttempts, ReasonChannelCommError, ReasonOtherError,
		ReasonUnavailableForUser, ReasonUserAbandoned, ReasonUserTimedOut:
		return true
	}
	return false
}

// Options tunes a [Service]. The zero value is ready to use.
type Options struct {
	// TTL is a transaction's lifetime when Begin asks for none; zero means
	// 5 minutes. MaxTTL caps what Begin may ask; zero means 1 hour.
	TTL, MaxTTL time.Duration
	// AuthenticateOnValidate authenticates as soon as a passive factor is
	// satisfied, instead of waiting for Finalize Success. Off by default:
	// the agent stays in charge of ending the transaction.
	AuthenticateOnValidate bool
	// MaxSends is how many deliveries (codes sent, pushes) one transaction
	// may make; zero means 3. SendInterval is the least time between two;
	// zero means 30 seconds. With a Limiter, each destination also has a
	// budget across transactions (challenge.Limits.Deliveries).
	MaxSends     int
	SendInterval time.Duration
	// Engine configures the engine the transactions run on: one
	// configuration an application shares among its flows. Its
	// MaxAttempts is a transaction's budget of wrong answers. Its Limiter
	// budgets Begin per agent and per the end user's address the agent
	// reports (BeginRequest.Source), never per user; charges every
	// Validate to (user, address) before the answer is checked, holding
	// off an address that keeps failing and capping a user's failures
	// from every address; and budgets deliveries per destination.
	Engine challenge.EngineOptions
}

// Service runs factor transactions. It is safe for concurrent use.
type Service struct {
	engine       *challenge.Engine
	registry     Registry
	factors      map[string]Factor
	limiter      challenge.Limiter
	ttl          time.Duration
	maxTTL       time.Duration
	authOnV      bool
	maxSends     int
	sendInterval time.Duration
}

// NewService returns a Service keeping transactions in store, reading
// registrations from registry, and running the given factors.
func NewService(store challenge.Store, registry Registry, factors []Factor, opts Options) (*Service, error) {
	if registry == nil {
		return nil, errors.New("authn: NewService needs a Registry")
	}
	if opts.TTL < 0 || opts.MaxTTL < 0 || opts.MaxSends < 0 || opts.SendInterval < 0 {
		return nil, errors.New("authn: negative TTL, MaxSends or SendInterval")
	}
	if opts.MaxSends == 0 {
		opts.MaxSends = DefaultMaxSends
	}
	if opts.SendInterval == 0 {
		opts.SendInterval = DefaultSendInterval
	}
	if opts.TTL == 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.MaxTTL == 0 {
		opts.MaxTTL = time.Hour
	}
	if opts.TTL > opts.MaxTTL {
		return nil, fmt.Errorf("authn: TTL %v exceeds MaxTTL %v", opts.TTL, opts.MaxTTL)
	}
	s := &Service{registry: registry, factors: map[string]Factor{}, limiter: opts.Engine.Limiter, ttl: opts.TTL, maxTTL: opts.MaxTTL,
		authOnV: opts.AuthenticateOnValidate, maxSends: opts.MaxSends, sendInterval: opts.SendInterval}
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
	s.engine, err = challenge.NewEngine(store, m, opts.Engine)
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	return s, nil
}

// The defaults of Options' delivery limits.
const (
	DefaultMaxSends     = 3
	DefaultSendInterval = 30 * time.Second
)

// Machine returns the transaction's state machine.
func (s *Service) Machine() *challenge.Machine { return s.engine.Machine() }

// MaxTTL is the longest lifetime Begin accepts.
func (s *Service) MaxTTL() time.Duration { return s.maxTTL }

// ResetLimits forgives userID the failures the Limiter holds against them,
// from every address: the transactions', and those of the budgets the
// user's factors share with other kinds of challenge (SharedBudget, as
// ChallengeKBA's answers). Without a Limiter it does nothing.
func (s *Service) ResetLimits(ctx context.Context, userID string) error {
	if s.limiter == nil {
		return nil
	}
	if err := s.engine.ResetLimits(ctx, userID); err != nil {
		return err
	}
	regs, _, err := s.registry.Registrations(ctx, userID)
	if err != nil {
		return fmt.Errorf("authn: registry: %w", err)
	}
	for _, reg := range regs {
		if b, ok := s.factors[reg.FactorKey].(SharedBudget); ok {
			kind, subject := b.AttemptBudget(userID, reg)
			if err := s.limiter.Reset(ctx, kind, subject); err != nil {
				return fmt.Errorf("authn: %s: reset limits: %w: %w", reg.FactorKey, challenge.ErrUnavailable, err)
			}
		}
	}
	return nil
}

// ChallengeInfo describes a factor in a response.
type ChallengeInfo struct {
	FactorKey  string
	Passive    bool
	Attributes []KeyValue
	Prompts    []KeyValue
}

// Response is what every operation answers: the transaction as the
// operation left it. It carries domain values only; an adapter words them
// for its wire (adapters/authnhttp: statusInfo's status, code and
// message).
type Response struct {
	CorrelationID string
	Nonce         string // fresh; the next request must present it
	State         challenge.State
	// Known is whether the user named at Begin is known to the Registry;
	// Registered, whether they have a factor the Service runs.
	Known, Registered bool
	// Challenges are the user's factors (Begin), or the one being run.
	Challenges []ChallengeInfo
	// Factor is the factor Init started, and FactorPassive whether the
	// service checks its answers; "" before Init.
	Factor        string
	FactorPassive bool
	// Wrong is set when this Validate's answer was wrong: it counted.
	Wrong bool
	// Remaining is how many more wrong answers the transaction allows.
	Remaining int
	// Reason is what Finalize Failure or Error gave.
	Reason Reason
}

// BeginRequest starts a transaction.
type BeginRequest struct {
	ClientID string // the agent; only it may continue the transaction
	UserID   string // empty: pending identification
	GroupID  string
	TTL      time.Duration // zero: Options.TTL
	// Source is the end user's network address as the agent reports it,
	// named as a challenge.Origin source ("ip:203.0.113.7"); empty when
	// the agent reports none, and the agent then stands for the user's
	// address in the Limiter's budgets.
	Source string
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
	p := payload{ClientID: req.ClientID, UserID: req.UserID, GroupID: req.GroupID, Source: req.Source}
	_, _ = rand.Read(p.Salt[:]) // documented never to fail
	var regs []Registration
	if req.UserID != "" {
		var err error
		if regs, p.Known, err = s.registry.Registrations(ctx, req.UserID); err != nil {
			return nil, fmt.Errorf("authn: registry: %w", err)
		}
	}
	if len(regs) > 0 {
		p.Factors = make([]string, 0, len(regs))
	}
	for _, r := range regs {
		if _, ok := s.factors[r.FactorKey]; ok && !slices.Contains(p.Factors, r.FactorKey) {
			p.Factors = append(p.Factors, r.FactorKey)
		}
	}
	nonce := s.engine.NewID()
	p.NonceHash = sha256.Sum256([]byte(nonce))
	rec, err := s.engine.Create(ctx, challenge.Start{Subject: req.UserID, TTL: ttl, Data: p.encode(),
		Origin: challenge.Origin{Caller: req.ClientID, Source: req.Source}})
	if err != nil {
		return nil, err
	}
	resp := s.response(rec.ID, nonce, rec.State, &p, s.remaining(rec))
	if len(p.Factors) > 0 {
		resp.Challenges = make([]ChallengeInfo, 0, len(p.Factors))
	}
	for _, key := range p.Factors {
		resp.Challenges = append(resp.Challenges, s.info(key, find(regs, key), nil))
	}
	return resp, nil
}

// Init starts one of the user's registered factors (again, to switch
// factor). The nonce may be empty; if given it must be the latest, or the
// one the last applied step presented if that step was this same Init (a
// repeat, which starts the factor again and answers with the same next
// nonce). A factor that delivers something (a code, a notification) does
// so after the transaction is saved, at most Options.MaxSends times per
// transaction, Options.SendInterval apart, and within the Limiter's budget
// for its destination; past a limit Init returns ErrTooManySends with a
// *challenge.ThrottledError, and changes and sends nothing.
func (s *Service) Init(ctx context.Context, clientID, id, nonce, factorKey string, attrs []KeyValue) (*Response, error) {
	op := "Init " + factorKey
	var p payload
	var newNonce string
	var reg Registration
	charged := false // the destination's budget, charged once however often the step runs
	rec, err := s.step(ctx, clientID, id, nonce, true, op, &p, func(tx *challenge.Tx, repeat bool) error {
		// Refuse before the factor acts.
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
		res, err := f.Init(ctx, InitRequest{TransactionID: tx.ID(), UserID: p.UserID, Registration: reg, Attributes: attrs,
			Origin: challenge.Origin{Caller: p.ClientID, Source: s.source(&p)}})
		if err != nil {
			return fmt.Errorf("authn: %s init: %w", factorKey, err)
		}
		if res.Deliver != nil {
			if err := s.chargeDelivery(ctx, tx, &p, factorKey, reg, &charged); err != nil {
				return err
			}
			tx.AfterSave(func(ctx context.Context) error {
				if err := res.Deliver(ctx); err != nil {
					return fmt.Errorf("authn: %s delivery: %w", factorKey, err)
				}
				return nil
			})
		}
		if err := tx.Fire(EventInit); err != nil {
			return err
		}
		p.Factor, p.FactorState, p.Prompts = factorKey, res.State, res.Prompts
		if repeat {
			if newNonce, ok = replayNonce(&p, nonce, op); !ok {
				return errStale
			}
		} else {
			newNonce = s.advance(&p, nonce, op, outcomeApplied)
		}
		tx.SetData(p.encode())
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp := s.response(rec.ID, newNonce, rec.State, &p, s.remaining(rec))
	resp.Challenges = []ChallengeInfo{s.info(factorKey, reg, p.Prompts)}
	return resp, nil
}

// chargeDelivery applies the delivery limits to an Init that will deliver:
// the transaction's own (counted in p), then, once per request, the
// destination's budget in the Limiter.
func (s *Service) chargeDelivery(ctx context.Context, tx *challenge.Tx, p *payload, factorKey string, reg Registration, charged *bool) error {
	now := tx.Now()
	if p.Sends >= s.maxSends {
		wait := max(tx.ExpiresAt().Sub(now), time.Second) // a new transaction is what works
		return fmt.Errorf("%w: %d per transaction: %w", ErrTooManySends, s.maxSends, &challenge.ThrottledError{RetryAfter: wait})
	}
	if p.Sends > 0 {
		if next := time.UnixMicro(p.LastSend).Add(s.sendInterval); now.Before(next) {
			return fmt.Errorf("%w: one per %v: %w", ErrTooManySends, s.sendInterval, &challenge.ThrottledError{RetryAfter: next.Sub(now)})
		}
	}
	if s.limiter != nil && !*charged {
		dest := reg.Destination
		if dest == "" {
			dest = "user\x00" + p.UserID
		}
		// The limiter sees a digest: no address or phone number reaches its backend.
		sum := sha256.Sum256([]byte(factorKey + "\x00" + dest))
		if err := s.limiter.Deliver(ctx, challenge.Delivery{Destination: "dest:" + hex.EncodeToString(sum[:16]), Source: s.source(p)}); err != nil {
			if errors.Is(err, challenge.ErrThrottled) {
				return fmt.Errorf("%w: per destination: %w", ErrTooManySends, err)
			}
			return fmt.Errorf("authn: limiter: %w: %w", challenge.ErrUnavailable, err)
		}
		*charged = true
	}
	p.Sends++
	p.LastSend = now.UnixMicro()
	return nil
}

// Validate checks an answer with the passive factor being run. A right
// answer satisfies the factor (or, for ChallengeKBA, asks the next
// question); a wrong one counts against the budget and is answered with
// the same prompts, and the one that exhausts the budget blocks the
// transaction. Either way the response carries a fresh nonce. With a
// Limiter the answer is charged to (user, the end user's address) first,
// and a *challenge.ThrottledError refuses it unchecked while that address
// is held off for the user, or the user's failures from every address
// have reached their cap. A repeat (the nonce the last applied Validate
// presented) is answered as that Validate was, without checking again; a
// request whose own answer was checked while another with its nonce was
// applied is refused as stale (its wrong answer counted by the Limiter).
func (s *Service) Validate(ctx context.Context, clientID, id, nonce, answer string) (*Response, error) {
	const op = "Validate"
	var p payload
	var newNonce string
	var reg Registration
	wrong, remaining := false, 0
	evaluated := false // by an earlier run of this request, which lost its race
	rec, err := s.step(ctx, clientID, id, nonce, false, op, &p, func(tx *challenge.Tx, repeat bool) error {
		if repeat {
			if evaluated {
				// Another request with this nonce won: this one's own answer
				// was checked (and counted if wrong), and is not that one's.
				return errStale
			}
			var ok bool
			if newNonce, ok = replayNonce(&p, nonce, op); !ok {
				return errStale
			}
			if reg, _ = s.registration(ctx, p.UserID, p.Factor); reg.FactorKey == "" {
				reg.FactorKey = p.Factor
			}
			wrong, remaining = p.LastOutcome == outcomeWrong, tx.Remaining()
			return nil
		}
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
		kind, subject := Kind, p.UserID
		if b, ok := f.(SharedBudget); ok {
			kind, subject = b.AttemptBudget(p.UserID, reg)
		}
		if err := tx.AttemptIn(kind, subject, s.source(&p)); err != nil {
			return err
		}
		res, err := f.Validate(ctx, ValidateRequest{TransactionID: tx.ID(), UserID: p.UserID, Registration: reg, State: p.FactorState, Answer: answer})
		if err != nil {
			return fmt.Errorf("authn: %s validate: %w", p.Factor, err)
		}
		evaluated = true
		p.FactorState = res.State
		if !res.Correct {
			newNonce = s.advance(&p, nonce, op, outcomeWrong)
			tx.SetData(p.encode())
			err := tx.Fail(ErrWrongAnswer)
			wrong, remaining = true, tx.Remaining()
			return err
		}
		newNonce = s.advance(&p, nonce, op, outcomeApplied)
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
	switch {
	case errors.Is(err, ErrWrongAnswer):
		state := StateInitiated
		if errors.Is(err, challenge.ErrLocked) {
			state = StateBlocked
		}
		return s.validated(id, newNonce, state, &p, reg, true, remaining), nil
	case err != nil:
		return nil, err
	}
	if !wrong {
		remaining = s.remaining(rec)
	}
	return s.validated(rec.ID, newNonce, rec.State, &p, reg, wrong, remaining), nil
}

// validated is Validate's answer in state.
func (s *Service) validated(id, nonce string, state challenge.State, p *payload, reg Registration, wrong bool, remaining int) *Response {
	resp := s.response(id, nonce, state, p, remaining)
	resp.Wrong = wrong
	if state != StateBlocked {
		resp.Challenges = []ChallengeInfo{s.info(p.Factor, reg, p.Prompts)}
	}
	return resp
}

// Finalize closes the transaction with the agent's result: Success after a
// satisfied factor, or after starting a non-passive factor whose outcome
// the agent saw, authenticates; Failure and Error record their reason. A
// repeat (the nonce the last applied step presented, with the same result
// and reason) is answered as that Finalize was.
func (s *Service) Finalize(ctx context.Context, clientID, id, nonce string, result Result, reason Reason) (*Response, error) {
	switch {
	case result != ResultSuccess && result != ResultFailure && result != ResultError:
		return nil, &challenge.FieldError{Field: "challengeResult", Message: "must be one of Success Error Failure"}
	case result != ResultSuccess && !reason.Valid():
		return nil, &challenge.FieldError{Field: "challengeResultReason", Message: "is required with Failure and Error, and must be a known reason"}
	}
	op := "Finalize " + string(result) + " " + string(reason)
	var p payload
	var newNonce string
	rec, err := s.step(ctx, clientID, id, nonce, false, op, &p, func(tx *challenge.Tx, repeat bool) error {
		if repeat {
			var ok bool
			if newNonce, ok = replayNonce(&p, nonce, op); !ok {
				return errStale
			}
			return nil
		}
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
			event, p.Reason = EventFail, string(reason)
		default:
			event, p.Reason = EventError, string(reason)
		}
		if err := tx.Fire(event); err != nil {
			return err
		}
		newNonce = s.advance(&p, nonce, op, outcomeApplied)
		tx.SetData(p.encode())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.response(rec.ID, newNonce, rec.State, &p, s.remaining(rec)), nil
}

var errStale = fmt.Errorf("authn: nonce missing, stale or reused: %w", challenge.ErrStaleNonce)

// step runs fn on transaction id after the checks every operation shares:
// the agent that began it (another agent's transaction, expired or not,
// is challenge.ErrNotFound), an open state, and the latest nonce (optional
// when nonceOptional and empty). A failed check changes nothing, so a
// stale nonce is not rotated. A request that repeats the last applied one
// (the nonce it presented, and the same op) is let through whatever the
// state, with repeat true: fn answers it as it was answered, or redoes it.
func (s *Service) step(ctx context.Context, clientID, id, nonce string, nonceOptional bool, op string, p *payload, fn func(tx *challenge.Tx, repeat bool) error) (*challenge.Record, error) {
	guard := func(rec *challenge.Record) error {
		var err error
		if *p, err = decodePayload(rec.Data); err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(p.ClientID), []byte(clientID)) != 1 {
			// Another agent's transaction is none of this agent's business.
			return fmt.Errorf("authn: transaction of another agent: %w", challenge.ErrNotFound)
		}
		return nil
	}
	return s.engine.StepGuarded(ctx, id, guard, func(tx *challenge.Tx) error {
		if p.Source != "" {
			tx.SetSource(p.Source)
		} else {
			tx.SetSourceOf("agent", p.ClientID) // as s.source(p), joined only for an Observer
		}
		if nonce != "" && repeats(p, nonce, op) {
			return fn(tx, true)
		}
		if s.engine.Machine().IsFinal(tx.State()) {
			return fmt.Errorf("%w (%s)", ErrClosed, tx.State())
		}
		if nonce != "" || !nonceOptional {
			got := sha256.Sum256([]byte(nonce))
			if nonce == "" || subtle.ConstantTimeCompare(got[:], p.NonceHash[:]) != 1 {
				return errStale
			}
		}
		return fn(tx, false)
	})
}

// repeats reports whether a request presenting nonce for op repeats the
// last step the transaction applied.
func repeats(p *payload, nonce, op string) bool {
	if p.LastNonce == (digest{}) || p.LastOp != op {
		return false
	}
	got := sha256.Sum256([]byte(nonce))
	return subtle.ConstantTimeCompare(got[:], p.LastNonce[:]) == 1
}

// advance records a step that presented nonce (empty: none) for op and
// returns the transaction's next nonce, keeping only its hash. The next
// nonce is derived from the one presented (deriveNonce), so that a repeat
// of the step can be answered with it again (replayNonce) although it is
// not stored; a step without a nonce gets a random one.
func (s *Service) advance(p *payload, nonce, op string, outcome byte) string {
	var next string
	if nonce != "" && p.Salt != (digest{}) {
		next = deriveNonce(&p.Salt, p.Seq, nonce, op)
		p.LastNonce = sha256.Sum256([]byte(nonce))
	} else {
		next = s.engine.NewID()
		p.LastNonce = digest{}
	}
	p.LastOp, p.LastOutcome = op, outcome
	p.Seq++
	p.NonceHash = sha256.Sum256([]byte(next))
	return next
}

// replayNonce returns the nonce the last applied step answered with, given
// the nonce and op it presented, and whether it is still the latest.
func replayNonce(p *payload, nonce, op string) (string, bool) {
	if p.Salt == (digest{}) || p.Seq == 0 {
		return "", false
	}
	next := deriveNonce(&p.Salt, p.Seq-1, nonce, op)
	h := sha256.Sum256([]byte(next))
	return next, subtle.ConstantTimeCompare(h[:], p.NonceHash[:]) == 1
}

// deriveNonce is HMAC-SHA256 (RFC 2104) keyed with the transaction's
// random salt over the step's number, its op and the nonce presented, cut
// to 128 bits and encoded as challenge.NewID encodes: unpredictable to
// anyone who lacks the salt (kept in the store) or the presented nonce
// (kept nowhere). It is written out over sha256.Sum256 and buffers on the
// stack because crypto/hmac allocates a dozen times per call, on a path
// every step takes; TestDeriveNonceIsHMACSHA256 holds it to crypto/hmac.
func deriveNonce(salt *digest, seq uint64, nonce, op string) string {
	const block = 64 // SHA-256's block size; the 32-byte key is zero-padded to it
	var stack [block + 256]byte
	in := stack[:0]
	if n := block + 8 + len(op) + 1 + len(nonce); n > len(stack) {
		in = make([]byte, 0, n) // a nonce far longer than any this package issues
	}
	ipad, opad := pad(salt, 0x36), pad(salt, 0x5c)
	in = append(in, ipad[:]...)
	in = binary.BigEndian.AppendUint64(in, seq)
	in = append(in, op...)
	in = append(in, 0)
	in = append(in, nonce...)
	sum := sha256.Sum256(in)
	var outer [block + sha256.Size]byte
	copy(outer[:], opad[:])
	copy(outer[block:], sum[:])
	sum = sha256.Sum256(outer[:])
	var out [22]byte
	base64.RawURLEncoding.Encode(out[:], sum[:16])
	return string(out[:])
}

// pad is the HMAC key block: key zero-padded to 64 bytes, xored with b.
func pad(key *digest, b byte) [64]byte {
	var k [64]byte
	copy(k[:], key[:])
	for i := range k {
		k[i] ^= b
	}
	return k
}

// source is the end user's address for the Limiter: what the agent
// reported at Begin, or the agent itself.
func (s *Service) source(p *payload) string {
	if p.Source != "" {
		return p.Source
	}
	return "agent:" + p.ClientID
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

func (s *Service) response(id, nonce string, state challenge.State, p *payload, remaining int) *Response {
	resp := &Response{CorrelationID: id, Nonce: nonce, State: state, Known: p.Known, Registered: len(p.Factors) > 0,
		Remaining: remaining, Reason: Reason(p.Reason), Factor: p.Factor}
	if f := s.factors[p.Factor]; f != nil {
		resp.FactorPassive = f.Passive()
	}
	return resp
}

// remaining is how many more wrong answers rec's budget allows.
func (s *Service) remaining(rec *challenge.Record) int {
	return max(0, s.engine.MaxAttempts()-rec.Attempts)
}

func (s *Service) info(key string, reg Registration, prompts []KeyValue) ChallengeInfo {
	f := s.factors[key]
	return ChallengeInfo{FactorKey: key, Passive: f != nil && f.Passive(), Attributes: reg.Attributes, Prompts: prompts}
}
