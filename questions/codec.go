package questions

import (
	"fmt"

	"github.com/challengekit/challengekit/internal/binenc"
)

// Enrollments and verifications are read on every GET of a user's
// questions and every answer, so they are kept in the binary form of
// internal/binenc rather than JSON. Catalogs stay JSON: an administrator
// writes them rarely, and each is decoded once per version (catalogCache).

const (
	enrollmentVersion     = 1
	verificationVersion   = 2 // version 1, without Source, is still read
	verificationVersionV1 = 1
)

func appendAnswers(b []byte, answers []storedAnswer) []byte {
	b = binenc.AppendCount(b, len(answers))
	for _, a := range answers {
		b = binenc.AppendString(b, a.Code)
		b = binenc.AppendString(b, a.Hash)
		b = binenc.AppendBool(b, a.CaseSensitive)
	}
	return b
}

func readAnswers(r *binenc.Reader) []storedAnswer {
	n := r.ReadCount(3) // two lengths and a bool at least
	if n == 0 {
		return nil
	}
	answers := make([]storedAnswer, n)
	for i := range answers {
		answers[i] = storedAnswer{Code: r.ReadString(), Hash: r.ReadString(), CaseSensitive: r.ReadBool()}
	}
	return answers
}

func answersSize(answers []storedAnswer) int {
	n := 0
	for _, a := range answers {
		n += len(a.Code) + len(a.Hash) + 1
	}
	return binenc.Size(1+2*len(answers), n)
}

func (e *enrollment) encode() []byte {
	b := make([]byte, 1, 1+len(e.rest)+binenc.Size(0, len(e.Business))+answersSize(e.Answers))
	b[0] = enrollmentVersion
	b = binenc.AppendString(b, e.Business)
	b = appendAnswers(b, e.Answers)
	return append(b, e.rest...)
}

// decodeEnrollment decodes data into an enrollment that shares no memory
// with it (binenc.NewReader reads a copy), so data may be a lent record's.
func decodeEnrollment(data []byte) (enrollment, error) {
	r := binenc.NewReader(data, enrollmentVersion)
	e := enrollment{Business: r.ReadString()}
	e.Answers = readAnswers(&r)
	e.rest = r.Rest()
	if err := r.Err(); err != nil {
		return enrollment{}, fmt.Errorf("questions: corrupt enrollment: %w", err)
	}
	return e, nil
}

func (v *verification) encode() []byte {
	n := len(v.UserID) + len(v.Business) + len(v.Source)
	for _, t := range v.Texts {
		n += len(t)
	}
	b := make([]byte, 1, 1+len(v.rest)+binenc.Size(3+len(v.Texts), n)+answersSize(v.Asked))
	b[0] = verificationVersion
	b = binenc.AppendString(b, v.UserID)
	b = binenc.AppendString(b, v.Business)
	b = appendAnswers(b, v.Asked)
	b = binenc.AppendStrings(b, v.Texts)
	b = binenc.AppendInt(b, int64(v.Next))
	b = binenc.AppendString(b, v.Source)
	return append(b, v.rest...)
}

func decodeVerification(data []byte) (verification, error) {
	version := byte(verificationVersion)
	if len(data) > 0 && data[0] == verificationVersionV1 {
		version = verificationVersionV1
	}
	r := binenc.NewReader(data, version)
	v := verification{UserID: r.ReadString(), Business: r.ReadString()}
	v.Asked = readAnswers(&r)
	v.Texts = r.ReadStrings()
	next := r.ReadInt()
	if version == verificationVersion {
		v.Source = r.ReadString()
		v.rest = r.Rest()
	}
	if err := r.Err(); err != nil {
		return verification{}, fmt.Errorf("questions: corrupt verification: %w", err)
	}
	if next < 0 || next > int64(len(v.Asked)) {
		return verification{}, fmt.Errorf("questions: corrupt verification: %w: question %d of %d", binenc.ErrCorrupt, next, len(v.Asked))
	}
	v.Next = int(next)
	return v, nil
}
