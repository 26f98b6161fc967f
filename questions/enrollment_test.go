package questions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/questions"
)

const (
	cityQ    = "com.soa.challenge.question.city.birth"
	colorQ   = "com.soa.challenge.question.color"
	petQ     = "com.soa.challenge.question.pet"
	mothersQ = "com.soa.challenge.question.mothers.name"
	schoolQ  = "com.soa.challenge.question.school"
)

// wantAnswers checks which of alice's answers verify (and, for those in
// wrong, which no longer do).
func (f *fixture) wantAnswers(t *testing.T, right map[string]string, wrong map[string]string) {
	t.Helper()
	for code, answer := range right {
		if ok, err := f.svc.CheckAnswer(context.Background(), alice, code, answer); err != nil || !ok {
			t.Errorf("alice's answer %q to %s does not verify: %v, %v", answer, code, ok, err)
		}
	}
	for code, answer := range wrong {
		if ok, err := f.svc.CheckAnswer(context.Background(), alice, code, answer); err != nil || ok {
			t.Errorf("alice's old answer %q to %s still verifies: %v, %v", answer, code, ok, err)
		}
	}
}

// ruleViolations returns err's violations as violations() words them, or
// fails if err is not a *RuleError.
func ruleViolations(t *testing.T, err error) []string {
	t.Helper()
	var re *questions.RuleError
	if !errors.As(err, &re) || !errors.Is(err, questions.ErrInvalid) {
		t.Fatalf("err = %v; want a *RuleError", err)
	}
	return violations(re.Violations)
}

func TestEnrollAddsAndUpdatesAndKeepsTheOtherAnswers(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	ctx := context.Background()

	// One answer updated: the whole set comes back, in catalog order, with
	// the answer sent and no other.
	got, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Green"}})
	if err != nil {
		t.Fatalf("updating one answer of three: %v", err)
	}
	want := []questions.Answer{{UserID: alice, ChallengeCode: cityQ}, {UserID: alice, ChallengeCode: colorQ, Answer: "Green"}, {UserID: alice, ChallengeCode: petQ}}
	if !slices.Equal(got, want) {
		t.Fatalf("Enroll returned %+v\nwant %+v", got, want)
	}
	f.wantAnswers(t, map[string]string{cityQ: "Dubai", colorQ: "green", petQ: "Bucktastic"}, map[string]string{colorQ: "Blue"})

	// One added, one updated: the set grows, still in catalog order.
	got, err = f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: schoolQ, Answer: "Lincoln"}, {ChallengeCode: cityQ, Answer: "Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	want = []questions.Answer{{UserID: alice, ChallengeCode: cityQ, Answer: "Paris"}, {UserID: alice, ChallengeCode: colorQ},
		{UserID: alice, ChallengeCode: petQ}, {UserID: alice, ChallengeCode: schoolQ, Answer: "Lincoln"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Enroll returned %+v\nwant %+v", got, want)
	}
	enrolled, _ := f.svc.Enrolled(ctx, alice)
	if len(enrolled) != 4 || enrolled[3].ChallengeCode != schoolQ || enrolled[3].ChallengeQuestion != "What was the name of your first school?" {
		t.Fatalf("Enrolled = %+v", enrolled)
	}
	f.wantAnswers(t, map[string]string{cityQ: "Paris", colorQ: "Green", petQ: "Bucktastic", schoolQ: "Lincoln"}, map[string]string{cityQ: "Dubai"})

	// A verification asks among all four.
	v, err := f.svc.StartVerification(ctx, alice, challenge.Origin{Caller: "test"})
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{cityQ: "Paris", colorQ: "Green", petQ: "Bucktastic", schoolQ: "Lincoln"}
	for v.Question != nil {
		if v, err = f.svc.Answer(ctx, v.ID, answers[v.Question.ChallengeCode]); err != nil {
			t.Fatal(err)
		}
	}
	if v.Status != questions.StateVerified {
		t.Fatalf("verification after the updates: %+v", v)
	}
}

func TestAnUpdateIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	_, err := f.svc.Enroll(context.Background(), alice, []questions.Answer{
		{ChallengeCode: colorQ, Answer: "Green"},    // fine
		{ChallengeCode: mothersQ, Answer: "Smith"},  // fine
		{ChallengeCode: petQ, Answer: "x"},          // too short
		{ChallengeCode: schoolQ, Answer: "Lincoln"}, // fine
	})
	if got, want := ruleViolations(t, err), []string{"2 Answer must be at least 3 characters"}; !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
	f.wantAnswers(t, map[string]string{cityQ: "Dubai", colorQ: "Blue", petQ: "Bucktastic"}, nil)
	if got, _ := f.svc.Enrolled(context.Background(), alice); len(got) != 3 {
		t.Fatalf("a refused update stored some answers: %+v", got)
	}
}

func TestTheMinimumAppliesToTheResultingSet(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	// A first enrollment of one answer when three are required.
	_, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Blue"}})
	if got, want := ruleViolations(t, err), []string{"-1 UserIdentificationChallenge must answer at least 3 different questions"}; !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
	if got, _ := f.svc.Enrolled(ctx, alice); len(got) != 0 {
		t.Fatalf("a refused first enrollment stored %+v", got)
	}

	// One updated answer of three kept.
	f.enrollAlice(t)
	if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Green"}}); err != nil {
		t.Fatalf("updating one of three: %v", err)
	}

	// The business now requires four: an update leaving three is refused,
	// one adding the fourth is taken.
	cat := demoCatalog()
	cat.RequiredAnswers = 4
	if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Purple"}})
	if got, want := ruleViolations(t, err), []string{"-1 UserIdentificationChallenge must answer at least 4 different questions, counting the 2 the user keeps"}; !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
	if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: schoolQ, Answer: "Lincoln"}}); err != nil {
		t.Fatalf("adding a fourth answer: %v", err)
	}
}

// TestAnswersToInactiveOrRemovedQuestionsAreKeptButDoNotCount: they stay
// stored and listed, are never asked, do not count toward the minimum, and
// are not compared with new answers; they cannot be updated.
func TestAnswersToInactiveOrRemovedQuestionsAreKeptButDoNotCount(t *testing.T) {
	f := newFixture(t)
	f.enrollAlice(t)
	ctx := context.Background()
	cat := demoCatalog()
	cat.Questions[2].Active = ptr(false) // pet
	if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
		t.Fatal(err)
	}

	// city and color are the only active answers kept: one more is needed.
	_, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Green"}})
	if got, want := ruleViolations(t, err), []string{"-1 UserIdentificationChallenge must answer at least 3 different questions, counting the 1 the user keeps"}; !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
	_, err = f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: petQ, Answer: "Rex"}})
	if got, want := ruleViolations(t, err), []string{"0 ChallengeCode is not an active question of the business"}; !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
	// The inactive question's answer is not compared: "Bucktastic" may be
	// another question's answer.
	got, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: mothersQ, Answer: "Bucktastic"}})
	if err != nil {
		t.Fatalf("a third active answer: %v", err)
	}
	want := []questions.Answer{{UserID: alice, ChallengeCode: cityQ}, {UserID: alice, ChallengeCode: colorQ},
		{UserID: alice, ChallengeCode: petQ}, {UserID: alice, ChallengeCode: mothersQ, Answer: "Bucktastic"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Enroll returned %+v\nwant %+v", got, want)
	}
	for range 10 {
		codes, _, err := f.svc.PickQuestions(ctx, alice)
		if err != nil || slices.Contains(codes, petQ) {
			t.Fatalf("PickQuestions = %v, %v: asks an inactive question", codes, err)
		}
	}

	// pet leaves the catalog: its answer is kept, listed last.
	cat.Questions = slices.Delete(cat.Questions, 2, 3)
	if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: schoolQ, Answer: "Lincoln"}}); err != nil {
		t.Fatal(err)
	}
	enrolled, _ := f.svc.Enrolled(ctx, alice)
	var codes []string
	for _, q := range enrolled {
		codes = append(codes, q.ChallengeCode)
	}
	if wantCodes := []string{cityQ, colorQ, mothersQ, schoolQ, petQ}; !slices.Equal(codes, wantCodes) {
		t.Fatalf("Enrolled lists %v, want %v", codes, wantCodes)
	}
	f.wantAnswers(t, map[string]string{petQ: "Bucktastic"}, nil)
}

