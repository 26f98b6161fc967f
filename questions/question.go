package questions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Question is one entry of a business's catalog. Field names are the wire
// names of the original platform (and three of ours, below), so adapters
// can convert to and from their own tagged types directly. A nil
// constraint means none: every rule that can refuse an answer is a field
// here, so a catalog shows all of them.
type Question struct {
	ChallengeCode                string
	ChallengeQuestion            string
	MinimumLength                *int
	MaximumLength                *int
	MinimumAlphaCount            *int
	MaximumAlphaCount            *int
	MinimumNumberCount           *int
	MaximumNumberCount           *int
	MinimumUpperCaseLetterCount  *int
	MinimumSpecialCharacterCount *int
	// AllowedSpecialCharacters, if set, lists the only special characters
	// (neither letters, digits nor spaces) an answer may contain.
	AllowedSpecialCharacters *string
	CanContainSpaces         *bool // nil: true
	// CanContainQuestionWords, if false, refuses an answer that repeats a
	// word of the question of four letters or more ("City" to "What is
	// the city of your birth?"). Nil: true.
	CanContainQuestionWords *bool
	// CanContainUserID, if false, refuses an answer that contains the
	// user's ID or, for an ID "local.business", its local part of four
	// letters or more. Nil: true.
	CanContainUserID *bool
	// CanEqualOtherAnswers, if false, refuses an answer to this question
	// that equals, once normalized, another answer of the user's set as
	// it would be after the change: those sent with it, and those the
	// user keeps (see [Service.Enroll]). Nil: true.
	CanEqualOtherAnswers *bool
	IsCaseSensitive      *bool // nil: false
	Active               *bool // nil: true
}

// IsActive reports whether users may answer the question.
func (q *Question) IsActive() bool { return q.Active == nil || *q.Active }

// SpacesAllowed reports whether answers may contain spaces.
func (q *Question) SpacesAllowed() bool { return q.CanContainSpaces == nil || *q.CanContainSpaces }

// QuestionWordsAllowed reports whether answers may repeat the question's
// words.
func (q *Question) QuestionWordsAllowed() bool {
	return q.CanContainQuestionWords == nil || *q.CanContainQuestionWords
}

// UserIDAllowed reports whether answers may contain the user's ID.
func (q *Question) UserIDAllowed() bool { return q.CanContainUserID == nil || *q.CanContainUserID }

// EqualAnswersAllowed reports whether the answer may equal another answer
// of the user's.
func (q *Question) EqualAnswersAllowed() bool {
	return q.CanEqualOtherAnswers == nil || *q.CanEqualOtherAnswers
}

// CaseSensitive reports whether answers are compared with their case.
func (q *Question) CaseSensitive() bool { return q.IsCaseSensitive != nil && *q.IsCaseSensitive }

// DefaultRequiredAnswers is how many distinct questions a user must answer
// when a Catalog does not say.
const DefaultRequiredAnswers = 3

// Limits on what a catalog and an enrollment may hold.
const (
	MaxQuestions    = 64
	MaxTextLength   = 512 // bytes, of codes and question texts
	MaxAnswerLength = 256 // characters, whatever the question allows
)

// Catalog is a business's set of questions.
type Catalog struct {
	Questions []Question
	// RequiredAnswers is how many distinct active questions a user must
	// answer; zero means DefaultRequiredAnswers.
	RequiredAnswers int
}

// clone returns a deep copy of c, with the values its questions point to
// gathered in three allocations.
func (c *Catalog) clone() *Catalog {
	out := &Catalog{Questions: slices.Clone(c.Questions), RequiredAnswers: c.RequiredAnswers}
	n := len(out.Questions)
	ints, bools, strs := make([]int, 0, 8*n), make([]bool, 0, 6*n), make([]string, 0, n)
	for i := range out.Questions {
		q := &out.Questions[i]
		for _, p := range [...]**int{&q.MinimumLength, &q.MaximumLength, &q.MinimumAlphaCount, &q.MaximumAlphaCount,
			&q.MinimumNumberCount, &q.MaximumNumberCount, &q.MinimumUpperCaseLetterCount, &q.MinimumSpecialCharacterCount} {
			if *p != nil {
				ints = append(ints, **p) // within capacity: earlier pointers stay valid
				*p = &ints[len(ints)-1]
			}
		}
		for _, p := range [...]**bool{&q.CanContainSpaces, &q.CanContainQuestionWords, &q.CanContainUserID,
			&q.CanEqualOtherAnswers, &q.IsCaseSensitive, &q.Active} {
			if *p != nil {
				bools = append(bools, **p)
				*p = &bools[len(bools)-1]
			}
		}
		if q.AllowedSpecialCharacters != nil {
			strs = append(strs, *q.AllowedSpecialCharacters)
			q.AllowedSpecialCharacters = &strs[len(strs)-1]
		}
	}
	return out
}

