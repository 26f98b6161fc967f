// Package questions implements security questions and answers under a
// business's rules (Akana-style): a per-business catalog of questions with
// answer constraints, users' enrollments stored only as argon2id hashes, and
// a verification challenge that asks a random subset of a user's questions.
//
// The package knows nothing of HTTP; adapters/httpapi serves it.
package questions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
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
	catalogs      *challenge.Engine
	enrollments   *challenge.Engine
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
	verifyOpts := opts.Engine
	engOpts := opts.Engine
	engOpts.Limiter = nil // catalogs and enrollments are not challenges
	for _, e := range []struct {
		dst *(*challenge.Engine)
		def challenge.Definition
	}{
		{&s.catalogs, storedDefinition(CatalogKind)},
		{&s.enrollments, storedDefinition(EnrollmentKind)},
		{&s.verifications, VerificationDefinition()},
	} {
		o := engOpts
		if e.dst == &s.verifications {
			o = verifyOpts
		}
		m, err := challenge.NewMachine(e.def)
		if err != nil {
			return nil, err
		}
		if *e.dst, err = challenge.NewEngine(store, m, o); err != nil {
			return nil, fmt.Errorf("questions: %w", err)
		}
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

// PutCatalog validates and stores a business's catalog, replacing any
// previous one, and returns it as stored. Invalid catalogs get a *RuleError.
func (s *Service) PutCatalog(ctx context.Context, businessID string, c Catalog) (*Catalog, error) {
	if err := checkID("BusinessID", businessID); err != nil {
		return nil, err
	}
	if vs := c.Validate(); len(vs) > 0 {
		return nil, &RuleError{Violations: vs}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("questions: encoding catalog: %w", err)
	}
	if err := upsert(ctx, s.catalogs, businessID, "", data); err != nil {
		return nil, err
	}
	return &c, nil
}

// Catalog returns a business's catalog, or ErrUnknownBusiness. The
// catalog is the caller's to change.
func (s *Service) Catalog(ctx context.Context, businessID string) (*Catalog, error) {
	c, err := s.catalog(ctx, businessID)
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// catalog returns a business's catalog, shared: callers must not change it.
// Every call reads the record (so a catalog stored by another server is
// seen at once), but decodes it only when its bytes differ from those the
// cached catalog was decoded from.
func (s *Service) catalog(ctx context.Context, businessID string) (*Catalog, error) {
	rec, err := s.catalogs.Get(ctx, businessID)
	if errors.Is(err, challenge.ErrNotFound) {
		return nil, fmt.Errorf("%w: %.64q", ErrUnknownBusiness, businessID)
	}
	if err != nil {
		return nil, err
	}
	if c := s.decoded.get(businessID, rec.Data); c != nil {
		return c, nil
	}
	c := new(Catalog)
	if err := json.Unmarshal(rec.Data, c); err != nil {
		return nil, fmt.Errorf("questions: corrupt catalog of %q: %w", businessID, err)
	}
	s.decoded.put(businessID, rec.Data, c)
	return c, nil
}

// maxDecodedCatalogs bounds the cache of decoded catalogs; past it, the
// cache starts over.
const maxDecodedCatalogs = 1024

// catalogCache keeps decoded catalogs with the bytes they were decoded
// from. It is safe for concurrent use; the catalogs in it are never
// changed.
type catalogCache struct {
	mu sync.RWMutex
	m  map[string]decodedCatalog
}

type decodedCatalog struct {
	raw []byte
	cat *Catalog
}

func (c *catalogCache) get(business string, raw []byte) *Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if d, ok := c.m[business]; ok && bytes.Equal(d.raw, raw) {
		return d.cat
	}
	return nil
}

func (c *catalogCache) put(business string, raw []byte, cat *Catalog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxDecodedCatalogs {
		c.m = make(map[string]decodedCatalog)
	}
	c.m[business] = decodedCatalog{raw: raw, cat: cat} // raw is the store's copy, ours alone
}

// enrollment is the stored form of a user's answers.
type enrollment struct {
	Business string
	Answers  []storedAnswer
	rest     string // fields a later release appended, kept as they are
}

type storedAnswer struct {
	Code          string
	Hash          string // argon2id, PHC format
	CaseSensitive bool   // how the answer was normalized before hashing
}

// Enroll checks a user's answers against the business's rules and, if all
// pass, replaces the user's enrollment with their hashes in one write: the
// update is all-or-nothing. It returns the answers as stored (each with the
// user's ID), which the original API echoes. Broken rules get a *RuleError
// listing every violation; nothing is stored then.
func (s *Service) Enroll(ctx context.Context, userID string, answers []Answer) ([]Answer, error) {
	return s.EnrollFrom(ctx, challenge.Origin{}, userID, answers)
}

// EnrollFrom is Enroll for a request from origin (the caller, and the end
// user's address): with a Limiter, it is charged to origin's budgets of
// starts first, since each enrollment spends argon2id hashes, and refused
// with a *challenge.ThrottledError when they are spent.
func (s *Service) EnrollFrom(ctx context.Context, origin challenge.Origin, userID string, answers []Answer) ([]Answer, error) {
	if s.limiter != nil && origin.Caller != "" {
		if err := s.limiter.Start(ctx, origin); err != nil {
			if !errors.Is(err, challenge.ErrThrottled) {
				err = fmt.Errorf("%w: limiter: %w", challenge.ErrUnavailable, err)
			}
			return nil, fmt.Errorf("questions: enroll: %w", err)
		}
	}
	business, err := s.BusinessOf(userID)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, business)
	if err != nil {
		return nil, err
	}
	if vs := Check(cat, userID, answers); len(vs) > 0 {
		return nil, &RuleError{Violations: vs}
	}
	e := enrollment{Business: business, Answers: make([]storedAnswer, len(answers))}
	for i, a := range answers {
		cs := cat.Lookup(a.ChallengeCode).CaseSensitive()
		hash, err := s.hasher.Hash(ctx, Normalize(a.Answer, cs))
		if err != nil {
			return nil, err
		}
		e.Answers[i] = storedAnswer{Code: a.ChallengeCode, Hash: hash, CaseSensitive: cs}
	}
	if err := upsert(ctx, s.enrollments, userID, userID, e.encode()); err != nil {
		return nil, err
	}
	out := make([]Answer, len(answers))
	for i, a := range answers {
		out[i] = Answer{UserID: userID, ChallengeCode: a.ChallengeCode, Answer: a.Answer}
	}
	return out, nil
}

