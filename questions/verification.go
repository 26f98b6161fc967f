package questions

import (
	"context"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// verification is the stored form of a verification challenge: the hashes
// it asks for are copied from the enrollment when it starts, so a change of
// enrollment does not change a running verification.
type verification struct {
	UserID   string
	Business string
	Asked    []storedAnswer
	Texts    []string // the asked questions' texts at the start, so answering needs no catalog read
	Next     int      // index of the question being asked
	Source   string   // where the answers come from, for the Limiter (since version 2)
	rest     string   // fields a later release appended, kept as they are
}

// Verification is a verification challenge as callers see it.
type Verification struct {
	ID     string
	UserID string
	Status challenge.State
	// Question is the question to answer now; nil once the verification is
	// no longer asking.
	Question *EnrolledQuestion
	// Right is how many answers were right so far, of Needed.
	Right, Needed int
	// AttemptsLeft is how many more wrong answers the budget allows.
	AttemptsLeft int
	ExpiresAt    time.Time
}

// StartVerification starts a verification of userID that asks a random
// subset of their enrolled, still active questions, one at a time. It
// returns ErrNotEnrolled if there is nothing to ask. With a Limiter, the
// start is charged to origin (see challenge.Origin), and every answer to
// (userID, origin.Source, or the caller if there is none).
func (s *Service) StartVerification(ctx context.Context, userID string, origin challenge.Origin) (*Verification, error) {
	e, cat, err := s.load(ctx, userID)
	if err != nil {
		return nil, err
	}
	asked := pick(e, cat, s.perVerify)
	if len(asked) == 0 {
		return nil, ErrNotEnrolled
	}
	v := verification{UserID: userID, Business: e.Business, Asked: asked, Texts: make([]string, len(asked)), Source: origin.Source}
	if v.Source == "" {
		v.Source = "caller:" + origin.Caller
	}
	for i, a := range asked {
		v.Texts[i] = cat.Lookup(a.Code).ChallengeQuestion // pick returned active questions of cat only
	}
	rec, err := s.verifications.Create(ctx, challenge.Start{Subject: userID, TTL: s.ttl, Data: v.encode(), Origin: origin})
	if err != nil {
		return nil, err
	}
	return s.verificationView(rec, &v), nil
}

// Verification returns the verification with this ID (challenge.ErrNotFound,
// challenge.ErrExpired).
func (s *Service) Verification(ctx context.Context, id string) (*Verification, error) {
	rec, err := s.verifications.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(rec)
}

// Answer checks answer against the question the verification is asking.
// A right answer moves on to the next question, or verifies the challenge
// after the last one; a wrong one returns ErrWrongAnswer and counts against
// the budget, and the one that exhausts it locks the challenge (the error
// then also matches challenge.ErrLocked). A verification no longer asking
// refuses with a *challenge.TransitionError (challenge.ErrFinal). With a
// Limiter, the answer is charged before it is checked, and refused unchecked
// (a *challenge.ThrottledError) while the user's answers from its source
// are held off, or the user's failures from every source are capped.
func (s *Service) Answer(ctx context.Context, id, answer string) (*Verification, error) {
	var v verification
	rec, err := s.verifications.Step(ctx, id, func(tx *challenge.Tx) error {
		var err error
		if v, err = decodeVerification(tx.Data()); err != nil {
			return err
		}
		tx.SetSource(v.Source)
		if tx.State() != StateAsked || v.Next >= len(v.Asked) {
			return tx.Fire(EventVerify) // refused: the verification is over
		}
		if err := tx.Attempt(v.UserID, v.Source); err != nil {
			return err
		}
		cur := v.Asked[v.Next]
		ok, err := s.hasher.Verify(ctx, Normalize(answer, cur.CaseSensitive), cur.Hash)
		if err != nil {
			return err
		}
		if !ok {
			return tx.Fail(ErrWrongAnswer)
		}
		v.Next++
		if v.Next == len(v.Asked) {
			if err := tx.Fire(EventVerify); err != nil {
				return err
			}
		}
		tx.SetData(v.encode())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.verificationView(rec, &v), nil // v is what was saved: no need to decode it again
}

// Abandon ends a verification that is still asking as failed.
func (s *Service) Abandon(ctx context.Context, id string) (*Verification, error) {
	rec, err := s.verifications.Step(ctx, id, func(tx *challenge.Tx) error { return tx.Fire(EventAbandon) })
	if err != nil {
		return nil, err
	}
	return s.view(rec)
}

func (s *Service) view(rec *challenge.Record) (*Verification, error) {
	v, err := decodeVerification(rec.Data)
	if err != nil {
		return nil, err
	}
	return s.verificationView(rec, &v), nil
}

func (s *Service) verificationView(rec *challenge.Record, v *verification) *Verification {
	out := &Verification{
		ID: rec.ID, UserID: v.UserID, Status: rec.State, Right: v.Next, Needed: len(v.Asked),
		AttemptsLeft: max(0, s.verifications.MaxAttempts()-rec.Attempts), ExpiresAt: rec.ExpiresAt,
	}
	if rec.State == StateAsked && v.Next < len(v.Asked) {
		q := &EnrolledQuestion{UserID: v.UserID, ChallengeCode: v.Asked[v.Next].Code}
		if v.Next < len(v.Texts) {
			q.ChallengeQuestion = v.Texts[v.Next]
		}
		out.Question = q
	}
	return out
}
