package questions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

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

// Enroll adds or updates a user's answers: each answer sent replaces the
// user's answer to its question, or adds one, and the user's answers to
// other questions are kept. It is all or nothing: the answers sent are
// checked against the business's rules ([Check]) and, if all pass, stored
// as hashes in one write; if any fails, Enroll returns a *RuleError
// listing every violation and stores none of them. The catalog's minimum
// number of answers applies to the user's set after the change, counting
// kept answers only where their questions are still active.
//
// Kept answers to questions since made inactive or removed from the
// catalog stay stored, as they were: they are not asked, do not count
// toward the minimum, and are not compared with new answers. Entries sent
// for such questions are refused.
//
// An answer sent is also compared with each answer the user keeps to an
// active question where either question's CanEqualOtherAnswers is false.
// Kept answers are stored only as argon2id
// hashes, so each comparison is an argon2id verification of the answer
// sent, normalized as the kept answer was: it costs as much as a hash.
// They run only once every other rule has passed (so a request refused
// for another rule spends none), each pair at most once, and a request
// needing more than MaxComparisons of them is refused with a Violation
// before any runs. Their outcome tells whether an answer sent equals a
// kept one, so each answer sent is a guess at the kept answers: with a
// Limiter, each answer sent that is compared is first charged one failed
// attempt at the user's answers (VerificationKind, the budget their
// verifications and authn's ChallengeKBA spend), so a request cannot
// carry more guesses than a verification could make, and the request is
// refused with a *challenge.ThrottledError, storing nothing and telling
// nothing of the comparisons already made, once that budget holds the
// source off; a request the store then fails (a 503 that asks for a
// repeat) has its charges refunded. A refused answer is told only that it equals one of the
// user's other answers, not which. Enroll, without an origin, is not
// charged: it is for the application's own trusted callers (seeding,
// migrations); serve users through EnrollFrom.
//
// A stored enrollment this release cannot decode (a later release's
// format after a rollback, or a damaged record) is never overwritten, as
// that would lose answers: Enroll fails and changes nothing until an
// operator restores the record or removes it from the store.
//
// Enroll returns the user's whole set after the change, in catalog order
// (answers to questions no longer in the catalog last, as stored), each
// entry with the user's ID; the entries sent carry their Answer as sent,
// which the original API echoes, and the others none.
func (s *Service) Enroll(ctx context.Context, userID string, answers []Answer) ([]Answer, error) {
	return s.EnrollFrom(ctx, challenge.Origin{}, userID, answers)
}

// MaxComparisons bounds the argon2id verifications one call of Enroll may
// run to compare the answers it is sent with those the user keeps (see
// Question.CanEqualOtherAnswers): as many as the hashes of the largest
// enrollment.
const MaxComparisons = MaxQuestions

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
	u := &update{svc: s, origin: origin, cat: cat, business: business, userID: userID, answers: answers,
		hashes: make([]string, len(answers)), matched: map[comparison]bool{}, charged: map[int]bool{}}
	// The change is decided again on what another writer stored if it
	// loses a race: what it learned (hashes, comparisons) is kept, so
	// that it decides again quickly.
	for try := 1; ; try++ {
		err = s.enrollments.UpdateAbout(ctx, userID, userID, func(data []byte, found bool) ([]byte, error) {
			return u.decide(ctx, data, found)
		})
		if !errors.Is(err, challenge.ErrConflict) || try == maxEnrollTries {
			break
		}
	}
	if errors.Is(err, challenge.ErrUnavailable) || errors.Is(err, challenge.ErrOutcomeUnknown) {
		// The store failed after the comparisons ran: the client is told
		// to repeat the request, and its repeat pays for them again.
		u.refund(ctx)
	}
	if err != nil {
		return nil, err
	}
	sent := make(map[string]string, len(answers))
	for _, a := range answers {
		sent[a.ChallengeCode] = a.Answer
	}
	out := make([]Answer, len(u.stored.Answers))
	for i, a := range u.stored.Answers {
		out[i] = Answer{UserID: userID, ChallengeCode: a.Code, Answer: sent[a.Code]}
	}
	return out, nil
}

