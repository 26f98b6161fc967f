package totp

import (
	"testing"

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
