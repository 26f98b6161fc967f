package questions_test

import (
	"github.com/challengekit/challengekit/questions"
)

// fastParams keep tests quick; the defaults are measured by BenchmarkHash.
var fastParams = questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func ptr[T any](v T) *T { return &v }

const (
	business = "acmepaymentscorp"
	alice    = "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp"
	bob      = "eceffbe3-3386-495b-80d3-7526f0eb0edc.acmepaymentscorp"
)

// demoCatalog is the demo server's business: five questions, 3 to 64
// characters, not case sensitive, answers that may not repeat the
// question's words, contain the user's ID or equal another answer, three
// answers required.
func demoCatalog() questions.Catalog {
	q := func(code, text string) questions.Question {
		return questions.Question{ChallengeCode: "com.soa.challenge.question." + code, ChallengeQuestion: text,
			MinimumLength: ptr(3), MaximumLength: ptr(64), IsCaseSensitive: ptr(false), CanContainSpaces: ptr(true), Active: ptr(true),
			CanContainQuestionWords: ptr(false), CanContainUserID: ptr(false), CanEqualOtherAnswers: ptr(false)}
	}
	return questions.Catalog{Questions: []questions.Question{
		q("city.birth", "What is the city of your birth?"),
		q("color", "What is your favorite color?"),
		q("pet", "What is the name of your pet?"),
		q("mothers.name", "What is your mother's maiden name?"),
		q("school", "What was the name of your first school?"),
	}}
}

func aliceAnswers() []questions.Answer {
	return []questions.Answer{
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.city.birth", Answer: "Dubai"},
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.color", Answer: "Blue"},
		{UserID: alice, ChallengeCode: "com.soa.challenge.question.pet", Answer: "Bucktastic"},
	}
}
