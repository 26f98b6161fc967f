package questions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/questions"
)

func TestHashVerify(t *testing.T) {
	h, err := questions.NewHasher(fastParams, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := h.Hash(ctx, "dubai")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash(ctx, "dubai")
	if a == b {
		t.Fatal("two hashes of one answer are equal: the salt is not fresh")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(a, "dubai") {
		t.Fatalf("hash %q: want PHC format with its parameters, and no answer", a)
	}
	for answer, want := range map[string]bool{"dubai": true, "Dubai": false, "dubai ": false, "": false} {
		if ok, err := h.Verify(ctx, answer, a); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", answer, ok, err, want)
		}
	}
	stronger, _ := questions.NewHasher(questions.Params{Time: 2, MemoryKiB: 128, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if ok, err := stronger.Verify(ctx, "dubai", a); !ok || err != nil {
		t.Fatalf("a hasher with raised parameters cannot verify an old hash: %v %v", ok, err)
	}
	if !stronger.NeedsRehash(a) || h.NeedsRehash(a) {
		t.Fatal("NeedsRehash does not follow the parameters")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		strings.Replace(a, "$v=19$", "$v=16$", 1), a + "$"} {
		if _, err := h.Verify(ctx, "dubai", bad); !errors.Is(err, questions.ErrMalformedHash) {
			t.Errorf("Verify(%q): %v; want ErrMalformedHash", bad, err)
		}
	}
}

func TestNewHasherRejectsWeakParameters(t *testing.T) {
	for _, p := range []questions.Params{
		{Time: 0, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 8, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 0, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := questions.NewHasher(p, 0); err == nil {
			t.Errorf("NewHasher(%+v) accepted", p)
		}
	}
}

// BenchmarkHash measures one argon2id hash with the default parameters:
// the deliberate cost of every enrolled answer and every verified one.
func BenchmarkHash(b *testing.B) {
	h, err := questions.NewHasher(questions.DefaultParams(), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "bucktastic"); err != nil {
			b.Fatal(err)
		}
	}
}
