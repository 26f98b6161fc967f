// Package questions implements security questions and answers under a
// business's rules (Akana-style): a per-business catalog of questions with
// answer constraints, users' enrollments stored only as argon2id hashes, and
// a verification challenge that asks a random subset of a user's questions.
//
// The package knows nothing of HTTP; adapters/questionshttp serves it.
package questions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// Refusals, matched with errors.Is.
var (
	// ErrInvalid: the request breaks the rules; the error is a *RuleError
	// listing every violation.
	ErrInvalid = errors.New("questions: request breaks the rules")
	// ErrUnknownBusiness: no catalog is stored for the business.
	ErrUnknownBusiness = errors.New("questions: unknown business")
	// ErrNotEnrolled: the user has no answers to ask.
	ErrNotEnrolled = errors.New("questions: user has not enrolled answers")
	// ErrWrongAnswer: an answer did not match; it counts as a failed attempt.
	ErrWrongAnswer = errors.New("questions: wrong answer")
)

// RuleError lists every rule a request breaks. It matches ErrInvalid.
type RuleError struct {
	Violations []Violation
}

func (e *RuleError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = fmt.Sprintf("entry %d %s %s", v.Entry, v.Field, v.Message)
	}
	return "questions: " + strings.Join(parts, "; ")
}

func (e *RuleError) Is(target error) bool { return target == ErrInvalid }

// Options tunes a [Service]. The zero value is ready to use.
type Options struct {
	// Params are the argon2id parameters for new hashes; zero means
	// DefaultParams().
	Params Params
	// MaxConcurrentHashes bounds the hashes running at once; zero means
	// GOMAXPROCS.
	MaxConcurrentHashes int
	// QuestionsPerVerification is how many right answers a verification
	// needs; zero means 2 (never more than the user enrolled).
	QuestionsPerVerification int
	// VerificationTTL is how long a verification lives; zero means 5 minutes.
	VerificationTTL time.Duration
	// BusinessOf returns the business a user belongs to; nil means the part
	// of the user ID after its first dot ("uuid.business"), the original
	// platform's convention.
	BusinessOf func(userID string) (string, error)
	// Engine configures the engines the records are kept with: one
	// configuration an application shares among its flows. Its
	// MaxAttempts is a verification's budget of wrong answers. Its
	// Limiter budgets the starts of verifications, and enrollments, per
	// caller and source, and charges every answer to (user, source),
	// holding off a source that keeps failing and capping a user's
	// failures from every source.
	Engine challenge.EngineOptions
}

// Service manages catalogs, enrollments and verifications. It is safe for
// concurrent use.
type Service struct {
	catalogs      *challenge.Records // not challenges: no machine, no expiry
	enrollments   *challenge.Records
	verifications *challenge.Engine
	hasher        *Hasher
	limiter       challenge.Limiter
	decoded       catalogCache
	perVerify     int
	ttl           time.Duration
	businessOf    func(string) (string, error)
}

// NewService returns a Service keeping its records in store.
func NewService(store challenge.Store, opts Options) (*Service, error) {
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams()
	}
	hasher, err := NewHasher(opts.Params, opts.MaxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	if opts.QuestionsPerVerification < 0 || opts.VerificationTTL < 0 {
		return nil, errors.New("questions: negative QuestionsPerVerification or VerificationTTL")
	}
	if opts.QuestionsPerVerification == 0 {
		opts.QuestionsPerVerification = 2
	}
	if opts.VerificationTTL == 0 {
		opts.VerificationTTL = 5 * time.Minute
	}
	if opts.BusinessOf == nil {
		opts.BusinessOf = businessSuffix
	}
	s := &Service{hasher: hasher, limiter: opts.Engine.Limiter, perVerify: opts.QuestionsPerVerification, ttl: opts.VerificationTTL, businessOf: opts.BusinessOf}
	if s.catalogs, err = challenge.NewRecords(store, CatalogKind, opts.Engine.Clock); err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	if s.enrollments, err = challenge.NewRecords(store, EnrollmentKind, opts.Engine.Clock); err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	m, err := challenge.NewMachine(VerificationDefinition())
	if err != nil {
		return nil, err
	}
	if s.verifications, err = challenge.NewEngine(store, m, opts.Engine); err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	return s, nil
}

func businessSuffix(userID string) (string, error) {
	_, business, ok := strings.Cut(userID, ".")
	if !ok || business == "" {
		return "", fmt.Errorf("%w: user ID has no business suffix", ErrUnknownBusiness)
	}
	return business, nil
}

// ResetLimits forgives userID the failed answers the Limiter holds against
// them, from every source.
func (s *Service) ResetLimits(ctx context.Context, userID string) error {
	return s.verifications.ResetLimits(ctx, userID)
}

// VerificationMachine returns the verification challenge's machine.
func (s *Service) VerificationMachine() *challenge.Machine { return s.verifications.Machine() }

// BusinessOf returns the business userID belongs to, by Options.BusinessOf;
// adapters use it to keep a business's administrators to its own users.
func (s *Service) BusinessOf(userID string) (string, error) {
	if err := checkID("UserID", userID); err != nil {
		return "", err
	}
	return s.businessOf(userID)
}

func checkID(field, id string) error {
	if id == "" || len(id) > challenge.MaxIDLength {
		return &RuleError{Violations: []Violation{{Entry: -1, Field: field, Message: fmt.Sprintf("must be 1 to %d bytes", challenge.MaxIDLength)}}}
	}
	return nil
}
