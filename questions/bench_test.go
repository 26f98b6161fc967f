package questions_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// minimalParams make argon2id as cheap as it can be (one pass over 8 KiB),
// so that BenchmarkVerification measures the flow around the hashes. They
// are for benchmarks only: DefaultParams is what protects answers.
var minimalParams = questions.Params{Time: 1, MemoryKiB: 8, Threads: 1, SaltLen: 16, KeyLen: 32}

// BenchmarkVerification runs a security-question verification on the
// memory store: StartVerification (load the enrollment and catalog, pick
// two questions) and two right answers (normalize, verify, advance, and
// verified). argon2_baseline is the two argon2id verifications alone, with
// the same parameters: the flow's own cost is the difference. The clock
// moves a minute per verification, so old ones expire and are reclaimed.
// Nothing is logged.
func BenchmarkVerification(b *testing.B) {
	b.Run("flow", func(b *testing.B) {
		f := newFixtureWith(b, minimalParams, zerolog.Disabled)
		f.enrollAlice(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			v, err := f.svc.StartVerification(ctx, alice, challenge.Origin{Caller: "test"})
			if err != nil {
				b.Fatal(err)
			}
			for v.Question != nil {
				if v, err = f.svc.Answer(ctx, v.ID, answerFor(v.Question.ChallengeCode)); err != nil {
					b.Fatal(err)
				}
			}
			if v.Status != questions.StateVerified {
				b.Fatalf("verification ended %s", v.Status)
			}
			f.clock.Advance(time.Minute)
		}
	})
	b.Run("argon2_baseline", func(b *testing.B) {
		h, err := questions.NewHasher(minimalParams, 0)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		first, _ := h.Hash(ctx, "dubai")
		second, _ := h.Hash(ctx, "blue")
		b.ReportAllocs()
		for b.Loop() {
			ok1, err1 := h.Verify(ctx, questions.Normalize("  DUBAI ", false), first)
			ok2, err2 := h.Verify(ctx, questions.Normalize("  BLUE ", false), second)
			if !ok1 || !ok2 || err1 != nil || err2 != nil {
				b.Fatal("baseline verification failed")
			}
		}
	})
}
