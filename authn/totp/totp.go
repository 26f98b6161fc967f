// Package totp is the ChallengeOMATOTP factor of package authn: time-based
// one-time passwords (RFC 6238) from an authenticator app, each accepted
// once.
package totp

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"

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

// Factor is the ChallengeOMATOTP factor, passive. Codes are RFC 6238's
// with HMAC-SHA-1, as github.com/pquerna/otp makes them. A code is
// accepted once, across transactions: the last accepted time step of each
// user is kept in the store with the transaction that claimed it, and only
// later steps pass, or the same step again for the transaction that
// claimed it, so that a step re-run after a lost race, or repeated after a
// lost answer, finds its own claim. It is safe for concurrent use.
type Factor struct {
	used   *challenge.Records
	clock  challenge.Clock
	period int64 // seconds
	digits int
	skew   int
	prompt string
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
	return &Factor{used: used, clock: opts.Clock, period: int64(opts.Period / time.Second), digits: opts.Digits,
		skew: max(opts.Skew, 0), prompt: fmt.Sprintf("Enter the %d-digit code from your authenticator app", opts.Digits)}, nil
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
	return authn.InitResult{Prompts: []authn.KeyValue{{Key: "otp", Value: f.prompt}}}, nil
}

// Validate implements [authn.Factor]: the code must match one of the
// accepted steps and be later than the user's last accepted step.
func (f *Factor) Validate(ctx context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	key, err := decodeSecret(req.Registration.Secret)
	if err != nil {
		return authn.ValidateResult{}, fmt.Errorf("totp: secret: %w", err)
	}
	now := f.clock.Now().Unix() / f.period
	step, ok := int64(-1), false
	for s := now - int64(f.skew); s <= now+int64(f.skew); s++ {
		var digits [8]byte
		code := generate(key, s, digits[:f.digits])
		// Compare every candidate, in constant time, whatever matched before.
		if subtle.ConstantTimeCompare(code, []byte(req.Answer)) == 1 {
			step, ok = s, true
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

// decodeSecret decodes a base32 secret as github.com/pquerna/otp does:
// surrounding space trimmed, padding optional, letters in either case.
func decodeSecret(secret string) ([]byte, error) {
	secret = strings.TrimSpace(secret)
	if n := len(secret) % 8; n != 0 {
		secret += "========"[n:]
	}
	key, err := base32.StdEncoding.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil, otp.ErrValidateSecretInvalidBase32
	}
	return key, nil
}

// generate writes the code of time step step under key into code, whose
// length is the number of digits (RFC 4226's dynamic truncation), and
// returns it.
func generate(key []byte, step int64, code []byte) []byte {
	sum := hmacSHA1(key, uint64(step))
	offset := sum[len(sum)-1] & 0xf
	value := binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff
	for i := len(code) - 1; i >= 0; i-- {
		code[i] = byte('0' + value%10)
		value /= 10
	}
	return code
}

// hmacSHA1 is HMAC-SHA-1 (RFC 2104) of an 8-byte big-endian counter,
// worked out on the stack: a key serves at most five counters per answer,
// too few to pay for crypto/hmac's allocations.
func hmacSHA1(key []byte, counter uint64) [sha1.Size]byte {
	const block = 64 // SHA-1's block size
	var k [block]byte
	if len(key) > block {
		sum := sha1.Sum(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var inner [block + 8]byte
	for i, b := range k {
		inner[i] = b ^ 0x36
	}
	binary.BigEndian.PutUint64(inner[block:], counter)
	innerSum := sha1.Sum(inner[:])
	var outer [block + sha1.Size]byte
	for i, b := range k {
		outer[i] = b ^ 0x5c
	}
	copy(outer[block:], innerSum[:])
	return sha1.Sum(outer[:])
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
