package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
)

// TestDeriveNonceIsHMACSHA256 holds the written-out HMAC to crypto/hmac.
func TestDeriveNonceIsHMACSHA256(t *testing.T) {
	salt := digest(sha256.Sum256([]byte("salt")))
	for _, tc := range []struct {
		seq       uint64
		nonce, op string
	}{
		{0, "AAAAAAAAAAAAAAAAAAAAAA", "Validate"},
		{7, "n", "Init ChallengeOMATOTP"},
		{1 << 40, "", "Finalize Failure user_abandoned"},
		{3, strings.Repeat("x", 1000), "Validate"}, // past the stack buffer
	} {
		m := hmac.New(sha256.New, salt[:])
		m.Write(binary.BigEndian.AppendUint64(nil, tc.seq))
		m.Write([]byte(tc.op))
		m.Write([]byte{0})
		m.Write([]byte(tc.nonce))
		want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
		if got := deriveNonce(&salt, tc.seq, tc.nonce, tc.op); got != want {
			t.Errorf("deriveNonce(%d, %.20q, %q) = %s; crypto/hmac says %s", tc.seq, tc.nonce, tc.op, got, want)
		}
	}
}

func BenchmarkDeriveNonce(b *testing.B) {
	salt := digest(sha256.Sum256([]byte("salt")))
	b.ReportAllocs()
	for b.Loop() {
		_ = deriveNonce(&salt, 3, "AAAAAAAAAAAAAAAAAAAAAA", "Validate")
	}
}