// TestTheThreeRulesAreFieldsOfEachQuestion: each rule applies where its
// question sets it false, and not where the catalog leaves it out.
func TestTheThreeRulesAreFieldsOfEachQuestion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(q *questions.Question, v *bool)
		answer string
		want   string
	}{
		{"CanContainQuestionWords", func(q *questions.Question, v *bool) { q.CanContainQuestionWords = v }, "favorite",
			"0 Answer must not repeat words of the question"},
		{"CanContainUserID", func(q *questions.Question, v *bool) { q.CanContainUserID = v }, "x 9E4351AF-c642-4992-89e0-262a9bfaf223",
			"0 Answer must not contain the user ID"},
		{"CanEqualOtherAnswers", func(q *questions.Question, v *bool) { q.CanEqualOtherAnswers = v }, "Pink",
			"0 Answer must differ from the answer to entry 1"},
	} {
		for _, setting := range []*bool{nil, ptr(true), ptr(false)} {
			name := "absent"
			if setting != nil {
				name = fmt.Sprint(*setting)
			}
			t.Run(tc.name+" "+name, func(t *testing.T) {
				cat := demoCatalog()
				for i := range cat.Questions {
					q := &cat.Questions[i]
					q.CanContainQuestionWords, q.CanContainUserID, q.CanEqualOtherAnswers = nil, nil, nil
				}
				tc.set(&cat.Questions[1], setting) // color: "What is your favorite color?"
				answers := []questions.Answer{{ChallengeCode: colorQ, Answer: tc.answer}, {ChallengeCode: petQ, Answer: "pink"},
					{ChallengeCode: cityQ, Answer: "Dubai"}}
				got := violations(questions.Check(&cat, alice, answers, nil))
				var want []string
				if setting != nil && !*setting {
					want = []string{tc.want}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("violations %q, want %q", got, want)
				}
			})
		}
	}
}

// TestEqualAnswersAreRefusedIfEitherQuestionSaysSo: within a request, the
// entry whose question refuses equal answers is named.
func TestEqualAnswersAreRefusedIfEitherQuestionSaysSo(t *testing.T) {
	cat := demoCatalog()
	for i := range cat.Questions {
		cat.Questions[i].CanEqualOtherAnswers = nil
	}
	cat.Questions[0].CanEqualOtherAnswers = ptr(false) // city
	answers := []questions.Answer{{ChallengeCode: cityQ, Answer: "Dubai"}, {ChallengeCode: colorQ, Answer: "dubai"},
		{ChallengeCode: petQ, Answer: "DUBAI"}}
	want := []string{"0 Answer must differ from the answer to entry 1"}
	if got := violations(questions.Check(&cat, alice, answers, nil)); !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
}

