package psd2

import (
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

// later is what a later release might append to a record.
var later = binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42)

func TestPayloadFormat(t *testing.T) {
	v1 := payload{IBAN: "DE02120300000000202051", TPPName: "Acme Payments", TPPID: "tpp-1", Scope: "accounts", RedirectToken: "redirect-token-0123456789abcdef"}
	v2 := v1
	v2.Partner, v2.LastMismatch = "acme", "p-mallory"
	formattest.Check(t, formattest.Format[payload]{
		Dir:    "testdata/payload",
		Encode: func(p payload) []byte { return p.encode() },
		Decode: decodePayload,
		Golden: []payload{v1, v2},
		Later:  later,
	})
}
