package questions_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/questions"
)

func violations(vs []questions.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%d %s %s", v.Entry, v.Field, v.Message)
	}
	return out
}

func TestCheckAcceptsTheSample(t *testing.T) {
	cat := demoCatalog()
	if vs := questions.Check(&cat, alice, aliceAnswers(), nil); len(vs) != 0 {
		t.Fatalf("the sample answers break rules: %v", violations(vs))
	}
}

// TestEachConstraintAlone breaks one constraint at a time on a question
// that has only that constraint.
func TestEachConstraintAlone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		q      questions.Question
		answer string
		want   string
	}{
		{"MinimumLength", questions.Question{MinimumLength: ptr(3)}, "ab", "must be at least 3 characters"},
		{"MaximumLength", questions.Question{MaximumLength: ptr(5)}, "abcdef", "must be at most 5 characters"},
		{"MinimumAlphaCount", questions.Question{MinimumAlphaCount: ptr(3)}, "a1234", "must contain at least 3 letters"},
		{"MaximumAlphaCount", questions.Question{MaximumAlphaCount: ptr(0)}, "12a4", "must contain at most 0 letters"},
		{"MinimumNumberCount", questions.Question{MinimumNumberCount: ptr(2)}, "abc1", "must contain at least 2 digits"},
		{"MaximumNumberCount", questions.Question{MaximumNumberCount: ptr(1)}, "a12", "must contain at most 1 digits"},
		{"MinimumUpperCaseLetterCount", questions.Question{MinimumUpperCaseLetterCount: ptr(1)}, "dubai", "must contain at least 1 upper-case letters"},
		{"MinimumSpecialCharacterCount", questions.Question{MinimumSpecialCharacterCount: ptr(1)}, "dubai", "must contain at least 1 special characters"},
		{"AllowedSpecialCharacters", questions.Question{AllowedSpecialCharacters: ptr("-'")}, "o'neil!", `may contain only these special characters: "-'"`},
		{"CanContainSpaces", questions.Question{CanContainSpaces: ptr(false)}, "new york", "must not contain spaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.ChallengeCode, tc.q.ChallengeQuestion = "q", "Anything?"
			cat := questions.Catalog{Questions: []questions.Question{tc.q}, RequiredAnswers: 1}
			vs := questions.Check(&cat, alice, []questions.Answer{{ChallengeCode: "q", Answer: tc.answer}}, nil)
			if want := []string{"0 Answer " + tc.want}; !slices.Equal(violations(vs), want) {
				t.Fatalf("Check(%q) = %q, want %q", tc.answer, violations(vs), want)
			}
		})
	}
}