// maxEnrollTries bounds the rounds of an enrollment that keeps losing
// races (each of two compare-and-sets): past them, ErrConflict.
const maxEnrollTries = 3

// update is one call of Enroll: the answers sent, and what deciding on
// them has learned so far.
type update struct {
	svc      *Service
	origin   challenge.Origin
	charged  map[int]bool        // answers sent whose comparisons were charged to the Limiter
	charges  []challenge.Attempt // those charges, to refund if the store fails
	cat      *Catalog
	business string
	userID   string
	answers  []Answer
	hashes   []string            // of the answers sent, by entry, once made
	matched  map[comparison]bool // whether an answer sent matched a kept hash
	stored   enrollment          // what the last decision stored
}

type comparison struct {
	entry int
	hash  string // the kept answer's: its salt makes it unique
}

// decide returns the enrollment to store in place of data (the user's
// current one, if found), or the *RuleError refusing the update.
func (u *update) decide(ctx context.Context, data []byte, found bool) ([]byte, error) {
	var cur enrollment
	if found {
		var err error
		if cur, err = decodeEnrollment(data); err != nil {
			return nil, err
		}
		if cur.Business != u.business {
			// Answers to another business's questions (Options.BusinessOf
			// has changed its mind): none of them is kept.
			cur = enrollment{}
		}
	}
	sent := make(map[string]bool, len(u.answers))
	for _, a := range u.answers {
		sent[a.ChallengeCode] = true
	}
	var kept []storedAnswer
	var keptCodes []string
	for _, a := range cur.Answers {
		if !sent[a.Code] {
			kept = append(kept, a)
			keptCodes = append(keptCodes, a.Code)
		}
	}
	if vs := Check(u.cat, u.userID, u.answers, keptCodes); len(vs) > 0 {
		return nil, &RuleError{Violations: vs}
	}
	if vs, err := u.compareWithKept(ctx, kept); err != nil || len(vs) > 0 {
		if err != nil {
			return nil, err
		}
		return nil, &RuleError{Violations: vs}
	}
	next := enrollment{Business: u.business, Answers: kept, rest: cur.rest}
	for i, a := range u.answers {
		cs := u.cat.Lookup(a.ChallengeCode).CaseSensitive() // Check passed: an active question of cat
		if u.hashes[i] == "" {
			hash, err := u.svc.hasher.Hash(ctx, Normalize(a.Answer, cs))
			if err != nil {
				return nil, err
			}
			u.hashes[i] = hash
		}
		next.Answers = append(next.Answers, storedAnswer{Code: a.ChallengeCode, Hash: u.hashes[i], CaseSensitive: cs})
	}
	next.Answers = inCatalogOrder(next.Answers, u.cat)
	u.stored = next
	if found && len(u.answers) == 0 {
		return nil, nil // nothing sent: nothing to write
	}
	return next.encode(), nil
}

// compareWithKept applies CanEqualOtherAnswers between the answers sent
// and the kept ones to active questions: it verifies each answer sent,
// normalized as the kept answer was, against the kept hash, where either
// question refuses equal answers.
func (u *update) compareWithKept(ctx context.Context, kept []storedAnswer) ([]Violation, error) {
	var pairs []comparison
	var with []storedAnswer
	for i, a := range u.answers {
		q := u.cat.Lookup(a.ChallengeCode)
		for _, k := range kept {
			kq := u.cat.Lookup(k.Code)
			if kq == nil || !kq.IsActive() || q.EqualAnswersAllowed() && kq.EqualAnswersAllowed() {
				continue
			}
			pairs = append(pairs, comparison{entry: i, hash: k.Hash})
			with = append(with, k)
		}
	}
	if len(pairs) > MaxComparisons {
		return []Violation{{Entry: -1, Field: "UserIdentificationChallenge", Message: fmt.Sprintf(
			"must hold fewer answers: comparing them with the user's other answers would take %d checks, more than %d", len(pairs), MaxComparisons)}}, nil
	}
	var vs []Violation
	refused := map[int]bool{}
	for n, p := range pairs {
		if refused[p.entry] {
			continue // one equal answer is enough to refuse it
		}
		match, known := u.matched[p]
		if !known {
			if err := u.charge(ctx, p.entry); err != nil {
				return nil, err
			}
			var err error
			match, err = u.svc.hasher.Verify(ctx, Normalize(u.answers[p.entry].Answer, with[n].CaseSensitive), p.hash)
			if err != nil {
				return nil, err
			}
			u.matched[p] = match
		}
		if match {
			refused[p.entry] = true
			// Which kept answer it equals is not said: the caller
			// learns no more than a wrong or right guess tells.
			vs = append(vs, Violation{Entry: p.entry, Field: "Answer", Message: "must differ from the user's other answers"})
		}
	}
	return vs, nil
}

