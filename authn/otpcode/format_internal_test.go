package otpcode

import (
	"context"
	"testing"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/internal/formattest"
)

// TestStateFormat: the state is JSON, which has no room for appended
// bytes; a later release's members are ignored (encoding/json). A state
// is written once, at Init, and spent (emptied) by the right code, so
// there is nothing a later release's fields would need kept.
func TestStateFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[codeState]{
		Dir:    "testdata/state",
		Ext:    ".json",
		Encode: formattest.EncodeJSON[codeState],
		Decode: formattest.DecodeJSON[codeState],
		Golden: []codeState{{MAC: []byte{1, 2, 3, 4}, Expires: time.Date(2030, 1, 1, 12, 5, 0, 0, time.UTC)}},
	})
}

// FuzzValidateState: whatever state a store hands back, Validate answers
// (a wrong answer at worst) and never panics or accepts without the code.
func FuzzValidateState(f *testing.F) {
	f.Add([]byte(`{"MAC":"AQIDBA==","Expires":"2030-01-01T12:05:00Z"}`), "123456")
	f.Add([]byte(`{"MAC":null}`), "")
	factor, err := New(EmailKey, senderFunc(func(string) {}), make([]byte, 32), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, state []byte, answer string) {
		res, err := factor.Validate(context.Background(), authn.ValidateRequest{TransactionID: "tx", State: state, Answer: answer})
		if err == nil && res.Correct {
			t.Fatalf("state %q accepted %q without a code sent", state, answer)
		}
	})
}

type senderFunc func(code string)

func (s senderFunc) SendCode(_ context.Context, _, _, code string) error { s(code); return nil }
