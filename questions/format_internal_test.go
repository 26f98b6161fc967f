package questions

import (
	"os"
	"reflect"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

var (
	later   = binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42)
	answers = []storedAnswer{
		{Code: "city", Hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", CaseSensitive: false},
		{Code: "pet", Hash: "$argon2id$v=19$m=64,t=1,p=1$cGVwcGVycGVwcGVycGVwcA$b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyb3Q", CaseSensitive: true},
	}
)

func TestEnrollmentFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[enrollment]{
		Dir:    "testdata/enrollment",
		Encode: func(e enrollment) []byte { return e.encode() },
		Decode: decodeEnrollment,
		Golden: []enrollment{{Business: "acmepaymentscorp", Answers: answers}},
		Later:  later,
	})
}

func TestVerificationFormat(t *testing.T) {
	v1 := verification{UserID: "alice.acmepaymentscorp", Business: "acmepaymentscorp", Asked: answers,
		Texts: []string{"What is the city of your birth?", "What is the name of your pet?"}, Next: 1}
	v2 := v1
	v2.Source = "ip:203.0.113.9"
	formattest.Check(t, formattest.Format[verification]{
		Dir:    "testdata/verification",
		Encode: func(v verification) []byte { return v.encode() },
		Decode: decodeVerification,
		Golden: []verification{v1, v2},
		Later:  later,
	})
}

// TestCatalogFormat: catalogs are JSON, which has no room for appended
// bytes; a later release's members are ignored (encoding/json), and not
// kept: an administrator replaces a catalog whole. Version 1 had no
// "Version" member and no CanContainQuestionWords, CanContainUserID or
// CanEqualOtherAnswers: its rules applied to every question, so it decodes
// to them set to false.
func TestCatalogFormat(t *testing.T) {
	min3, max40, yes, no := 3, 40, true, false
	chars := "-'"
	v1 := Catalog{RequiredAnswers: 2, Questions: []Question{
		{ChallengeCode: "city", ChallengeQuestion: "What is the city of your birth?", MinimumLength: &min3, MaximumLength: &max40,
			AllowedSpecialCharacters: &chars, IsCaseSensitive: &yes, CanContainQuestionWords: &no, CanContainUserID: &no, CanEqualOtherAnswers: &no},
		{ChallengeCode: "pet", ChallengeQuestion: "What is the name of your pet?", Active: &yes,
			CanContainQuestionWords: &no, CanContainUserID: &no, CanEqualOtherAnswers: &no},
	}}
	v2 := Catalog{RequiredAnswers: 2, Questions: []Question{
		{ChallengeCode: "city", ChallengeQuestion: "What is the city of your birth?", MinimumLength: &min3, MaximumLength: &max40,
			AllowedSpecialCharacters: &chars, IsCaseSensitive: &yes, CanContainQuestionWords: &no, CanEqualOtherAnswers: &yes},
		{ChallengeCode: "pet", ChallengeQuestion: "What is the name of your pet?", Active: &yes, CanContainUserID: &no},
		{ChallengeCode: "school", ChallengeQuestion: "What was the name of your first school?"},
	}}
	formattest.Check(t, formattest.Format[Catalog]{
		Dir:    "testdata/catalog",
		Ext:    ".json",
		Encode: func(c Catalog) []byte { b, _ := encodeCatalog(c); return b },
		Decode: decodeCatalog,
		Golden: []Catalog{v1, v2},
	})
}

func TestALaterCatalogVersionIsRefusedNotMisread(t *testing.T) {
	if _, err := decodeCatalog([]byte(`{"Version":3,"Questions":[{"ChallengeCode":"pet","ChallengeQuestion":"Pet?"}]}`)); err == nil {
		t.Fatal("a catalog of version 3 decoded")
	}
}

// FuzzDecodeCatalog: any bytes decode to a catalog or an error, never a
// panic, and a decoded catalog, stored again, decodes to itself.
func FuzzDecodeCatalog(f *testing.F) {
	for _, name := range []string{"testdata/catalog/1.json", "testdata/catalog/2.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"Version":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCatalog(data)
		if err != nil {
			return
		}
		enc, err := encodeCatalog(c)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", c, err)
		}
		if again, err := decodeCatalog(enc); err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("catalog %+v does not round-trip: %+v, %v", c, again, err)
		}
	})
}
