package authn

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

	"github.com/challengekit/challengekit/challenge"
)

// Factor keys of [OTPCode].
const (
	EmailKey = "ChallengeEmail"
	SMSKey   = "ChallengeSMS"
)

// Sender delivers one-time codes. Implementations must be safe for
// concurrent use and must not log the code.
type Sender interface {
	SendCode(ctx context.Context, factorKey, destination, code string) error
}

// OTPCodeOptions tunes an [OTPCode] factor.
type OTPCodeOptions struct {
	// TTL is how long a code is valid; zero means 5 minutes.
	TTL time.Duration
	// Digits is the code's length; zero means 6.
	Digits int
	Clock  challenge.Clock
}

// OTPCode is the ChallengeEmail or ChallengeSMS factor, passive: Init sends
// a fresh random code through a Sender, and the transaction keeps only an
// HMAC-SHA256 of it under a server secret, with its expiry. A code is
// single-use: the factor is satisfied by it once. It is safe for
// concurrent use.
type OTPCode struct {
	key    string
	sender Sender
	secret []byte
	ttl    time.Duration
	digits int
	clock  challenge.Clock
}

var _ Factor = (*OTPCode)(nil)

// NewOTPCode returns the factor with key EmailKey or SMSKey, sending codes
// through sender and keying their hashes with secret (at least 32 bytes,
// kept by the server).
func NewOTPCode(key string, sender Sender, secret []byte, opts OTPCodeOptions) (*OTPCode, error) {
	if key != EmailKey && key != SMSKey {
		return nil, fmt.Errorf("authn: OTPCode key must be %s or %s", EmailKey, SMSKey)
	}
	if sender == nil || len(secret) < 32 {
		return nil, errors.New("authn: OTPCode needs a Sender and a secret of at least 32 bytes")
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
		return nil, errors.New("authn: OTPCode needs a positive TTL and 6 to 10 digits")
	}
	return &OTPCode{key: key, sender: sender, secret: append([]byte(nil), secret...), ttl: opts.TTL, digits: opts.Digits, clock: opts.Clock}, nil
}

// Key implements [Factor].
func (f *OTPCode) Key() string { return f.key }

// Passive implements [Factor].
func (f *OTPCode) Passive() bool { return true }

type codeState struct {
	MAC     []byte
	Expires time.Time
}

func (f *OTPCode) mac(txID, code string) []byte {
	h := hmac.New(sha256.New, f.secret)
	h.Write([]byte(txID + "\x00" + code))
	return h.Sum(nil)
}

// Init implements [Factor]: the code is sent after the transaction is
// saved.
func (f *OTPCode) Init(_ context.Context, req InitRequest) (InitResult, error) {
	dest := req.Registration.Destination
	if dest == "" {
		return InitResult{}, fmt.Errorf("authn: %s registration has no destination", f.key)
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(f.digits)), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return InitResult{}, err
	}
	code := fmt.Sprintf("%0*d", f.digits, n)
	state, err := json.Marshal(codeState{MAC: f.mac(req.TransactionID, code), Expires: f.clock.Now().Add(f.ttl)})
	if err != nil {
		return InitResult{}, err
	}
	return InitResult{
		State:     state,
		Prompts:   []KeyValue{{"otp", fmt.Sprintf("Enter the %d-digit code sent to %s", f.digits, mask(dest))}},
		AfterSave: func(ctx context.Context) error { return f.sender.SendCode(ctx, f.key, dest, code) },
	}, nil
}

// Validate implements [Factor]: right code, not expired, not used.
func (f *OTPCode) Validate(_ context.Context, req ValidateRequest) (ValidateResult, error) {
	var st codeState
	if err := json.Unmarshal(req.State, &st); err != nil || len(st.MAC) == 0 {
		return ValidateResult{State: req.State}, nil // used, or never sent
	}
	ok := hmac.Equal(f.mac(req.TransactionID, strings.TrimSpace(req.Answer)), st.MAC) && f.clock.Now().Before(st.Expires)
	if !ok {
		return ValidateResult{State: req.State}, nil
	}
	return ValidateResult{State: nil, Correct: true, Satisfied: true}, nil // the code is spent
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
