package challenge_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
	"testing"

	"github.com/challengekit/challengekit/challenge"
)

// wantDigest is KeyDigest's definition, written out: the first 128 bits
// of HMAC-SHA256 under key (SHA-256 without one) over the parts, each
// ended by a zero byte, in hex.
func wantDigest(key []byte, parts ...string) string {
	var h hash.Hash = sha256.New()
	if key != nil {
		h = hmac.New(sha256.New, key)
	}
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func TestKeyDigesterNamesAsDefined(t *testing.T) {
	inputs := [][]string{
		{"subject", "authn", "alice"},
		{"start", "bank-app"},
		{"2001:db8::/64"},
		{""},
		{},
		{"a", "b"}, {"ab"}, // the zero bytes keep these apart
		{string(make([]byte, 300))},
	}
	for _, key := range [][]byte{nil, []byte("fleet digest key, 32 bytes long!")} {
		d := challenge.NewKeyDigester(key)
		seen := map[string]bool{}
		for _, parts := range inputs {
			want := wantDigest(key, parts...)
			// Twice, so the second runs on a state the first has used.
			for range 2 {
				if got := d.Digest(parts...); got != want {
					t.Errorf("key %q: Digest(%q) = %s, want %s", key, parts, got, want)
				}
			}
			if got := challenge.KeyDigest(key, parts...); got != want {
				t.Errorf("key %q: KeyDigest(%q) = %s, want %s", key, parts, got, want)
			}
			if seen[want] {
				t.Errorf("key %q: %q shares its digest with another input", key, parts)
			}
			seen[want] = true
		}
	}
}

func TestKeyDigesterKeepsItsOwnKey(t *testing.T) {
	key := []byte("fleet digest key, 32 bytes long!")
	want := wantDigest(key, "alice")
	d := challenge.NewKeyDigester(key)
	key[0] ^= 0xff // the caller reuses its slice
	if got := d.Digest("alice"); got != want {
		t.Errorf("after the caller changed its key slice, Digest = %s, want %s", got, want)
	}
}

func TestKeyDigesterConcurrentUse(t *testing.T) {
	d := challenge.NewKeyDigester([]byte("k"))
	names := []string{"alice", "bob", "carol", "dave"}
	want := map[string]string{}
	for _, n := range names {
		want[n] = wantDigest([]byte("k"), "subject", n)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				n := names[(g+i)%len(names)]
				if got := d.Digest("subject", n); got != want[n] {
					t.Errorf("Digest(subject, %s) = %s, want %s", n, got, want[n])
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkKeyDigest compares a digest through a KeyDigester with
// KeyDigest's hash made afresh (what the limiters did for each key).
func BenchmarkKeyDigest(b *testing.B) {
	key := []byte("fleet digest key, 32 bytes long!")
	b.Run("fresh_hmac_baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = wantDigest(key, "subject", "authn", "load-12345")
		}
	})
	d := challenge.NewKeyDigester(key)
	b.Run("digester", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = d.Digest("subject", "authn", "load-12345")
		}
	})
}
