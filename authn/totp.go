package authn

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/challenge"
)

// TOTPKey is the factor key of [TOTP].
const TOTPKey = "ChallengeOMATOTP"

// TOTPOptions tunes a [TOTP] factor. The zero value is RFC 6238's usual
// profile: 30-second steps, 6 digits, SHA-1, one step of clock skew either
// way.
type TOTPOptions struct {
	Period time.Duration
	Digits int
	// Skew is how many steps before and after now are accepted; zero means
	// 1, negative means none.
	Skew  int
	Clock challenge.Clock
}

// TOTP is the ChallengeOMATOTP factor (RFC 6238), passive. Codes come from
// github.com/pquerna/otp; a code accepted once is never accepted again,
// across transactions: the last accepted time step of each user is kept in
// the store, with the transaction that claimed it, and only later steps
// pass (or the same step again for that transaction, so that a Validate
// repeated after an unknown outcome is answered as it was). It is safe
// for concurrent use.
type TOTP struct {
	used  *challenge.Engine
	clock challenge.Clock
	opts  totp.ValidateOpts
	skew  int
}

var _ Factor = (*TOTP)(nil)

// TOTPUsedKind is the record kind of the per-user replay guard.
const TOTPUsedKind = "authn_totp_used"

// NewTOTP returns the TOTP factor, keeping its replay guard in store.
func NewTOTP(store challenge.Store, opts TOTPOptions) (*TOTP, error) {
	if opts.Period == 0 {
		opts.Period = 30 * time.Second
	}
	if opts.Digits == 0 {
		opts.Digits = 6
	}
	if opts.Skew == 0 {
		opts.Skew = 1
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	if opts.Period < time.Second || (opts.Digits != 6 && opts.Digits != 8) || opts.Skew > 2 {
		return nil, errors.New("authn: TOTP needs a period of 1s or more, 6 or 8 digits, and a skew of at most 2")
	}
	m, err := challenge.NewMachine(challenge.Definition{Name: TOTPUsedKind, Initial: "used",
		Transitions: []challenge.Transition{{Event: "use", From: []challenge.State{"used"}, To: "used"}}})
	if err != nil {
		return nil, err
	}
	eng, err := challenge.NewEngine(store, m, challenge.EngineOptions{Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	return &TOTP{used: eng, clock: opts.Clock, skew: max(opts.Skew, 0), opts: totp.ValidateOpts{
		Period: uint(opts.Period / time.Second), Digits: otp.Digits(opts.Digits), Algorithm: otp.AlgorithmSHA1}}, nil
}

// Key implements [Factor].
func (f *TOTP) Key() string { return TOTPKey }

// Passive implements [Factor].
func (f *TOTP) Passive() bool { return true }

// Init implements [Factor].
func (f *TOTP) Init(_ context.Context, req InitRequest) (InitResult, error) {
	if req.Registration.Secret == "" {
		return InitResult{}, errors.New("authn: TOTP registration has no secret")
	}
	return InitResult{Prompts: []KeyValue{{"otp", fmt.Sprintf("Enter the %d-digit code from your authenticator app", f.opts.Digits)}}}, nil
}

// Validate implements [Factor]: the code must match one of the accepted
// steps and be later than the user's last accepted step.
func (f *TOTP) Validate(ctx context.Context, req ValidateRequest) (ValidateResult, error) {
	now := f.clock.Now()
	period := time.Duration(f.opts.Period) * time.Second
	step, ok := int64(-1), false
	for d := -f.skew; d <= f.skew; d++ {
		t := now.Add(time.Duration(d) * period)
		code, err := totp.GenerateCodeCustom(req.Registration.Secret, t, f.opts)
		if err != nil {
			return ValidateResult{}, fmt.Errorf("authn: TOTP secret: %w", err)
		}
		// Compare every candidate, in constant time, whatever matched before.
		if subtle.ConstantTimeCompare([]byte(code), []byte(req.Answer)) == 1 {
			step, ok = t.Unix()/int64(f.opts.Period), true
		}
	}
	if !ok {
		return ValidateResult{State: req.State}, nil
	}
	fresh, err := f.markUsed(ctx, req.UserID, req.TransactionID, step)
	if err != nil {
		return ValidateResult{}, err
	}
	return ValidateResult{State: req.State, Correct: fresh, Satisfied: fresh}, nil
}

// markUsed records step as the user's last accepted one, claimed by
// transaction txID, and reports false if it was not later than the last
// (unless txID claimed that one itself). The record is the step (8 bytes,
// big-endian) followed by the claiming transaction's ID.
func (f *TOTP) markUsed(ctx context.Context, userID, txID string, step int64) (bool, error) {
	enc := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(txID)), uint64(step))
	enc = append(enc, txID...)
	fresh := false
	_, err := f.used.Step(ctx, userID, func(tx *challenge.Tx) error {
		data := tx.Data()
		if len(data) < 8 {
			return fmt.Errorf("authn: corrupt TOTP replay record of %d bytes", len(data))
		}
		last, claimer := int64(binary.BigEndian.Uint64(data)), string(data[8:])
		switch {
		case step > last:
			fresh = true
			tx.SetData(enc)
		case step == last && claimer == txID && txID != "":
			fresh = true // this transaction's own claim, asked again
		default:
			fresh = false
		}
		return nil
	})
	if errors.Is(err, challenge.ErrNotFound) {
		_, err = f.used.Create(ctx, challenge.Start{ID: userID, Data: enc})
		if errors.Is(err, challenge.ErrAlreadyExists) { // a concurrent first use won; ask again
			return f.markUsed(ctx, userID, txID, step)
		}
		return err == nil, err
	}
	return fresh, err
}
