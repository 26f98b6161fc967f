package authn

import (
	"context"
	"errors"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// KBAKey is the factor key of [KBA].
const KBAKey = "ChallengeKBA"

// KBA is the ChallengeKBA factor, passive: it runs a security-question
// verification from package questions, one question at a time. A
// registration's Subject is the user's ID there (the authn user ID if
// empty). It is safe for concurrent use.
type KBA struct {
	questions *questions.Service
}

var _ Factor = (*KBA)(nil)

// NewKBA returns the factor over svc.
func NewKBA(svc *questions.Service) (*KBA, error) {
	if svc == nil {
		return nil, errors.New("authn: NewKBA needs a questions.Service")
	}
	return &KBA{questions: svc}, nil
}

// Key implements [Factor].
func (f *KBA) Key() string { return KBAKey }

// Passive implements [Factor].
func (f *KBA) Passive() bool { return true }

func subject(req Registration, userID string) string {
	if req.Subject != "" {
		return req.Subject
	}
	return userID
}

func prompt(v *questions.Verification) []KeyValue {
	if v.Question == nil {
		return nil
	}
	return []KeyValue{{v.Question.ChallengeCode, v.Question.ChallengeQuestion}}
}

// Init implements [Factor]: it starts a verification and asks its first
// question.
func (f *KBA) Init(ctx context.Context, req InitRequest) (InitResult, error) {
	v, err := f.questions.StartVerification(ctx, subject(req.Registration, req.UserID), req.Origin)
	if errors.Is(err, questions.ErrNotEnrolled) {
		return InitResult{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "cannot start: the user has no security answers"}
	}
	if err != nil {
		return InitResult{}, err
	}
	return InitResult{State: []byte(v.ID), Prompts: prompt(v)}, nil
}

// Validate implements [Factor]: a right answer asks the next question or
// satisfies the factor once enough were right.
func (f *KBA) Validate(ctx context.Context, req ValidateRequest) (ValidateResult, error) {
	v, err := f.questions.Answer(ctx, string(req.State), req.Answer)
	switch {
	case errors.Is(err, questions.ErrWrongAnswer):
		return ValidateResult{State: req.State}, nil
	case err != nil:
		return ValidateResult{}, err
	}
	return ValidateResult{State: req.State, Correct: true, Satisfied: v.Question == nil, Prompts: prompt(v)}, nil
}
