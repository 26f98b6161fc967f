package questions

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Violation is one broken rule of a request: which entry (its index in the
// request, or -1 for the request as a whole), which field, and what is
// wrong, worded to follow the field's name ("must be at least 3
// characters"). It never contains the answer.
type Violation struct {
	Entry   int
	Field   string
	Message string
}

// Answer is one submitted answer.
type Answer struct {
	UserID        string // optional; must be the enrolling user when given
	ChallengeCode string
	Answer        string
}

// minQuestionWord is the shortest question word an answer may not repeat
// (where CanContainQuestionWords is false): shorter ones ("the", "of") are
// too common to forbid.
const minQuestionWord = 4

// Check applies the catalog's rules to the answers sent for a user, to be
// added to the answers the user keeps: kept holds the codes of the user's
// stored answers that the request leaves as they are (none for a first
// enrollment). It returns every violation at once, in the order of the
// entries (the request's as a whole first); none means the answers may be
// stored, but for one rule Check cannot apply (below).
//
// The rules: each code an active question of the catalog, answered once;
// each answer meeting its question's constraints, among them, where the
// question sets them false, CanContainQuestionWords (no word of the
// question of 4 letters or more), CanContainUserID, and
// CanEqualOtherAnswers among the answers sent (each normalized as its
// question says; an equal pair is refused if either question sets it
// false); entry UserIDs absent or equal to userID; and, after the change,
// at least the catalog's required number of distinct active questions
// answered: the codes sent and the kept codes whose questions are still
// active. Kept answers to questions since made inactive or removed from
// the catalog do not count.
//
// Kept answers are stored only as hashes, so Check cannot compare the
// answers sent with them; [Service.Enroll] does.
func Check(c *Catalog, userID string, answers []Answer, kept []string) []Violation {
	var vs []Violation
	bad := func(entry int, field, format string, args ...any) {
		vs = append(vs, Violation{Entry: entry, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(answers) > MaxQuestions {
		bad(-1, "UserIdentificationChallenge", "must hold at most %d answers", MaxQuestions)
		return vs
	}
	idForms := userIDForms(userID)
	codes, unnamed := map[string]bool{}, 0
	qs := make([]*Question, len(answers))
	normalized := map[string][]int{} // normalized answer → entries
	differs := map[int]bool{}        // entries refused for equalling another
	for i, a := range answers {
		if a.UserID != "" && a.UserID != userID {
			bad(i, "UserID", "must be the user the request is for")
		}
		q := c.Lookup(a.ChallengeCode)
		switch {
		case a.ChallengeCode == "":
			bad(i, "ChallengeCode", "is required")
		case q == nil || !q.IsActive():
			bad(i, "ChallengeCode", "is not an active question of the business")
		case codes[a.ChallengeCode]:
			bad(i, "ChallengeCode", "is answered more than once")
		}
		if a.ChallengeCode == "" {
			unnamed++ // each counts toward the minimum, as if it named a question: it is refused for its own fault
		} else {
			codes[a.ChallengeCode] = true
		}
		qs[i] = q
		tidy := Tidy(a.Answer)
		if tidy == "" {
			bad(i, "Answer", "is required")
			continue
		}
		if n := utf8.RuneCountInString(tidy); n > MaxAnswerLength {
			bad(i, "Answer", "must be at most %d characters", MaxAnswerLength)
			continue
		}
		if q == nil {
			continue
		}
		for _, msg := range q.constraintViolations(tidy) {
			bad(i, "Answer", "%s", msg)
		}
		norm := Normalize(a.Answer, q.CaseSensitive())
		for _, j := range normalized[norm] { // an entry is named once, whichever answer it equals
			if !q.EqualAnswersAllowed() {
				bad(i, "Answer", "must differ from the answer to entry %d", j)
				differs[i] = true
				break
			}
			if !qs[j].EqualAnswersAllowed() && !differs[j] {
				bad(j, "Answer", "must differ from the answer to entry %d", i)
				differs[j] = true
			}
		}
		normalized[norm] = append(normalized[norm], i)
		folded := Normalize(a.Answer, false)
		if !q.QuestionWordsAllowed() && repeatsQuestion(folded, Normalize(q.ChallengeQuestion, false)) {
			bad(i, "Answer", "must not repeat words of the question")
		}
		if !q.UserIDAllowed() {
			for _, id := range idForms {
				if strings.Contains(folded, id) {
					bad(i, "Answer", "must not contain the user ID")
					break
				}
			}
		}
	}
	keeps := 0
	for _, code := range kept {
		if q := c.Lookup(code); q != nil && q.IsActive() && !codes[code] {
			keeps++
		}
	}
	if n := c.Required(); len(codes)+unnamed+keeps < n {
		if keeps == 0 {
			bad(-1, "UserIdentificationChallenge", "must answer at least %d different questions", n)
		} else {
			bad(-1, "UserIdentificationChallenge", "must answer at least %d different questions, counting the %d the user keeps", n, keeps)
		}
	}
	// A violation of an earlier entry may have been found late (an equal
	// answer further on): put them back in the order of the entries.
	slices.SortStableFunc(vs, func(a, b Violation) int { return cmp.Compare(a.Entry, b.Entry) })
	return vs
}

// constraintViolations checks one tidy answer against the question's
// constraints.
func (q *Question) constraintViolations(tidy string) []string {
	var n, alpha, digits, upper, special int
	var spaces bool
	var disallowed []rune
	for _, r := range tidy {
		n++
		switch {
		case unicode.IsLetter(r):
			alpha++
			if unicode.IsUpper(r) {
				upper++
			}
		case unicode.IsDigit(r):
			digits++
		case r == ' ':
			spaces = true
		default:
			special++
			if q.AllowedSpecialCharacters != nil && !strings.ContainsRune(*q.AllowedSpecialCharacters, r) &&
				!containsRune(disallowed, r) {
				disallowed = append(disallowed, r)
			}
		}
	}
	var out []string
	atLeast := func(have int, min *int, what string) {
		if min != nil && have < *min {
			out = append(out, fmt.Sprintf("must contain at least %d %s", *min, what))
		}
	}
	atMost := func(have int, max *int, what string) {
		if max != nil && have > *max {
			out = append(out, fmt.Sprintf("must contain at most %d %s", *max, what))
		}
	}
	if q.MinimumLength != nil && n < *q.MinimumLength {
		out = append(out, fmt.Sprintf("must be at least %d characters", *q.MinimumLength))
	}
	if q.MaximumLength != nil && n > *q.MaximumLength {
		out = append(out, fmt.Sprintf("must be at most %d characters", *q.MaximumLength))
	}
	atLeast(alpha, q.MinimumAlphaCount, "letters")
	atMost(alpha, q.MaximumAlphaCount, "letters")
	atLeast(digits, q.MinimumNumberCount, "digits")
	atMost(digits, q.MaximumNumberCount, "digits")
	atLeast(upper, q.MinimumUpperCaseLetterCount, "upper-case letters")
	atLeast(special, q.MinimumSpecialCharacterCount, "special characters")
	if len(disallowed) > 0 {
		out = append(out, fmt.Sprintf("may contain only these special characters: %q", *q.AllowedSpecialCharacters))
	}
	if spaces && !q.SpacesAllowed() {
		out = append(out, "must not contain spaces")
	}
	return out
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// repeatsQuestion reports whether the answer contains, as a whole word, a
// word of the question of minQuestionWord letters or more. Both are given
// case-folded.
func repeatsQuestion(answer, question string) bool {
	qw := map[string]bool{}
	for _, w := range words(question) {
		if utf8.RuneCountInString(w) >= minQuestionWord {
			qw[w] = true
		}
	}
	for _, w := range words(answer) {
		if qw[w] {
			return true
		}
	}
	return false
}

// userIDForms returns the folded forms of a user ID that an answer must not
// contain: the whole ID and, for "local.business" IDs, the local part.
func userIDForms(userID string) []string {
	id := Normalize(userID, false)
	if id == "" {
		return nil
	}
	forms := []string{id}
	if local, _, ok := strings.Cut(id, "."); ok && utf8.RuneCountInString(local) >= minQuestionWord {
		forms = append(forms, local)
	}
	return forms
}