// upsert stores data as the record id of eng's kind, creating or replacing
// it.
func upsert(ctx context.Context, eng *challenge.Engine, id, subject string, data []byte) error {
	replace := func(tx *challenge.Tx) error { tx.SetData(data); return nil }
	_, err := eng.Step(ctx, id, replace)
	if !errors.Is(err, challenge.ErrNotFound) {
		return err
	}
	_, err = eng.Create(ctx, challenge.Start{ID: id, Subject: subject, Data: data})
	if errors.Is(err, challenge.ErrAlreadyExists) { // created meanwhile by a concurrent request
		_, err = eng.Step(ctx, id, replace)
	}
	return err
}

// EnrolledQuestion is a question a user has answered; never the answer.
type EnrolledQuestion struct {
	UserID            string
	ChallengeCode     string
	ChallengeQuestion string
}

// Enrolled returns the questions a user has answered (none if the user has
// not enrolled), with their current text from the catalog.
func (s *Service) Enrolled(ctx context.Context, userID string) ([]EnrolledQuestion, error) {
	e, cat, err := s.load(ctx, userID)
	if errors.Is(err, ErrNotEnrolled) {
		return []EnrolledQuestion{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]EnrolledQuestion, 0, len(e.Answers))
	for _, a := range e.Answers {
		q := EnrolledQuestion{UserID: userID, ChallengeCode: a.Code}
		if cq := cat.Lookup(a.Code); cq != nil {
			q.ChallengeQuestion = cq.ChallengeQuestion
		}
		out = append(out, q)
	}
	return out, nil
}

func (s *Service) load(ctx context.Context, userID string) (*enrollment, *Catalog, error) {
	if err := checkID("UserID", userID); err != nil {
		return nil, nil, err
	}
	rec, err := s.enrollments.Get(ctx, userID)
	if errors.Is(err, challenge.ErrNotFound) {
		return nil, nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, nil, err
	}
	e, err := decodeEnrollment(rec.Data)
	if err != nil {
		return nil, nil, err
	}
	cat, err := s.catalog(ctx, e.Business)
	if err != nil {
		return nil, nil, err
	}
	return &e, cat, nil
}

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

// pick returns n of the enrolled answers whose questions are still active,
// in random order.
func pick(e *enrollment, cat *Catalog, n int) []storedAnswer {
	var live []storedAnswer
	for _, a := range e.Answers {
		if q := cat.Lookup(a.Code); q != nil && q.IsActive() {
			live = append(live, a)
		}
	}
	// math/rand/v2's global source is ChaCha8 seeded by the runtime: which
	// questions are asked cannot be predicted.
	rand.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	return live[:min(n, len(live))]
}