func TestAnUpdatedAnswerMustDifferFromTheKeptOnes(t *testing.T) {
	ctx := context.Background()
	t.Run("refused where the question sent says so", func(t *testing.T) {
		f := newFixture(t)
		f.enrollAlice(t)
		_, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: mothersQ, Answer: "Smith"}, {ChallengeCode: colorQ, Answer: "  DUBAI "}})
		if got, want := ruleViolations(t, err), []string{"1 Answer must differ from the user's other answers"}; !slices.Equal(got, want) {
			t.Fatalf("violations %q, want %q", got, want)
		}
		f.wantAnswers(t, map[string]string{colorQ: "Blue"}, nil)
		if got, _ := f.svc.Enrolled(ctx, alice); len(got) != 3 {
			t.Fatalf("a refused update stored some answers: %+v", got)
		}
		// Its own old answer is not another answer: it is being replaced.
		if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "blue"}}); err != nil {
			t.Fatalf("sending the same answer again: %v", err)
		}
	})
	t.Run("refused where the kept question says so", func(t *testing.T) {
		f := newFixture(t)
		f.enrollAlice(t)
		cat := demoCatalog()
		for i := range cat.Questions {
			cat.Questions[i].CanEqualOtherAnswers = nil
		}
		cat.Questions[2].CanEqualOtherAnswers = ptr(false) // pet, kept
		if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "bucktastic"}})
		if got, want := ruleViolations(t, err), []string{"0 Answer must differ from the user's other answers"}; !slices.Equal(got, want) {
			t.Fatalf("violations %q, want %q", got, want)
		}
		// Equal to city, which allows it, as color does: taken.
		if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "dubai"}}); err != nil {
			t.Fatalf("an answer equal to one whose question allows it: %v", err)
		}
	})
	t.Run("taken where no question says so", func(t *testing.T) {
		f := newFixture(t)
		f.enrollAlice(t)
		cat := demoCatalog()
		for i := range cat.Questions {
			cat.Questions[i].CanEqualOtherAnswers = nil
		}
		if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Enroll(ctx, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Bucktastic"}}); err != nil {
			t.Fatalf("equal answers where the catalog allows them: %v", err)
		}
		f.wantAnswers(t, map[string]string{colorQ: "Bucktastic", petQ: "Bucktastic"}, nil)
	})
	t.Run("the comparisons are bounded", func(t *testing.T) {
		f := newFixture(t)
		var cat questions.Catalog
		var many []questions.Answer
		for i := range questions.MaxComparisons / 2 {
			cat.Questions = append(cat.Questions, questions.Question{ChallengeCode: fmt.Sprint("q", i), ChallengeQuestion: fmt.Sprint("Question ", i, "?"),
				CanEqualOtherAnswers: ptr(false)})
			many = append(many, questions.Answer{ChallengeCode: fmt.Sprint("q", i), Answer: fmt.Sprint("answer ", i)})
		}
		cat.Questions = append(cat.Questions, questions.Question{ChallengeCode: "a", ChallengeQuestion: "A?"}, questions.Question{ChallengeCode: "b", ChallengeQuestion: "B?"},
			questions.Question{ChallengeCode: "c", ChallengeQuestion: "C?"})
		if _, err := f.svc.PutCatalog(ctx, business, cat); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Enroll(ctx, alice, many); err != nil {
			t.Fatal(err)
		}
		three := []questions.Answer{{ChallengeCode: "a", Answer: "one"}, {ChallengeCode: "b", Answer: "two"}, {ChallengeCode: "c", Answer: "three"}}
		_, err := f.svc.Enroll(ctx, alice, three)
		want := fmt.Sprintf("-1 UserIdentificationChallenge must hold fewer answers: comparing them with the user's other answers would take %d checks, more than %d",
			3*questions.MaxComparisons/2, questions.MaxComparisons)
		if got := ruleViolations(t, err); !slices.Equal(got, []string{want}) {
			t.Fatalf("violations %q, want %q", got, want)
		}
		if _, err := f.svc.Enroll(ctx, alice, three[:2]); err != nil {
			t.Fatalf("%d comparisons: %v", questions.MaxComparisons, err)
		}
	})
}

// TestACatalogOfTheFormerReleaseKeepsItsRules: a catalog stored before the
// three rules were fields (version 1, testdata/catalog/1.json) applies
// them to every question, as that release did; stored again, the same
// questions without the fields have none of them.
func TestACatalogOfTheFormerReleaseKeepsItsRules(t *testing.T) {
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := questions.NewService(store, questions.Options{Params: fastParams})
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("testdata/catalog/1.json")
	if err != nil {
		t.Fatal(err)
	}
	catalogs, _ := challenge.NewRecords(store, questions.CatalogKind, nil)
	ctx := context.Background()
	if err := catalogs.Put(ctx, business, "", old); err != nil {
		t.Fatal(err)
	}
	cat, err := svc.Catalog(ctx, business)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range cat.Questions {
		if q.QuestionWordsAllowed() || q.UserIDAllowed() || q.EqualAnswersAllowed() {
			t.Fatalf("question %s of a version 1 catalog: %+v; want the three rules on", q.ChallengeCode, q)
		}
	}
	// city is case sensitive, pet is not: they are compared as each says.
	answers := []questions.Answer{{ChallengeCode: "city", Answer: "birth city"}, {ChallengeCode: "pet", Answer: "BIRTH CITY"}}
	_, err = svc.Enroll(ctx, alice, answers)
	want := []string{"0 Answer must not repeat words of the question", "1 Answer must differ from the answer to entry 0"}
	if got := ruleViolations(t, err); !slices.Equal(got, want) {
		t.Fatalf("violations %s, want %s", strings.Join(got, "; "), strings.Join(want, "; "))
	}

	for i := range cat.Questions {
		q := &cat.Questions[i]
		q.CanContainQuestionWords, q.CanContainUserID, q.CanEqualOtherAnswers = nil, nil, nil
	}
	if _, err := svc.PutCatalog(ctx, business, *cat); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Enroll(ctx, alice, answers); err != nil {
		t.Fatalf("the same answers under the catalog stored again without the rules: %v", err)
	}
}

