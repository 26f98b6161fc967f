// Package recovery is the ChallengeRecoveryCode factor of package authn:
// a set of single-use recovery codes, shown to the user once and kept only
// as keyed hashes, each accepted once across the fleet.
package recovery

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
)

// Key is the factor key of [Factor].
const Key = "ChallengeRecoveryCode"

// Kind is the record kind of the users' sets of codes: one record per
// user, whose ID is the user ID.
const Kind = "authn_recovery_codes"

// SetSize is how many codes [Factor.Generate] makes.
const SetSize = 10

// Options tunes a [Factor]. The zero value is the safe default.
type Options struct {
	// Clock stamps the records; nil means the system's.
	Clock challenge.Clock
}

// Factor is the ChallengeRecoveryCode factor, passive, and the keeper of
// the users' recovery codes. [Factor.Generate] makes a user's set of
// [SetSize] codes, replacing the set before it; Validate accepts each code
// of the current set once.
//
// A code is 10 characters of Crockford's base32 (50 random bits), shown
// as two groups of five, "ABCDE-FGHJK". An answer is read without regard
// to case, dashes or spaces, with O read as 0 and I and L as 1.
//
// The store keeps one record per user: the set's generation and, for each
// code, an HMAC-SHA256 of it under the server's secret (bound to the user
// and the generation), whether it was used, and by which transaction.
// A slow password hash (argon2) is for secrets people choose, which can
// be guessed offline; a code is 50 random bits, which cannot. Guessing
// one online is bounded by the Service's budgets; guessing offline from a
// stolen store needs the secret, which the store does not hold, and then
// about 2^47 HMACs per user to find one of ten codes. So an answer costs
// one HMAC, not a slow hash that every login would pay for.
//
// Marking a code used is a compare-and-set of the user's record, so that
// of two servers given the same code at once exactly one accepts it. The
// mark names the transaction: a step of the same transaction run again
// (after a lost race, or a repeated request) accepts the code again, any
// other transaction does not. A code marked by a run whose transaction
// was then not saved stays used: it errs towards refusing.
//
// It is safe for concurrent use.
type Factor struct {
	sets   *challenge.Records
	secret []byte
}

var _ authn.Factor = (*Factor)(nil)

// New returns the factor, keeping the sets in store and keying their
// hashes with secret (at least 32 bytes, kept by the server and not in
// the store). Changing the secret makes every set unusable: users must
// generate new ones.
func New(store challenge.Store, secret []byte, opts Options) (*Factor, error) {
	if len(secret) < 32 {
		return nil, errors.New("recovery: needs a secret of at least 32 bytes")
	}
	sets, err := challenge.NewRecords(store, Kind, opts.Clock)
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	return &Factor{sets: sets, secret: append([]byte(nil), secret...)}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return Key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return true }

