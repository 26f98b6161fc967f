package totp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/internal/formattest"
)

type used struct {
	Step    int64
	Claimer string
}

// TestUsedFormat: the replay guard's format is closed (see encodeUsed):
// no later release appends to it.
func TestUsedFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[used]{
		Dir:    "testdata/used",
		Encode: func(u used) []byte { return encodeUsed(u.Step, u.Claimer) },
		Decode: func(b []byte) (used, error) {
			step, claimer, err := decodeUsed(b)
			return used{step, claimer}, err
		},
		Golden: []used{{Step: 59071768}, {Step: 59071768, Claimer: "tx-0123456789abcdefghij"}},
	})
}

func FuzzDecodeUsed(f *testing.F) {
	f.Add(encodeUsed(59071768, "tx"))
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		step, claimer, err := decodeUsed(b)
		if err != nil {
			return
		}
		if again := encodeUsed(step, claimer); string(again) != string(b) {
			t.Fatalf("re-encoding %x gives %x", b, again)
		}
	})
}

// TestCodesAreTheLibrarysCodes: generate makes the codes
// github.com/pquerna/otp makes, for both lengths and every spelling of a
// secret it takes, and decodeSecret refuses what it refuses.
func TestCodesAreTheLibrarysCodes(t *testing.T) {
	// The last secret is longer than SHA-1's block: HMAC hashes it first.
	for _, secret := range []string{"JBSWY3DPEHPK3PXP", " jbswy3dpehpk3pxp\n", "GEZDGNBVGY3TQOJQ", "GEZDGNBVGY3TQOJQGEZA", "GEZDGNBVGY3TQOJQGEZA====",
		strings.Repeat("JBSWY3DPEHPK3PXP", 8)} {
		key, err := decodeSecret(secret)
		if err != nil {
			t.Fatalf("decodeSecret(%q): %v", secret, err)
		}
		for _, digits := range []otp.Digits{otp.DigitsSix, otp.DigitsEight} {
			for step := int64(0); step < 2000; step += 7 {
				step := step * 1_000_003
				want, err := otptotp.GenerateCodeCustom(secret, time.Unix(step*30, 0), otptotp.ValidateOpts{Period: 30, Digits: digits, Algorithm: otp.AlgorithmSHA1})
				if err != nil {
					t.Fatal(err)
				}
				var buf [8]byte
				if got := string(generate(key, step, buf[:digits])); got != want {
					t.Fatalf("secret %q, step %d, %d digits: %s, want %s", secret, step, digits, got, want)
				}
			}
		}
	}
	for _, secret := range []string{"not base32!", "JBSWY3DPEHPK3PX1", "A"} {
		_, want := otptotp.GenerateCode(secret, time.Unix(0, 0))
		if _, err := decodeSecret(secret); !errors.Is(err, otp.ErrValidateSecretInvalidBase32) || want == nil {
			t.Errorf("decodeSecret(%q): %v; the library says %v", secret, err, want)
		}
	}
}