// aliceEnrolledWithALimiter returns a service with a memory Limiter and
// the demo catalog, alice enrolled with her demo answers from the origin
// it returns.
func aliceEnrolledWithALimiter(t *testing.T) (*questions.Service, challenge.Origin) {
	t.Helper()
	clock := challengetest.NewClock()
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	limiter, err := challenge.NewMemoryLimiter(challenge.Limits{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := questions.NewService(store, questions.Options{Params: fastParams, Engine: challenge.EngineOptions{Clock: clock, Limiter: limiter}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.PutCatalog(ctx, business, demoCatalog()); err != nil {
		t.Fatal(err)
	}
	from := challenge.Origin{Caller: "session:" + alice, Source: "ip:203.0.113.9"}
	if _, err := svc.EnrollFrom(ctx, from, alice, aliceAnswers()); err != nil {
		t.Fatal(err)
	}
	return svc, from
}

// TestComparingWithKeptAnswersIsChargedAsAGuess: whether an answer sent
// equals a kept one is what a guess at it learns, so, with a Limiter, each
// request that compares them spends one failure of the user's answers'
// budget, which verifications spend too; past the free failures the
// source is held off, and nothing is stored. A request that compares
// nothing is not charged.
func TestComparingWithKeptAnswersIsChargedAsAGuess(t *testing.T) {
	svc, from := aliceEnrolledWithALimiter(t)
	ctx := context.Background()
	guesses := []string{"Rex", "Max", "Bella", "Luna", "Charlie"}
	for _, guess := range guesses {
		if _, err := svc.EnrollFrom(ctx, from, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: guess}}); err != nil {
			t.Fatalf("update %q: %v", guess, err)
		}
	}
	_, err := svc.EnrollFrom(ctx, from, alice, []questions.Answer{{ChallengeCode: colorQ, Answer: "Daisy"}})
	var held *challenge.ThrottledError
	if !errors.As(err, &held) || held.RetryAfter <= 0 {
		t.Fatalf("a sixth comparison from one source: %v; want it held off", err)
	}
	if ok, _ := svc.CheckAnswer(ctx, alice, colorQ, "Charlie"); !ok {
		t.Fatal("the refused update changed the answer")
	}
	// The budget is the verifications': alice's answers from that source wait too.
	v, err := svc.StartVerification(ctx, alice, from)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Answer(ctx, v.ID, "Dubai"); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("an answer from the held source: %v; want it held off", err)
	}
	// Replacing every answer compares nothing: not charged.
	if _, err := svc.EnrollFrom(ctx, from, alice, aliceAnswers()); err != nil {
		t.Fatalf("a request that compares nothing: %v", err)
	}
}

// TestEachAnswerComparedIsOneGuess: a request cannot carry more guesses
// than a verification could make: each answer sent that is compared with
// the kept ones spends one failure, however many the request holds.
func TestEachAnswerComparedIsOneGuess(t *testing.T) {
	svc, from := aliceEnrolledWithALimiter(t)
	ctx := context.Background()
	// Two guesses per request: the second request reaches four failures.
	for _, pair := range [][2]string{{"Rex", "Max"}, {"Bella", "Luna"}} {
		if _, err := svc.EnrollFrom(ctx, from, alice, []questions.Answer{
			{ChallengeCode: mothersQ, Answer: pair[0]}, {ChallengeCode: schoolQ, Answer: pair[1]}}); err != nil {
			t.Fatalf("update %q: %v", pair, err)
		}
	}
	if _, err := svc.EnrollFrom(ctx, from, alice, []questions.Answer{{ChallengeCode: mothersQ, Answer: "Daisy"}}); err != nil {
		t.Fatalf("the fifth guess: %v", err)
	}
	_, err := svc.EnrollFrom(ctx, from, alice, []questions.Answer{{ChallengeCode: schoolQ, Answer: "Coco"}})
	if !errors.Is(err, challenge.ErrThrottled) {
		t.Fatalf("the sixth guess: %v; want it held off", err)
	}
}
