package kba

import (
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

func TestStateFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[state]{
		Dir:    "testdata/state",
		Encode: func(s state) []byte { return s.encode() },
		Decode: decodeState,
		Golden: []state{{Codes: []string{"city", "pet"}, Texts: []string{"What is the city of your birth?", "What is the name of your pet?"}, Next: 1}},
		Later:  binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42),
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add((&state{Codes: []string{"city"}, Texts: []string{"Where?"}}).encode())
	f.Add([]byte("2:verification-id")) // a state of the release before states were kept here
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		if s.Next < 0 || s.Next > len(s.Codes) || len(s.Texts) != len(s.Codes) {
			t.Fatalf("decoded an impossible state %+v", s)
		}
		again, err := decodeState(s.encode())
		if err != nil || again.Next != s.Next || len(again.Codes) != len(s.Codes) || again.rest != s.rest {
			t.Fatalf("re-encoding %+v does not round-trip: %+v, %v", s, again, err)
		}
	})
}