// charge charges the comparisons of the answer sent as entry with the
// kept answers, once, to the Limiter's budget of attempts at the user's
// answers: whether an answer sent equals a kept one is what a guess at it
// learns, so each answer compared counts as a failed attempt, as a wrong
// answer to a verification does.
func (u *update) charge(ctx context.Context, entry int) error {
	if u.charged[entry] || u.svc.limiter == nil || u.origin.Caller == "" {
		return nil
	}
	source := u.origin.Source
	if source == "" {
		source = "caller:" + u.origin.Caller
	}
	a := challenge.Attempt{Kind: VerificationKind, Subject: u.userID, Source: source, ID: challenge.NewID()}
	err := u.svc.limiter.Attempt(ctx, a)
	if err != nil {
		if !errors.Is(err, challenge.ErrThrottled) {
			err = fmt.Errorf("%w: limiter: %w", challenge.ErrUnavailable, err)
		}
		return fmt.Errorf("questions: enroll: %w", err)
	}
	u.charged[entry] = true
	u.charges = append(u.charges, a)
	return nil
}

// refund takes back the charges of a request the store failed: a repeat
// after a 503 must not cost the user twice. Refunds are best effort (a
// Limiter that cannot take one back leaves the failure counted) and run
// even if the request's context is done.
func (u *update) refund(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, a := range u.charges {
		_ = u.svc.limiter.Refund(ctx, a)
	}
	u.charges = nil
}

// inCatalogOrder orders answers as their questions are in the catalog;
// answers to questions no longer in it come last, in the order given.
func inCatalogOrder(answers []storedAnswer, cat *Catalog) []storedAnswer {
	pos := make(map[string]int, len(cat.Questions))
	for i, q := range cat.Questions {
		pos[q.ChallengeCode] = i
	}
	at := func(code string) int {
		if i, ok := pos[code]; ok {
			return i
		}
		return len(cat.Questions)
	}
	slices.SortStableFunc(answers, func(a, b storedAnswer) int { return cmp.Compare(at(a.Code), at(b.Code)) })
	return answers
}

// EnrolledQuestion is a question a user has answered; never the answer.
type EnrolledQuestion struct {
	UserID            string
	ChallengeCode     string
	ChallengeQuestion string
}

// Enrolled returns the questions a user has answered (none if the user has
// not enrolled), with their current text from the catalog, in catalog
// order (answers to questions no longer in the catalog last, without a
// text), as Enroll returns them.
func (s *Service) Enrolled(ctx context.Context, userID string) ([]EnrolledQuestion, error) {
	e, cat, err := s.load(ctx, userID)
	if errors.Is(err, ErrNotEnrolled) {
		return []EnrolledQuestion{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]EnrolledQuestion, 0, len(e.Answers))
	for _, a := range inCatalogOrder(e.Answers, cat) {
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
	e, err := s.enrollment(ctx, userID)
	if errors.Is(err, challenge.ErrNotFound) {
		return nil, nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, nil, err
	}
	cat, err := s.catalog(ctx, e.Business)
	if err != nil {
		return nil, nil, err
	}
	return &e, cat, nil
}

// enrollment reads and decodes a user's enrollment; the store lends the
// record (decoding copies what it keeps). Its errors are
// challenge.Records.View's.
func (s *Service) enrollment(ctx context.Context, userID string) (enrollment, error) {
	var e enrollment
	err := s.enrollments.View(ctx, userID, func(rec *challenge.Record) error {
		var err error
		e, err = decodeEnrollment(rec.Data)
		return err
	})
	return e, err
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
