package redisstore

import (
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

// TestRecordFormat: the codec mirrors challenge.Record, which has no
// place for fields it does not know, so a later release's fields are
// read past but not kept when an earlier release updates the record: a
// field appended here must be safe to lose.
func TestRecordFormat(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 123456000, time.UTC)
	formattest.Check(t, formattest.Format[challenge.Record]{
		Dir:    "testdata/record",
		Encode: func(r challenge.Record) []byte { return encode(&r) },
		Decode: func(b []byte) (challenge.Record, error) {
			var r challenge.Record
			err := DecodeForTest(string(b), &r)
			return r, err
		},
		Golden: []challenge.Record{{State: "redirected", Subject: "p-alice", Attempts: 1,
			CreatedAt: at, UpdatedAt: at.Add(time.Second), ExpiresAt: at.Add(5 * time.Minute), Data: []byte{2, 1, 'x'}}},
		Later:      binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42),
		DropsLater: true,
	})
}
