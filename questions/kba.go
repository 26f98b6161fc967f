package questions

import (
	"context"
	"errors"

	"github.com/challengekit/challengekit/challenge"
)

// What an authentication factor that asks a user's questions needs of the
// service (authn/kba's Questions): which questions to ask, whether an
// answer is right, and the budget answers are charged to. The factor keeps
// its progress in its own transaction, so these change nothing.

// PickQuestions chooses the questions a verification of userID would ask,
// as StartVerification does, and returns their codes and texts in the
// order to ask them, without starting anything; none if the user has
// nothing to ask. It is what an authentication factor that keeps its own
// state asks for (authn/kba).
func (s *Service) PickQuestions(ctx context.Context, userID string) (codes, texts []string, err error) {
	e, cat, err := s.load(ctx, userID)
	if errors.Is(err, ErrNotEnrolled) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	asked := pick(e, cat, s.perVerify)
	codes, texts = make([]string, len(asked)), make([]string, len(asked))
	for i, a := range asked {
		codes[i], texts[i] = a.Code, cat.Lookup(a.Code).ChallengeQuestion // pick returned active questions of cat only
	}
	return codes, texts, nil
}

// CheckAnswer reports whether answer is userID's enrolled answer to the
// question code. It changes and counts nothing: the caller (authn/kba,
// inside a transaction that counts its failures) does, and charges the
// Limiter under AttemptKind before asking. A question the user no longer
// has enrolled is a *challenge.FieldError, not a wrong answer.
func (s *Service) CheckAnswer(ctx context.Context, userID, code, answer string) (bool, error) {
	if err := checkID("UserID", userID); err != nil {
		return false, err
	}
	e, err := s.enrollment(ctx, userID)
	if errors.Is(err, challenge.ErrNotFound) {
		return false, &challenge.FieldError{Field: "challengeAnswer", Message: "answers a question the user no longer has; start again"}
	}
	if err != nil {
		return false, err
	}
	for _, a := range e.Answers {
		if a.Code == code {
			return s.hasher.Verify(ctx, Normalize(answer, a.CaseSensitive), a.Hash)
		}
	}
	return false, &challenge.FieldError{Field: "challengeAnswer", Message: "answers a question the user no longer has; start again"}
}

// AttemptKind is the Limiter kind under which answers to a user's
// questions are charged: VerificationKind, whichever challenge asks.
func (s *Service) AttemptKind() string { return VerificationKind }
