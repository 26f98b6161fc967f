// Package otpcode is the ChallengeEmail and ChallengeSMS factors of
// package authn: a random one-time code sent through a Sender, kept only
// as an HMAC.
package otpcode

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// Factor keys of [Factor].
const (
	EmailKey = "ChallengeEmail"
	SMSKey   = "ChallengeSMS"
)

// Sender delivers one-time codes. Implementations must be safe for
// concurrent use and must not log the code.
type Sender interface {
	SendCode(ctx context.Context, factorKey, destination, code string) error
}

// Options tunes a [Factor].
type Options struct {
	// TTL is how long a code is valid; zero means 5 minutes.
	TTL time.Duration
	// Digits is the code's length; zero means 6.
	Digits int
	Clock  challenge.Clock
}

// Factor is the ChallengeEmail or ChallengeSMS factor, passive: Init sends
// a fresh random code through a Sender, and the transaction keeps only an
// HMAC-SHA256 of it under a server secret, with its expiry. A code is
// single-use: the factor is satisfied by it once. It is safe for
// concurrent use.
type Factor struct {
	key    string
	sender Sender
	secret []byte
	ttl    time.Duration
	digits int
	clock  challenge.Clock
}

var _ authn.Factor = (*Factor)(nil)

// New returns the factor with key EmailKey or SMSKey, sending codes
// through sender and keying their hashes with secret (at least 32 bytes,
// kept by the server).
func New(key string, sender Sender, secret []byte, opts Options) (*Factor, error) {
	if key != EmailKey && key != SMSKey {
		return nil, fmt.Errorf("otpcode: key must be %s or %s", EmailKey, SMSKey)
	}
	if sender == nil || len(secret) < 32 {
		return nil, errors.New("otpcode: needs a Sender and a secret of at least 32 bytes")
	}
	if opts.TTL == 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.Digits == 0 {
		opts.Digits = 6
	}
	if opts.Clock == nil {
		opts.Clock = challenge.SystemClock{}
	}
	if opts.TTL < 0 || opts.Digits < 6 || opts.Digits > 10 {
		return nil, errors.New("otpcode: needs a positive TTL and 6 to 10 digits")
	}
	return &Factor{key: key, sender: sender, secret: append([]byte(nil), secret...), ttl: opts.TTL, digits: opts.Digits, clock: opts.Clock}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return f.key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return true }

type codeState struct {
	MAC     []byte
	Expires time.Time
}

func (f *Factor) mac(txID, code string) []byte {
	h := hmac.New(sha256.New, f.secret)
	h.Write([]byte(txID + "\x00" + code))
	return h.Sum(nil)
}

// Init implements [authn.Factor]: the code is sent once the transaction
// is saved.
func (f *Factor) Init(_ context.Context, req authn.InitRequest) (authn.InitResult, error) {
	dest := req.Registration.Destination
	if dest == "" {
		return authn.InitResult{}, fmt.Errorf("otpcode: %s registration has no destination", f.key)
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(f.digits)), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return authn.InitResult{}, err
	}
	code := fmt.Sprintf("%0*d", f.digits, n)
	state, err := json.Marshal(codeState{MAC: f.mac(req.TransactionID, code), Expires: f.clock.Now().Add(f.ttl)})
	if err != nil {
		return authn.InitResult{}, err
	}
	return authn.InitResult{
		State:   state,
		Prompts: []authn.KeyValue{{Key: "otp", Value: fmt.Sprintf("Enter the %d-digit code sent to %s", f.digits, mask(dest))}},
		Deliver: func(ctx context.Context) error { return f.sender.SendCode(ctx, f.key, dest, code) },
	}, nil
}

// Validate implements [authn.Factor]: right code, not expired, not used.
func (f *Factor) Validate(_ context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	var st codeState
	if err := json.Unmarshal(req.State, &st); err != nil || len(st.MAC) == 0 {
		return authn.ValidateResult{State: req.State}, nil // used, or never sent
	}
	ok := hmac.Equal(f.mac(req.TransactionID, strings.TrimSpace(req.Answer)), st.MAC) && f.clock.Now().Before(st.Expires)
	if !ok {
		return authn.ValidateResult{State: req.State}, nil
	}
	return authn.ValidateResult{State: nil, Correct: true, Satisfied: true}, nil // the code is spent
}

// mask shows enough of a destination to recognise it: "j***@example.com",
// "***1234".
func mask(dest string) string {
	if local, domain, ok := strings.Cut(dest, "@"); ok && local != "" {
		return local[:1] + "***@" + domain
	}
	if len(dest) > 4 {
		return "***" + dest[len(dest)-4:]
	}
	return "***"
}
