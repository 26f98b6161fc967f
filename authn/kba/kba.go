// Package kba is the ChallengeKBA factor of package authn: the user's
// security questions (knowledge-based authentication), asked one at a
// time from a security-questions service such as package questions.
package kba

import (
	"context"
	"errors"
	"fmt"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
)

// Key is the factor key of [Factor].
const Key = "ChallengeKBA"

// Questions is what the factor asks of a security-questions service.
// *questions.Service is one. Implementations must be safe for concurrent
// use.
type Questions interface {
	// PickQuestions chooses the questions to ask userID, in the order
	// they are to be asked: their codes and their texts. It returns none,
	// and no error, when the user has nothing to ask.
	PickQuestions(ctx context.Context, userID string) (codes, texts []string, err error)
	// CheckAnswer reports whether answer is userID's answer to the
	// question code. It changes nothing: the factor's transaction counts
	// a wrong answer, once.
	CheckAnswer(ctx context.Context, userID, code, answer string) (bool, error)
	// AttemptKind is the Limiter kind the service charges answers to.
	// The factor's answers are charged there too, so that a user's
	// security answers have one budget whichever challenge asks for them.
	AttemptKind() string
}

// Factor is the ChallengeKBA factor, passive: Init picks the questions
// and asks the first, each right answer asks the next, and the factor is
// satisfied when all were answered right. A registration's Subject is the
// user's ID in the questions service (the authn user ID if empty).
//
// Which questions are asked, and how many were answered, is kept in the
// transaction's own state, so that the transaction's compare-and-set
// covers it: a step re-run after a lost race asks and counts exactly as
// the first run would have. It is safe for concurrent use.
type Factor struct {
	questions Questions
}

var (
	_ authn.Factor       = (*Factor)(nil)
	_ authn.SharedBudget = (*Factor)(nil)
)

// New returns the factor over q.
func New(q Questions) (*Factor, error) {
	if q == nil {
		return nil, errors.New("kba: New needs a Questions service")
	}
	return &Factor{questions: q}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return Key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return true }

// AttemptBudget implements [authn.SharedBudget]: answers are charged to
// the questions service's budget of the user's answers.
func (f *Factor) AttemptBudget(userID string, reg authn.Registration) (kind, subject string) {
	return f.questions.AttemptKind(), subjectOf(reg, userID)
}

func subjectOf(reg authn.Registration, userID string) string {
	if reg.Subject != "" {
		return reg.Subject
	}
	return userID
}

// Init implements [authn.Factor]: it picks the questions and asks the
// first.
func (f *Factor) Init(ctx context.Context, req authn.InitRequest) (authn.InitResult, error) {
	codes, texts, err := f.questions.PickQuestions(ctx, subjectOf(req.Registration, req.UserID))
	if err != nil {
		return authn.InitResult{}, err
	}
	if len(codes) == 0 || len(texts) != len(codes) {
		return authn.InitResult{}, &challenge.FieldError{Field: "challengedata.factorKey", Message: "cannot start: the user has no security answers"}
	}
	st := state{Codes: codes, Texts: texts}
	return authn.InitResult{State: st.encode(), Prompts: st.prompt()}, nil
}

// Validate implements [authn.Factor]: a right answer asks the next
// question, or satisfies the factor after the last.
func (f *Factor) Validate(ctx context.Context, req authn.ValidateRequest) (authn.ValidateResult, error) {
	st, err := decodeState(req.State)
	if err != nil {
		// A state no release of this package wrote, or one from before
		// the questions were kept in the transaction.
		return authn.ValidateResult{}, &challenge.FieldError{Field: "challengeop", Message: "the factor's state is not readable; Init the factor again"}
	}
	if st.Next >= len(st.Codes) {
		return authn.ValidateResult{}, errors.New("kba: Validate of a factor already satisfied")
	}
	ok, err := f.questions.CheckAnswer(ctx, subjectOf(req.Registration, req.UserID), st.Codes[st.Next], req.Answer)
	if err != nil {
		return authn.ValidateResult{}, fmt.Errorf("kba: %w", err)
	}
	if !ok {
		return authn.ValidateResult{State: req.State}, nil
	}
	st.Next++
	return authn.ValidateResult{State: st.encode(), Correct: true, Satisfied: st.Next == len(st.Codes), Prompts: st.prompt()}, nil
}

// state is what the factor keeps with the transaction: the questions to
// ask, and how many were answered right. It holds no answer.
type state struct {
	Codes, Texts []string
	Next         int
	rest         string // fields a later release appended, kept as they are
}

// stateVersion leads every encoded state.
const stateVersion = 1

func (s *state) encode() []byte {
	b := []byte{stateVersion}
	b = binenc.AppendStrings(b, s.Codes)
	b = binenc.AppendStrings(b, s.Texts)
	b = binenc.AppendInt(b, int64(s.Next))
	return append(b, s.rest...)
}

func decodeState(data []byte) (state, error) {
	r := binenc.NewReader(data, stateVersion)
	s := state{Codes: r.ReadStrings(), Texts: r.ReadStrings()}
	next := r.ReadInt()
	s.rest = r.Rest()
	if err := r.Err(); err != nil {
		return state{}, err
	}
	if len(s.Codes) == 0 || len(s.Texts) != len(s.Codes) || next < 0 || next > int64(len(s.Codes)) {
		return state{}, fmt.Errorf("kba: %w: %d questions, %d texts, next %d", binenc.ErrCorrupt, len(s.Codes), len(s.Texts), next)
	}
	s.Next = int(next)
	return s, nil
}

// prompt is the question being asked, if any.
func (s *state) prompt() []authn.KeyValue {
	if s.Next >= len(s.Codes) {
		return nil
	}
	return []authn.KeyValue{{Key: s.Codes[s.Next], Value: s.Texts[s.Next]}}
}
