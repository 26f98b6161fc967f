// Package totp is the ChallengeOMATOTP factor of package authn: time-based
// one-time passwords (RFC 6238) from an authenticator app, each accepted
// once.
package totp

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// Key is the factor key of [Factor].
const Key = "ChallengeOMATOTP"

// UsedKind is the record kind of the per-user replay guard.
const UsedKind = "authn_totp_used"

// Options tunes a [Factor]. The zero value is RFC 6238's usual profile:
// 30-second steps, 6 digits, SHA-1, one step of clock skew either way.
type Options struct {
	Period time.Duration
	Digits int
	// Skew is how many steps before and after now are accepted; zero means
	// 1, negative means none.
	Skew  int
	Clock challenge.Clock
}

// Factor is the ChallengeOMATOTP factor, passive. Codes come from
// github.com/pquerna/otp. A code is accepted once, across transactions:
// the last accepted time step of each user is kept in the store with the
// transaction that claimed it, and only later steps pass, or the same step
// again for the transaction that claimed it, so that a step re-run after
// a lost race, or repeated after a lost answer, finds its own claim. It is
// safe for concurrent use.
type Factor struct {
	used  *challenge.Records
	clock challenge.Clock
	opts  otptotp.ValidateOpts
	skew  int
}

var _ authn.Factor = (*Factor)(nil)

// New returns the factor, keeping its replay guard in store.
func New(store challenge.Store, opts Options) (*Factor, error) {
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
		return nil, errors.New("totp: needs a period of 1s or more, 6 or 8 digits, and a skew of at most 2")
	}
	used, err := challenge.NewRecords(store, UsedKind, opts.Clock)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return &Factor{used: used, clock: opts.Clock, skew: max(opts.Skew, 0), opts: otptotp.ValidateOpts{
		Period: uint(opts.Period / time.Second), Digits: otp.Digits(opts.Digits), Algorithm: otp.AlgorithmSHA1}}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return Key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return true }

// Init implements [authn.Factor].
func (f *Factor) Init(_ context.Context, req authn.InitRequest) (authn.InitResult, error) {
	if req.Registration.Secret == "" {
		return authn.InitResult{}, errors.New("totp: registration has no secret")
	}
	return authn.InitResult{Prompts: []authn.KeyValue{{Key: "otp", Value: fmt.Sprintf("Enter the %d-digit code from your authenticator app", f.opts.Digits)}}}, nil
}

// Validate implements [authn.Factor]: the code must match one of the
// accepted steps and be later than the user's last accepted step.
func (f *Factor) Validate(ctx context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	now := f.clock.Now()
	period := time.Duration(f.opts.Period) * time.Second
	step, ok := int64(-1), false
	for d := -f.skew; d <= f.skew; d++ {
		t := now.Add(time.Duration(d) * period)
		code, err := otptotp.GenerateCodeCustom(req.Registration.Secret, t, f.opts)
		if err != nil {
			return authn.ValidateResult{}, fmt.Errorf("totp: secret: %w", err)
		}
		// Compare every candidate, in constant time, whatever matched before.
		if subtle.ConstantTimeCompare([]byte(code), []byte(req.Answer)) == 1 {
			step, ok = t.Unix()/int64(f.opts.Period), true
		}
	}
	if !ok {
		return authn.ValidateResult{State: req.State}, nil
	}
	fresh, err := f.claim(ctx, req.UserID, req.TransactionID, step)
	if err != nil {
		return authn.ValidateResult{}, err
	}
	return authn.ValidateResult{State: req.State, Correct: fresh, Satisfied: fresh}, nil
}

// claim records step as the user's last accepted one, claimed by
// transaction txID, and reports false if it was not later than the last
// (unless txID claimed that one itself).
func (f *Factor) claim(ctx context.Context, userID, txID string, step int64) (bool, error) {
	fresh := false
	err := f.used.Update(ctx, userID, func(data []byte, found bool) ([]byte, error) {
		fresh = false
		if !found {
			fresh = true
			return encodeUsed(step, txID), nil
		}
		last, claimer, err := decodeUsed(data)
		if err != nil {
			return nil, err
		}
		switch {
		case step > last:
			fresh = true
			return encodeUsed(step, txID), nil
		case step == last && claimer == txID && txID != "":
			fresh = true // this transaction's own claim, asked again
		}
		return nil, nil
	})
	return fresh, err
}

// The replay guard's record is the last accepted step (8 bytes,
// big-endian) followed by the ID of the transaction that claimed it. The
// format is closed: it has no version byte and no room for another field
// (the claimer runs to the end), so a change to it takes a new record
// kind. Records of the release before claimers were kept hold the step
// alone, and are read with no claimer.

func encodeUsed(step int64, txID string) []byte {
	enc := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(txID)), uint64(step))
	return append(enc, txID...)
}

func decodeUsed(data []byte) (step int64, claimer string, err error) {
	if len(data) < 8 {
		return 0, "", fmt.Errorf("totp: corrupt replay record of %d bytes", len(data))
	}
	return int64(binary.BigEndian.Uint64(data)), string(data[8:]), nil
}