func TestCheckReportsEveryViolationAtOnce(t *testing.T) {
	cat := demoCatalog()
	strict := &cat.Questions[1] // color
	strict.CanContainSpaces = ptr(false)
	strict.MinimumNumberCount = ptr(1)
	answers := []questions.Answer{
		{ChallengeCode: "com.soa.challenge.question.city.birth", Answer: "Dubai"},
		{UserID: bob, ChallengeCode: "com.soa.challenge.question.color", Answer: "sky blue"},
		{ChallengeCode: "com.soa.challenge.question.nope", Answer: "anything"},
		{ChallengeCode: "com.soa.challenge.question.pet", Answer: "  DUBAI "},
		{ChallengeCode: "com.soa.challenge.question.city.birth", Answer: "my birth city"},
		{ChallengeCode: "com.soa.challenge.question.school", Answer: "9E4351AF-c642-4992-89e0-262a9bfaf223 school"},
		{ChallengeCode: "com.soa.challenge.question.mothers.name", Answer: "x"},
	}
	want := []string{
		"1 UserID must be the user the request is for",
		"1 Answer must contain at least 1 digits",
		"1 Answer must not contain spaces",
		"2 ChallengeCode is not an active question of the business",
		"3 Answer must differ from the answer to entry 0",
		"4 ChallengeCode is answered more than once",
		"4 Answer must not repeat words of the question",
		"5 Answer must not repeat words of the question",
		"5 Answer must not contain the user ID",
		"6 Answer must be at least 3 characters",
	}
	if got := violations(questions.Check(&cat, alice, answers, nil)); !slices.Equal(got, want) {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckRules(t *testing.T) {
	cat := demoCatalog()
	for _, tc := range []struct {
		name    string
		answers []questions.Answer
		want    []string
	}{
		{"too few answers", aliceAnswers()[:2], []string{"-1 UserIdentificationChallenge must answer at least 3 different questions"}},
		{"an empty answer", append(aliceAnswers()[:2], questions.Answer{ChallengeCode: "com.soa.challenge.question.pet", Answer: " \t "}),
			[]string{"2 Answer is required"}},
		{"a missing code", append(aliceAnswers()[:2], questions.Answer{Answer: "Rex"}),
			[]string{"2 ChallengeCode is required"}},
		{"answers equal after case folding", append(aliceAnswers()[:2], questions.Answer{ChallengeCode: "com.soa.challenge.question.pet", Answer: "BLUE"}),
			[]string{"2 Answer must differ from the answer to entry 1"}},
		{"short question words are allowed", append(aliceAnswers()[:2], questions.Answer{ChallengeCode: "com.soa.challenge.question.pet", Answer: "The Dog Of Doom"}),
			nil},
		{"an inactive question", func() []questions.Answer {
			a := aliceAnswers()
			a[2].ChallengeCode = "com.soa.challenge.question.retired"
			return a
		}(), []string{"2 ChallengeCode is not an active question of the business"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cat
			c.Questions = append(slices.Clone(cat.Questions), questions.Question{ChallengeCode: "com.soa.challenge.question.retired", ChallengeQuestion: "Old?", Active: ptr(false)})
			if got := violations(questions.Check(&c, alice, tc.answers, nil)); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCaseSensitiveQuestionsKeepCase(t *testing.T) {
	cat := questions.Catalog{RequiredAnswers: 2, Questions: []questions.Question{
		{ChallengeCode: "a", ChallengeQuestion: "First?", IsCaseSensitive: ptr(true)},
		{ChallengeCode: "b", ChallengeQuestion: "Second?", IsCaseSensitive: ptr(true)},
	}}
	vs := questions.Check(&cat, alice, []questions.Answer{{ChallengeCode: "a", Answer: "Rex"}, {ChallengeCode: "b", Answer: "rex"}}, nil)
	if len(vs) != 0 {
		t.Fatalf("case-sensitive answers differing in case were refused: %v", violations(vs))
	}
}

func TestCatalogValidate(t *testing.T) {
	cat := demoCatalog()
	cat.Questions = append(cat.Questions,
		questions.Question{ChallengeCode: "com.soa.challenge.question.pet", ChallengeQuestion: "Again?"},
		questions.Question{ChallengeCode: "x", MinimumLength: ptr(10), MaximumLength: ptr(5)},
	)
	cat.RequiredAnswers = 9
	want := []string{
		"5 ChallengeCode appears more than once",
		"6 ChallengeQuestion is required",
		"6 MaximumLength must not be less than MinimumLength",
		"-1 RequiredAnswerCount is 9, but the catalog has 7 active questions",
	}
	if got := violations(cat.Validate()); !slices.Equal(got, want) {
		t.Fatalf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	good := demoCatalog()
	if vs := good.Validate(); len(vs) != 0 {
		t.Fatalf("the demo catalog is invalid: %v", violations(vs))
	}
}

// FuzzCheck applies the rules to arbitrary answers against catalogs with
// and without each constraint: never a panic, never an answer in a
// violation, and a set with no violation can always be normalized.
func FuzzCheck(f *testing.F) {
	f.Add("Dubai", "Blue", "Bucktastic", "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp", uint8(0))
	f.Add("", " \t", "x", "u", uint8(255))
	f.Add("Ｄｕｂａｉ", "ﬁsh", "Straße", "user.biz", uint8(7))
	f.Add("What is the city", "city", "\xff\xfe", "a.b", uint8(3))
	f.Fuzz(func(t *testing.T, a, b, c, user string, constraints uint8) {
		cat := demoCatalog()
		strict := &cat.Questions[0]
		if constraints&1 != 0 {
			strict.MinimumUpperCaseLetterCount = ptr(1)
		}
		if constraints&2 != 0 {
			strict.AllowedSpecialCharacters = ptr("-'")
		}
		if constraints&4 != 0 {
			strict.CanContainSpaces = ptr(false)
		}
		if constraints&8 != 0 {
			strict.MaximumAlphaCount = ptr(0)
		}
		if constraints&16 != 0 {
			strict.IsCaseSensitive = ptr(true)
		}
		answers := []questions.Answer{
			{ChallengeCode: "com.soa.challenge.question.city.birth", Answer: a},
			{ChallengeCode: "com.soa.challenge.question.color", Answer: b},
			{ChallengeCode: "com.soa.challenge.question.pet", Answer: c},
		}
		for _, v := range questions.Check(&cat, user, answers, nil) {
			for _, ans := range []string{a, b, c} {
				if len(ans) >= 4 && strings.Contains(v.Message, ans) {
					t.Fatalf("violation %+v repeats an answer", v)
				}
			}
			if v.Entry < -1 || v.Entry >= len(answers) || v.Field == "" {
				t.Fatalf("malformed violation %+v", v)
			}
		}
	})
}
