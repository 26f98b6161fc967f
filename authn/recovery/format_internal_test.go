package recovery

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

// goldenSet is a set of three codes, one used, as version 1 writes it.
func goldenSet() set {
	s := set{Generation: 2, Codes: make([]entry, 3)}
	for i := range s.Codes {
		s.Codes[i].Hash = sha256.Sum256([]byte{byte(i)})
	}
	s.Codes[1].Used, s.Codes[1].By = true, "tx-0123456789abcdefghij"
	return s
}

func TestSetFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[set]{
		Dir:    "testdata/set",
		Encode: func(s set) []byte { return s.encode() },
		Decode: decodeSet,
		Golden: []set{goldenSet()},
		Later:  binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42),
	})
}

func TestDecodeSetRefusesCorruptRecords(t *testing.T) {
	good := goldenSet()
	shortHash := []byte{setVersion}
	shortHash = binenc.AppendInt(shortHash, 1)
	shortHash = binenc.AppendCount(shortHash, 1)
	shortHash = binenc.AppendBytes(shortHash, make([]byte, 31))
	shortHash = binenc.AppendBool(shortHash, false)
	shortHash = binenc.AppendString(shortHash, "")
	shortHash = append(shortHash, bytes.Repeat([]byte{0}, 8)...)
	byWithoutUse := good
	byWithoutUse.Codes = append([]entry(nil), good.Codes...)
	byWithoutUse.Codes[0].By = "tx"
	for name, data := range map[string][]byte{
		"empty":                         nil,
		"a later version":               append([]byte{2}, good.encode()[1:]...),
		"truncated":                     good.encode()[:40],
		"a hash of 31 bytes":            shortHash,
		"generation 0":                  (&set{}).encode(),
		"an unused code with a claimer": byWithoutUse.encode(),
	} {
		if _, err := decodeSet(data); err == nil {
			t.Errorf("a record that is %s decodes", name)
		}
	}
}

func FuzzDecodeSet(f *testing.F) {
	s := goldenSet()
	f.Add(s.encode())
	f.Add((&set{Generation: 1}).encode())
	f.Add([]byte{setVersion, 2, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSet(b)
		if err != nil {
			return
		}
		if s.Generation < 1 || s.unused() > len(s.Codes) {
			t.Fatalf("decoded an impossible set %+v", s)
		}
		again, err := decodeSet(s.encode())
		if err != nil || again.Generation != s.Generation || len(again.Codes) != len(s.Codes) || again.rest != s.rest {
			t.Fatalf("re-encoding %+v does not round-trip: %+v, %v", s, again, err)
		}
		for i := range s.Codes {
			if again.Codes[i] != s.Codes[i] {
				t.Fatalf("code %d re-encodes as %+v; want %+v", i, again.Codes[i], s.Codes[i])
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"ABCDE-FGHJK", "abcde fghjk", "OIL01-23456", "", "AAAAA-AAAAU", "ÀBCDE-FGHJK"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		code, ok := normalize(answer)
		if !ok {
			return
		}
		if len(code) != codeLength {
			t.Fatalf("%q normalizes to %q, of %d characters", answer, code, len(code))
		}
		if again, ok := normalize(code[:5] + "-" + code[5:]); !ok || again != code {
			t.Fatalf("%q normalizes to %q, whose shown form normalizes to %q, %v", answer, code, again, ok)
		}
	})
}
