package main

import (
	"context"
	"testing"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// TestSeedLoadEnrollsKBAUsersAndHoldsChallenges: -demo-load-kba users can
// be asked their questions, and -demo-held challenges are in the store,
// pending.
func TestSeedLoadEnrollsKBAUsersAndHoldsChallenges(t *testing.T) {
	ctx := context.Background()
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := questions.NewService(store, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := psd2.NewMemoryAccounts(demoAccounts)
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		t.Fatal(err)
	}
	challenges, err := psd2.NewService(store, accounts, redirects, psd2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := seedQuestions(ctx, qs); err != nil {
		t.Fatal(err)
	}
	before := store.Len()
	if err := seedLoad(ctx, &config{demoLoadKBA: 3, demoHeld: 50}, qs, challenges); err != nil {
		t.Fatal(err)
	}
	if got := store.Len() - before; got != 3+50 {
		t.Errorf("seeding 3 KBA users and 50 held challenges stored %d records", got)
	}
	for _, user := range []string{"kba-0", "kba-2"} {
		codes, _, err := qs.PickQuestions(ctx, kbaSubject(user))
		if err != nil || len(codes) != 2 {
			t.Fatalf("%s: questions %v (%v)", user, codes, err)
		}
		if ok, err := qs.CheckAnswer(ctx, kbaSubject(user), "com.soa.challenge.question.pet", "Bucktastic"); !ok || err != nil {
			t.Errorf("%s: alice's answer refused (%v)", user, err)
		}
	}
}
