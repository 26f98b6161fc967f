package authn

import (
	"context"
	"errors"
	"strconv"
	"strings"

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

var (
	_ Factor        = (*KBA)(nil)
	_ LimitResetter = (*KBA)(nil)
)

// ResetLimits implements [LimitResetter]: it forgives the user's failed
// answers in package questions.
func (f *KBA) ResetLimits(ctx context.Context, userID string, reg Registration) error {
	return f.questions.ResetLimits(ctx, subject(reg, userID))
}

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
	return InitResult{State: kbaState(v), Prompts: prompt(v)}, nil
}

// kbaState is the factor's state: the question being asked (as a count of
// right answers) and the verification's ID, "2:ID".
func kbaState(v *questions.Verification) []byte {
	return []byte(strconv.Itoa(v.Right) + ":" + v.ID)
}

// Validate implements [Factor]: a right answer asks the next question or
// satisfies the factor once enough were right. The question it answers is
// named, so that a Validate repeated after its outcome was lost finds the
// answer accepted rather than checks it against the next question.
func (f *KBA) Validate(ctx context.Context, req ValidateRequest) (ValidateResult, error) {
	var v *questions.Verification
	var err error
	n, id, ok := strings.Cut(string(req.State), ":")
	question, nerr := strconv.Atoi(n)
	if ok && nerr == nil {
		v, err = f.questions.AnswerQuestion(ctx, id, question, req.Answer)
	} else {
		v, err = f.questions.Answer(ctx, string(req.State), req.Answer) // a state from before questions were named
	}
	switch {
	case errors.Is(err, questions.ErrWrongAnswer):
		return ValidateResult{State: req.State}, nil
	case err != nil:
		return ValidateResult{}, err
	}
	return ValidateResult{State: kbaState(v), Correct: true, Satisfied: v.Question == nil, Prompts: prompt(v)}, nil
}
