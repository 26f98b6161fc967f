package passkey_test

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/descope/virtualwebauthn"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/challenge"
)

// A user registers a passkey, then logs in with it: the agent hands the
// prompt's options to navigator.credentials.get in the browser, and
// answers with the assertion it returns (here, a virtual authenticator's).
// The same assertion does not log in again.
func ExampleFactor() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	creds, _ := passkey.NewRecordCredentials(store, nil)
	keys, err := passkey.New(creds, passkey.Options{
		RPID:          "example.com",
		RPDisplayName: "Example Bank",
		Origins:       []string{"https://login.example.com"},
	})
	if err != nil {
		panic(err)
	}
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{
		"alice": {{FactorKey: passkey.Key}},
	})
	svc, err := authn.NewService(store, registry, []authn.Factor{keys}, authn.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// The browser's side: an authenticator with a credential.
	rp := virtualwebauthn.RelyingParty{ID: "example.com", Name: "Example Bank", Origin: "https://login.example.com"}
	device := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte("alice")})
	// (A fixed P-256 test key: virtualwebauthn encodes a key's coordinates
	// without their leading zero bytes, so about one fresh key in 128
	// makes a COSE key that go-webauthn rightly refuses.)
	key, _ := base64.StdEncoding.DecodeString(exampleKey)
	credential := virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, key)

	// Registration: the options go to navigator.credentials.create, the
	// session stays on the server.
	options, session, _ := keys.BeginRegistration(ctx, "alice", "Alice Liddell")
	creation, _ := virtualwebauthn.ParseAttestationOptions(string(options))
	response := virtualwebauthn.CreateAttestationResponse(rp, device, credential, *creation)
	fmt.Println(keys.FinishRegistration(ctx, "alice", session, []byte(response)))

	var last string
	login := func(replay bool) bool {
		r, _ := svc.Begin(ctx, authn.BeginRequest{ClientID: "agent", UserID: "alice"})
		r, _ = svc.Init(ctx, "agent", r.CorrelationID, r.Nonce, passkey.Key, nil)
		if !replay {
			request, _ := virtualwebauthn.ParseAssertionOptions(r.Challenges[0].Prompts[0].Value)
			credential.Counter++
			last = virtualwebauthn.CreateAssertionResponse(rp, device, credential, *request)
		}
		r, err := svc.Validate(ctx, "agent", r.CorrelationID, r.Nonce, last)
		return err == nil && !r.Wrong
	}
	fmt.Println(login(false))
	fmt.Println(login(true)) // the assertion answered another transaction's challenge
	fmt.Println(login(false))
	// Output:
	// <nil>
	// true
	// false
	// true
}

// exampleKey is a test authenticator's PKCS #8 P-256 private key.
const exampleKey = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggpxHVPOt6c8P+p6LKVTpIYLSzQ7I+xEu7P+hr+xLnB6hRANCAASnsrw5vVBuGnq81s5ggbl4WBat9YYu6f+Hbkj5hTBEwVIRyxp6nq27epT66v+Ktusf1v2Z7FLgNK7Q+Mp1/PTR"
