package kba_test

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// user is the questions service's ID of the factortest user: its
// business is the part after the dot.
const user = "factortest-user.acme"

var answers = map[string]string{"city": "Dubai", "color": "Blue", "pet": "Bucktastic"}

// newQuestions is a questions.Service in store with user enrolled, with
// cheap hashing parameters.
func newQuestions(t *testing.T, cfg factortest.Config) *questions.Service {
	t.Helper()
	qs, err := questions.NewService(cfg.Store, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, Engine: challenge.EngineOptions{Clock: cfg.Clock}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	min3 := 3
	var cat questions.Catalog
	var enrolled []questions.Answer
	for code, answer := range answers {
		cat.Questions = append(cat.Questions, questions.Question{ChallengeCode: code, ChallengeQuestion: "What is your " + code + "?", MinimumLength: &min3})
		enrolled = append(enrolled, questions.Answer{ChallengeCode: code, Answer: answer})
	}
	if _, err := qs.PutCatalog(ctx, "acme", cat); err != nil {
		t.Fatal(err)
	}
	if _, err := qs.Enroll(ctx, user, enrolled); err != nil {
		t.Fatal(err)
	}
	return qs
}

func TestFactorConforms(t *testing.T) {
	factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
		f, err := kba.New(newQuestions(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		return factortest.Subject{
			Factor:       f,
			Registration: authn.Registration{Subject: user},
			Right: func(prompts []authn.KeyValue) string {
				if len(prompts) != 1 {
					t.Fatalf("the factor asks %v; want one question", prompts)
				}
				return answers[prompts[0].Key]
			},
			Wrong: func([]authn.KeyValue) string { return "not the answer" },
		}
	})
}
