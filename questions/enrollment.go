package questions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/challengekit/challengekit/challenge"
)

// A user's enrollment (their questions' codes and the hashes of their
// answers) is kept in a record of EnrollmentKind, whose ID is the user.

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
	if err := s.enrollments.Put(ctx, userID, userID, e.encode()); err != nil {
		return nil, err
	}
	out := make([]Answer, len(answers))
	for i, a := range answers {
		out[i] = Answer{UserID: userID, ChallengeCode: a.ChallengeCode, Answer: a.Answer}
	}
	return out, nil
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
