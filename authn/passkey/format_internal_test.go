package passkey

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/internal/binenc"
	"github.com/challengekit/challengekit/internal/formattest"
)

// goldenAccount is a user with two credentials, one of which has logged
// in, as version 1 writes it.
func goldenAccount() account {
	return account{Credentials: []Credential{
		{
			Credential: webauthn.Credential{
				ID:                []byte("credential-1"),
				PublicKey:         bytes.Repeat([]byte{0xa5}, 77),
				AttestationType:   "self",
				AttestationFormat: "packed",
				Transport:         []protocol.AuthenticatorTransport{protocol.Internal, protocol.Hybrid},
				Flags:             webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: true, BackupState: true},
				Authenticator: webauthn.Authenticator{
					AAGUID:     bytes.Repeat([]byte{1}, 16),
					SignCount:  4000000000,
					Attachment: protocol.Platform,
				},
			},
			LastTransaction:   "tx-0123456789abcdefghij",
			PreviousSignCount: 3999999999,
		},
		{
			Credential: webauthn.Credential{
				ID:        []byte("credential-2"),
				PublicKey: []byte{1, 2, 3},
				Flags:     webauthn.CredentialFlags{UserPresent: true},
			},
		},
	}}
}

func TestAccountFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[account]{
		Dir:    "testdata/account",
		Encode: func(a account) []byte { return a.encode() },
		Decode: decodeAccount,
		Golden: []account{goldenAccount()},
		Later:  binenc.AppendInt(binenc.AppendString(nil, "a field of a later release"), 42),
	})
}

func TestLoginStateFormat(t *testing.T) {
	formattest.Check(t, formattest.Format[loginState]{
		Dir:    "testdata/state",
		Encode: func(s loginState) []byte { return s.encode() },
		Decode: decodeLoginState,
		Golden: []loginState{{Challenge: "mVP5p2HQ8dMf3n8u0xZ0oA4QjQK3n1GkV1bDJ9t8Q8E"}},
		Later:  binenc.AppendString(nil, "a field of a later release"),
	})
}

func TestDecodeAccountRefusesCorruptRecords(t *testing.T) {
	good := goldenAccount()
	enc := func(mut func(*account)) []byte {
		a := goldenAccount()
		a.Credentials = append([]Credential(nil), a.Credentials...)
		mut(&a)
		return a.encode()
	}
	badFlags := good.encode()
	// The second credential's flags byte follows its ID, key, two empty
	// strings and an empty list.
	i := bytes.Index(badFlags, []byte{1, 2, 3}) + 3 + 3
	badFlags = append([]byte(nil), badFlags...)
	badFlags[i] = 0x10
	for name, data := range map[string][]byte{
		"empty":                    nil,
		"a later version":          append([]byte{2}, good.encode()[1:]...),
		"truncated":                good.encode()[:60],
		"a credential without key": enc(func(a *account) { a.Credentials[1].PublicKey = nil }),
		"a credential without ID":  enc(func(a *account) { a.Credentials[1].ID = nil }),
		"a credential twice":       enc(func(a *account) { a.Credentials[1].ID = a.Credentials[0].ID }),
		"unknown flags":            badFlags,
		"a negative sign count": func() []byte {
			b := []byte{accountVersion}
			b = binenc.AppendCount(b, 1)
			b = binenc.AppendBytes(b, []byte("id"))
			b = binenc.AppendBytes(b, []byte("key"))
			b = binenc.AppendString(b, "")
			b = binenc.AppendString(b, "")
			b = binenc.AppendStrings(b, nil)
			b = append(b, 0)
			b = binenc.AppendBytes(b, nil)
			b = binenc.AppendInt(b, -1)
			b = binenc.AppendBool(b, false)
			b = binenc.AppendString(b, "")
			b = binenc.AppendInt(b, 0)
			return binenc.AppendString(b, "")
		}(),
	} {
		if _, err := decodeAccount(data); err == nil {
			t.Errorf("a record that is %s decodes", name)
		}
	}
}

func FuzzDecodeAccount(f *testing.F) {
	f.Add(goldenAccount().encode())
	f.Add(account{}.encode())
	f.Add([]byte{accountVersion, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAccount(b)
		if err != nil {
			return
		}
		for _, c := range a.Credentials {
			if len(c.ID) == 0 || len(c.PublicKey) == 0 {
				t.Fatalf("decoded a credential without an ID or a key: %+v", c)
			}
		}
		again, err := decodeAccount(a.encode())
		if err != nil || !reflect.DeepEqual(again, a) {
			t.Fatalf("re-encoding %+v does not round-trip: %+v, %v", a, again, err)
		}
	})
}

// FuzzValidateState: whatever state a store hands back, Validate answers
// (a wrong answer at worst) and never panics or accepts.
func FuzzValidateState(f *testing.F) {
	f.Add(loginState{Challenge: "mVP5p2HQ8dMf3n8u0xZ0oA4QjQK3n1GkV1bDJ9t8Q8E"}.encode(), `{"id":"AAAA","type":"public-key"}`)
	f.Add([]byte{loginStateVersion, 0}, "")
	factor, err := New(nopCredentials{}, Options{RPID: "example.com", RPDisplayName: "Example", Origins: []string{"https://example.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, state []byte, answer string) {
		res, err := factor.Validate(context.Background(), authn.ValidateRequest{TransactionID: "tx", UserID: "u", State: state, Answer: answer})
		if err == nil && res.Correct {
			t.Fatalf("state %q accepted %q for a user without passkeys", state, answer)
		}
	})
}

type nopCredentials struct{}

func (nopCredentials) List(context.Context, string) ([]Credential, error)     { return nil, nil }
func (nopCredentials) Add(context.Context, string, webauthn.Credential) error { return nil }
func (nopCredentials) UpdateSignCount(context.Context, string, []byte, uint32, string) (bool, error) {
	return false, nil
}
