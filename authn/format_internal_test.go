package authn

import (
	"crypto/sha256"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

func TestPayloadFormat(t *testing.T) {
	v1 := payload{ClientID: "agent", UserID: "alice", GroupID: "staff", Known: true, Factors: []string{"ChallengeOMATOTP", "ChallengeEmail"},
		Factor: "ChallengeEmail", FactorState: []byte(`{"MAC":"AQID","Expires":"2030-01-01T12:05:00Z"}`),
		Prompts: []KeyValue{{"otp", "Enter the 6-digit code sent to a***@example.com"}}, NonceHash: sha256.Sum256([]byte("nonce-1")), Reason: "user_abandoned"}
	v2 := v1
	v2.Source, v2.Salt, v2.Seq = "ip:203.0.113.9", sha256.Sum256([]byte("salt")), 3
	v2.LastNonce, v2.LastOp, v2.LastOutcome = sha256.Sum256([]byte("nonce-0")), "Validate", outcomeWrong
	v2.Sends, v2.LastSend = 1, 1_893_499_200_000_000
	formattest.Check(t, formattest.Format[payload]{
		Dir:    "testdata/payload",
		Encode: func(p payload) []byte { return p.encode() },
		Decode: decodePayload,
		Golden: []payload{v1, v2},
		Later:  binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42),
	})
}