// Generate makes a new set of [SetSize] codes for userID and returns them,
// formatted to be shown: this is the only time they are. The set replaces
// the user's set before it, whose codes are wrong from then on. Errors are
// the store's, classified as [challenge.Records] classifies them.
func (f *Factor) Generate(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, 0, SetSize)
	for len(codes) < SetSize {
		c := newCode()
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	err := f.sets.UpdateAbout(ctx, userID, userID, func(data []byte, found bool) ([]byte, error) {
		next := set{Generation: 1}
		if found {
			old, err := decodeSet(data)
			if err != nil {
				return nil, fmt.Errorf("the stored set: %w", err)
			}
			next = set{Generation: old.Generation + 1, rest: old.rest}
		}
		next.Codes = make([]entry, len(codes))
		for i, c := range codes {
			next.Codes[i].Hash = f.hash(userID, next.Generation, c)
		}
		return next.encode(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("recovery: generate: %w", err)
	}
	shown := make([]string, len(codes))
	for i, c := range codes {
		shown[i] = c[:5] + "-" + c[5:]
	}
	return shown, nil
}

// Remaining returns how many of userID's codes are unused: 0 for a user
// who has none.
func (f *Factor) Remaining(ctx context.Context, userID string) (int, error) {
	s, found, err := f.load(ctx, userID)
	if err != nil || !found {
		return 0, err
	}
	return s.unused(), nil
}

func (f *Factor) load(ctx context.Context, userID string) (set, bool, error) {
	rec, err := f.sets.Get(ctx, userID)
	if errors.Is(err, challenge.ErrNotFound) {
		return set{}, false, nil
	}
	if err != nil {
		return set{}, false, fmt.Errorf("recovery: %w", err)
	}
	s, err := decodeSet(rec.Data)
	if err != nil {
		return set{}, false, fmt.Errorf("recovery: the stored set: %w", err)
	}
	return s, true, nil
}

// Init implements [authn.Factor]: it asks for a code, and refuses a user
// with no unused code.
func (f *Factor) Init(ctx context.Context, req authn.InitRequest) (authn.InitResult, error) {
	s, found, err := f.load(ctx, req.UserID)
	if err != nil {
		return authn.InitResult{}, err
	}
	if !found || s.unused() == 0 {
		return authn.InitResult{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "cannot start: the user has no recovery codes left"}
	}
	return authn.InitResult{Prompts: []authn.KeyValue{{Key: "recoveryCode", Value: "Enter one of your recovery codes"}}}, nil
}

// Validate implements [authn.Factor]: an unused code of the user's set is
// right, and is marked used by the transaction; a used one is wrong,
// unless this transaction used it.
func (f *Factor) Validate(ctx context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	code, ok := normalize(req.Answer)
	if !ok {
		return authn.ValidateResult{State: req.State}, nil
	}
	accepted := false
	err := f.sets.Update(ctx, req.UserID, func(data []byte, found bool) ([]byte, error) {
		accepted = false
		if !found {
			return nil, nil
		}
		s, err := decodeSet(data)
		if err != nil {
			return nil, fmt.Errorf("the stored set: %w", err)
		}
		mac := f.hash(req.UserID, s.Generation, code)
		match := -1
		// Compare with every hash, in constant time, whatever matched before.
		for i := range s.Codes {
			if subtle.ConstantTimeCompare(mac[:], s.Codes[i].Hash[:]) == 1 {
				match = i
			}
		}
		if match < 0 {
			return nil, nil
		}
		e := &s.Codes[match]
		if e.Used {
			// This transaction's own mark, found by a step run again.
			accepted = e.By == req.TransactionID && e.By != ""
			return nil, nil
		}
		e.Used, e.By, accepted = true, req.TransactionID, true
		return s.encode(), nil
	})
	if err != nil {
		return authn.ValidateResult{}, fmt.Errorf("recovery: validate: %w", err)
	}
	return authn.ValidateResult{State: req.State, Correct: accepted, Satisfied: accepted}, nil
}

// hash is the code's HMAC under the secret, bound to the user and the
// set's generation.
func (f *Factor) hash(userID string, generation int64, code string) [sha256.Size]byte {
	m := hmac.New(sha256.New, f.secret)
	b := binenc.AppendString([]byte("challengekit authn/recovery v1\x00"), userID)
	b = binenc.AppendInt(b, generation)
	m.Write(binenc.AppendString(b, code))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	return sum
}

// alphabet is Crockford's base32: digits and capitals without I, L, O, U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLength is the length of a code, without its dash: 10 characters of
// 5 bits each.
const codeLength = 10

// newCode returns a code of 50 random bits, without its dash.
func newCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	v := binary.BigEndian.Uint64(b[:])
	var c [codeLength]byte
	for i := range c {
		c[i] = alphabet[v&31]
		v >>= 5
	}
	return string(c[:])
}

// normalize returns the code an answer spells, without its dash: case,
// dashes and spaces do not matter, O is 0, and I and L are 1. It reports
// false for an answer that spells no code.
func normalize(answer string) (string, bool) {
	if len(answer) > 4*codeLength {
		return "", false
	}
	var c [codeLength]byte
	n := 0
	for i := 0; i < len(answer); i++ {
		ch := answer[i]
		switch {
		case ch == '-' || ch == ' ':
			continue
		case 'a' <= ch && ch <= 'z':
			ch -= 'a' - 'A'
		}
		switch ch {
		case 'O':
			ch = '0'
		case 'I', 'L':
			ch = '1'
		}
		if n == codeLength || strings.IndexByte(alphabet, ch) < 0 {
			return "", false
		}
		c[n] = ch
		n++
	}
	return string(c[:]), n == codeLength
}