// Required returns the number of answers a user must give.
func (c *Catalog) Required() int {
	if c.RequiredAnswers == 0 {
		return DefaultRequiredAnswers
	}
	return c.RequiredAnswers
}

// Lookup returns the question with this code, or nil.
func (c *Catalog) Lookup(code string) *Question {
	for i := range c.Questions {
		if c.Questions[i].ChallengeCode == code {
			return &c.Questions[i]
		}
	}
	return nil
}

// Active returns the questions users may answer.
func (c *Catalog) Active() []Question {
	n := 0
	for i := range c.Questions {
		if c.Questions[i].IsActive() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Question, 0, n)
	for _, q := range c.Questions {
		if q.IsActive() {
			out = append(out, q)
		}
	}
	return out
}

// ErrInvalidCatalog: a catalog breaks a rule; the error names every problem.
var ErrInvalidCatalog = errors.New("questions: invalid catalog")

// Validate reports every problem of the catalog at once, as Violations
// whose Entry is the question's index (-1 for the catalog as a whole).
func (c *Catalog) Validate() []Violation {
	var vs []Violation
	bad := func(entry int, field, format string, args ...any) {
		vs = append(vs, Violation{Entry: entry, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(c.Questions) > MaxQuestions {
		bad(-1, "Challenge", "must hold at most %d questions", MaxQuestions)
	}
	seen := map[string]bool{}
	for i, q := range c.Questions {
		switch {
		case strings.TrimSpace(q.ChallengeCode) == "":
			bad(i, "ChallengeCode", "is required")
		case len(q.ChallengeCode) > MaxTextLength:
			bad(i, "ChallengeCode", "must be at most %d bytes", MaxTextLength)
		case seen[q.ChallengeCode]:
			bad(i, "ChallengeCode", "appears more than once")
		}
		seen[q.ChallengeCode] = true
		if strings.TrimSpace(q.ChallengeQuestion) == "" {
			bad(i, "ChallengeQuestion", "is required")
		} else if len(q.ChallengeQuestion) > MaxTextLength {
			bad(i, "ChallengeQuestion", "must be at most %d bytes", MaxTextLength)
		}
		for _, r := range q.ranges() {
			if r.min != nil && (*r.min < 0 || *r.min > MaxAnswerLength) {
				bad(i, r.minName, "must be between 0 and %d", MaxAnswerLength)
			}
			if r.max != nil && (*r.max < 0 || *r.max > MaxAnswerLength) {
				bad(i, r.maxName, "must be between 0 and %d", MaxAnswerLength)
			}
			if r.min != nil && r.max != nil && *r.min > *r.max {
				bad(i, r.maxName, "must not be less than %s", r.minName)
			}
		}
	}
	active := len(c.Active())
	switch {
	case c.RequiredAnswers < 0:
		bad(-1, "RequiredAnswerCount", "must not be negative")
	case c.Required() > active:
		bad(-1, "RequiredAnswerCount", "is %d, but the catalog has %d active questions", c.Required(), active)
	}
	return vs
}

type bounds struct {
	minName, maxName string
	min, max         *int
}

// ranges pairs each minimum with its maximum (nil where the catalog has no
// such maximum).
func (q *Question) ranges() []bounds {
	return []bounds{
		{"MinimumLength", "MaximumLength", q.MinimumLength, q.MaximumLength},
		{"MinimumAlphaCount", "MaximumAlphaCount", q.MinimumAlphaCount, q.MaximumAlphaCount},
		{"MinimumNumberCount", "MaximumNumberCount", q.MinimumNumberCount, q.MaximumNumberCount},
		{"MinimumUpperCaseLetterCount", "", q.MinimumUpperCaseLetterCount, nil},
		{"MinimumSpecialCharacterCount", "", q.MinimumSpecialCharacterCount, nil},
	}
}
