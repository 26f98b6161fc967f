package questions

import (
	"errors"
	"reflect"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
)

var sampleAnswers = []storedAnswer{
	{Code: "com.soa.challenge.question.color", Hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5", CaseSensitive: false},
	{Code: "pet", Hash: "h", CaseSensitive: true},
}

func TestEnrollmentAndVerificationRoundTrip(t *testing.T) {
	e := enrollment{Business: "acmepaymentscorp", Answers: sampleAnswers}
	if got, err := decodeEnrollment(e.encode()); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("enrollment: %+v, %v", got, err)
	}
	v := verification{UserID: "u.acmepaymentscorp", Business: "acmepaymentscorp", Asked: sampleAnswers,
		Texts: []string{"What is your favorite color?", ""}, Next: 2}
	if got, err := decodeVerification(v.encode()); err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("verification: %+v, %v", got, err)
	}
}

func TestCorruptEnrollmentsAndVerificationsAreRefused(t *testing.T) {
	good := (&verification{UserID: "u", Asked: sampleAnswers, Next: 1}).encode()
	pastTheEnd := (&verification{UserID: "u", Asked: sampleAnswers, Next: 3}).encode()
	for name, data := range map[string][]byte{"empty": nil, "JSON": []byte(`{"UserID":"u"}`),
		"truncated": good[:len(good)-1], "next past the questions": pastTheEnd} {
		if _, err := decodeVerification(data); !errors.Is(err, binenc.ErrCorrupt) {
			t.Errorf("verification, %s: %v; want ErrCorrupt", name, err)
		}
		if _, err := decodeEnrollment(data); !errors.Is(err, binenc.ErrCorrupt) {
			t.Errorf("enrollment, %s: %v; want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeVerification(f *testing.F) {
	f.Add((&verification{UserID: "u", Business: "b", Asked: sampleAnswers, Texts: []string{"q1", "q2"}, Next: 1}).encode())
	f.Add((&enrollment{Business: "b", Answers: sampleAnswers}).encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, err := decodeVerification(data); err == nil {
			if again, err := decodeVerification(v.encode()); err != nil || !reflect.DeepEqual(again, v) {
				t.Fatalf("verification %+v does not round-trip: %+v, %v", v, again, err)
			}
		} else if !errors.Is(err, binenc.ErrCorrupt) {
			t.Fatalf("verification error %v is not ErrCorrupt", err)
		}
		if e, err := decodeEnrollment(data); err == nil {
			if again, err := decodeEnrollment(e.encode()); err != nil || !reflect.DeepEqual(again, e) {
				t.Fatalf("enrollment %+v does not round-trip: %+v, %v", e, again, err)
			}
		} else if !errors.Is(err, binenc.ErrCorrupt) {
			t.Fatalf("enrollment error %v is not ErrCorrupt", err)
		}
	})
}
