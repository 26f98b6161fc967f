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
		{ClientID: "agent", UserID: "alice", GroupID: "g", Known: true, Factors: []string{TOTPKey, KBAKey},
			Factor: TOTPKey, FactorState: []byte{0, 1, 2}, Prompts: []KeyValue{{Key: "otp", Value: "Enter the code"}, {Key: "", Value: ""}},
			NonceHash: make([]byte, 32), Reason: "user_abandoned"},
	} {
		got, err := decodePayload(p.encode())
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("decode(encode(%+v)) = %+v, %v", p, got, err)
		}
	}
	good := (&payload{ClientID: "agent", Factors: []string{TOTPKey}}).encode()
	for _, bad := range [][]byte{nil, {2}, good[:len(good)-1], append(good, 0), {payloadVersion, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}} {
		if _, err := decodePayload(bad); !errors.Is(err, binenc.ErrCorrupt) {
			t.Errorf("decodePayload(%x) = %v; want ErrCorrupt", bad, err)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add((&payload{ClientID: "agent", UserID: "alice", Factors: []string{TOTPKey}, Prompts: []KeyValue{{"otp", "code"}}}).encode())
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
