package questions_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// A business's catalog, a user's enrollment, and a verification that asks
// one question back.
func ExampleService() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	svc, err := questions.NewService(store, questions.Options{QuestionsPerVerification: 1})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	min3 := 3
	_, err = svc.PutCatalog(ctx, "acme", questions.Catalog{RequiredAnswers: 1, Questions: []questions.Question{
		{ChallengeCode: "pet", ChallengeQuestion: "What is the name of your pet?", MinimumLength: &min3},
	}})
	if err != nil {
		panic(err)
	}

	_, err = svc.Enroll(ctx, "alice.acme", []questions.Answer{{ChallengeCode: "pet", Answer: "Al"}})
	var rules *questions.RuleError
	if errors.As(err, &rules) {
		fmt.Println(rules.Violations[0].Field, rules.Violations[0].Message)
	}
	if _, err := svc.Enroll(ctx, "alice.acme", []questions.Answer{{ChallengeCode: "pet", Answer: "Bucktastic"}}); err != nil {
		panic(err)
	}

	v, _ := svc.StartVerification(ctx, "alice.acme", challenge.Origin{Caller: "test"})
	fmt.Println(v.Question.ChallengeQuestion)
	v, _ = svc.Answer(ctx, v.ID, "  BUCKTASTIC ") // normalized: case and spaces do not matter
	fmt.Println(v.Status)
	// Output:
	// Answer must be at least 3 characters
	// What is the name of your pet?
	// verified
}
