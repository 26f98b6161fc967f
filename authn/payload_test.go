package authn

import (
	"errors"
	"reflect"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
)

func TestPayloadRoundTrips(t *testing.T) {
	for _, p := range []payload{
		{},
		{ClientID: "agent", UserID: "alice", GroupID: "g", Known: true, Factors: []string{"ChallengeOMATOTP", "ChallengeKBA"},
			Factor: "ChallengeOMATOTP", FactorState: []byte{0, 1, 2}, Prompts: []KeyValue{{Key: "otp", Value: "Enter the code"}, {Key: "", Value: ""}},
			NonceHash: digest{1, 2, 3}, Reason: "user_abandoned",
			Source: "ip:203.0.113.9", Salt: digest{9}, Seq: 4, LastNonce: digest{7}, LastOp: "Validate", LastOutcome: outcomeWrong,
			Sends: 2, LastSend: 1893499200000000},
	} {
		got, err := decodePayload(p.encode())
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("decode(encode(%+v)) = %+v, %v", p, got, err)
		}
	}
	// A transaction of the previous release (version 1) is still read.
	v1 := []byte{payloadVersionV1}
	for _, f := range []string{"agent", "alice", ""} {
		v1 = binenc.AppendString(v1, f)
	}
	v1 = binenc.AppendBool(v1, true)
	v1 = binenc.AppendStrings(v1, []string{"ChallengeOMATOTP"})
	v1 = binenc.AppendString(v1, "ChallengeOMATOTP")
	v1 = binenc.AppendBytes(v1, nil)
	v1 = binenc.AppendCount(v1, 0)
	v1 = binenc.AppendBytes(v1, make([]byte, 32))
	v1 = binenc.AppendString(v1, "")
	if got, err := decodePayload(v1); err != nil || got.UserID != "alice" || got.Factor != "ChallengeOMATOTP" || got.Salt != (digest{}) {
		t.Errorf("a version 1 payload: %+v, %v", got, err)
	}
	good := (&payload{ClientID: "agent", Factors: []string{"ChallengeOMATOTP"}}).encode()
	for _, bad := range [][]byte{nil, {3}, good[:len(good)-1], {payloadVersion, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}} {
		if _, err := decodePayload(bad); !errors.Is(err, binenc.ErrCorrupt) {
			t.Errorf("decodePayload(%x) = %v; want ErrCorrupt", bad, err)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add((&payload{ClientID: "agent", UserID: "alice", Factors: []string{"ChallengeOMATOTP"}, Prompts: []KeyValue{{"otp", "code"}}}).encode())
	f.Add([]byte{payloadVersion, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			if !errors.Is(err, binenc.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		again, err := decodePayload(p.encode())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("re-encoding %+v does not round-trip: %+v, %v", p, again, err)
		}
	})
}
