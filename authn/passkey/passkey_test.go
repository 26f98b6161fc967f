package passkey_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/internal/webauthntest"
)

const user = "alice"

var rp = virtualwebauthn.RelyingParty{ID: "example.com", Name: "Example Bank", Origin: "https://login.example.com"}

func options() passkey.Options {
	return passkey.Options{RPID: rp.ID, RPDisplayName: rp.Name, Origins: []string{rp.Origin}}
}

// device is a virtual authenticator holding one credential.
type device struct {
	t    *testing.T
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newDevice(t *testing.T, opts virtualwebauthn.AuthenticatorOptions) *device {
	return &device{t: t, rp: rp, auth: virtualwebauthn.NewAuthenticatorWithOptions(opts), cred: webauthntest.NewCredential()}
}

// register registers the device's credential for userID.
func (d *device) register(f *passkey.Factor, userID string) error {
	d.t.Helper()
	opts, session, err := f.BeginRegistration(context.Background(), userID, "")
	if err != nil {
		d.t.Fatalf("BeginRegistration: %v", err)
	}
	return f.FinishRegistration(context.Background(), userID, session, []byte(d.attest(string(opts))))
}

func (d *device) attest(options string) string {
	d.t.Helper()
	ao, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		d.t.Fatalf("the creation options do not parse: %v", err)
	}
	return virtualwebauthn.CreateAttestationResponse(d.rp, d.auth, d.cred, *ao)
}

// assert answers the request options of the prompts, moving the
// credential's sign count on.
func (d *device) assert(prompts []authn.KeyValue) string {
	d.t.Helper()
	d.cred.Counter++
	return d.assertAgain(prompts)
}

// assertAgain answers with the sign count as it is.
func (d *device) assertAgain(prompts []authn.KeyValue) string {
	d.t.Helper()
	i := slices.IndexFunc(prompts, func(kv authn.KeyValue) bool { return kv.Key == passkey.PromptKey })
	if i < 0 {
		d.t.Fatalf("no %s prompt in %v", passkey.PromptKey, prompts)
	}
	ao, err := virtualwebauthn.ParseAssertionOptions(prompts[i].Value)
	if err != nil {
		d.t.Fatalf("the request options do not parse: %v", err)
	}
	return virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *ao)
}

func newFactor(t *testing.T, store challenge.Store) *passkey.Factor {
	t.Helper()
	creds, err := passkey.NewRecordCredentials(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := passkey.New(creds, options())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newMemoryStore(t *testing.T) challenge.Store {
	t.Helper()
	s, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: challengetest.NewClock()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFactorConforms(t *testing.T) {
	factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
		creds, err := passkey.NewRecordCredentials(cfg.Store, cfg.Clock)
		if err != nil {
			t.Fatal(err)
		}
		f, err := passkey.New(creds, options())
		if err != nil {
			t.Fatal(err)
		}
		d := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(cfg.UserID)})
		if err := d.register(f, cfg.UserID); err != nil {
			t.Fatalf("registering: %v", err)
		}
		other := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(cfg.UserID)})
		other.cred.ID = d.cred.ID // the same credential ID, another key
		return factortest.Subject{
			Factor:  f,
			Right:   d.assert,
			Wrong:   other.assert,
			OneTime: true,
		}
	})
}

// begin starts the factor for transaction txID.
func begin(t *testing.T, f *passkey.Factor, txID string) authn.InitResult {
	t.Helper()
	r, err := f.Init(context.Background(), authn.InitRequest{TransactionID: txID, UserID: user})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return r
}

// validate answers the transaction txID, whose Init returned init.
func validate(t *testing.T, f *passkey.Factor, txID string, init authn.InitResult, answer string) bool {
	t.Helper()
	res, err := f.Validate(context.Background(), authn.ValidateRequest{TransactionID: txID, UserID: user, State: init.State, Answer: answer})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if res.Correct != res.Satisfied {
		t.Fatalf("Validate: Correct %v but Satisfied %v", res.Correct, res.Satisfied)
	}
	return res.Correct
}

// registered returns a factor on a fresh store and a device registered
// for user.
func registered(t *testing.T) (*passkey.Factor, *device) {
	t.Helper()
	f := newFactor(t, newMemoryStore(t))
	d := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(user)})
	if err := d.register(f, user); err != nil {
		t.Fatalf("registering: %v", err)
	}
	return f, d
}

func TestAnAssertionIsGoodForItsTransactionOnly(t *testing.T) {
	f, d := registered(t)
	tx1 := begin(t, f, "tx-1")
	answer := d.assert(tx1.Prompts)
	tx2 := begin(t, f, "tx-2")
	if validate(t, f, "tx-2", tx2, answer) {
		t.Error("an assertion of tx-1's challenge is accepted by tx-2")
	}
	if !validate(t, f, "tx-1", tx1, answer) {
		t.Fatal("the assertion is refused by its own transaction")
	}
	if !validate(t, f, "tx-1", tx1, answer) {
		t.Error("the step of tx-1 run again refuses the assertion it accepted")
	}
	if validate(t, f, "tx-2", tx2, answer) {
		t.Error("the assertion tx-1 accepted is accepted by tx-2 too")
	}
	if !validate(t, f, "tx-2", tx2, d.assert(tx2.Prompts)) {
		t.Error("tx-2 refuses its own assertion")
	}
}

func TestWrongAssertionsAreWrongAnswers(t *testing.T) {
	f, d := registered(t)
	init := begin(t, f, "tx-1")
	wrongOrigin := *d
	wrongOrigin.rp.Origin = "https://evil.example.net"
	wrongRPID := *d
	wrongRPID.rp.ID = "evil.example.net"
	noUV := *d
	noUV.auth.Options.UserNotVerified = true
	unknown := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(user)})
	otherHandle := *d
	otherHandle.auth.Options.UserHandle = []byte("bob")
	for name, answer := range map[string]string{
		"from another origin":        wrongOrigin.assert(init.Prompts),
		"for another RP ID":          wrongRPID.assert(init.Prompts),
		"without user verification":  noUV.assert(init.Prompts),
		"by an unregistered key":     unknown.assert(init.Prompts),
		"with another user's handle": otherHandle.assert(init.Prompts),
		"malformed JSON":             `{"id": "`,
		"empty":                      "",
		"not an assertion":           `{"id":"AAAA","type":"public-key","response":{}}`,
	} {
		if validate(t, f, "tx-1", init, answer) {
			t.Errorf("an assertion %s is accepted", name)
		}
	}
	if !validate(t, f, "tx-1", init, d.assert(init.Prompts)) {
		t.Error("the right assertion is refused after wrong ones")
	}
}

func TestASignCountThatDoesNotMoveOnIsRefused(t *testing.T) {
	f, d := registered(t)
	d.cred.Counter = 10
	tx1 := begin(t, f, "tx-1")
	if !validate(t, f, "tx-1", tx1, d.assertAgain(tx1.Prompts)) {
		t.Fatal("an assertion with count 10 is refused")
	}
	for _, count := range []uint32{10, 9, 0} {
		d.cred.Counter = count
		tx := begin(t, f, "tx-2")
		if validate(t, f, "tx-2", tx, d.assertAgain(tx.Prompts)) {
			t.Errorf("an assertion with count %d after 10 (a clone) is accepted", count)
		}
	}
	d.cred.Counter = 11
	tx3 := begin(t, f, "tx-3")
	if !validate(t, f, "tx-3", tx3, d.assertAgain(tx3.Prompts)) {
		t.Error("an assertion with count 11 after 10 is refused")
	}
}

func TestAnAuthenticatorWithoutACountLogsInAgain(t *testing.T) {
	f, d := registered(t)
	for _, tx := range []string{"tx-1", "tx-2"} {
		init := begin(t, f, tx)
		if !validate(t, f, tx, init, d.assertAgain(init.Prompts)) {
			t.Errorf("%s: an assertion with count 0 over 0 is refused", tx)
		}
	}
}

func TestAUserWithTwoPasskeysLogsInWithEither(t *testing.T) {
	f, laptop := registered(t)
	phone := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(user)})
	if err := phone.register(f, user); err != nil {
		t.Fatalf("registering a second passkey: %v", err)
	}
	if err := laptop.register(f, user); err == nil {
		t.Error("the laptop's passkey registers twice")
	}
	for i, d := range []*device{laptop, phone, laptop} {
		init := begin(t, f, "tx-"+string(rune('a'+i)))
		if !validate(t, f, "tx-"+string(rune('a'+i)), init, d.assert(init.Prompts)) {
			t.Errorf("login %d is refused", i+1)
		}
	}
}

func TestRegistrationRefusesBadResponses(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	ctx := context.Background()
	opts, session, err := f.BeginRegistration(ctx, user, "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(opts), `"name":"Alice"`) {
		t.Errorf("the creation options %s do not name the account Alice", opts)
	}
	good := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(user)})
	wrongOrigin := newDevice(t, virtualwebauthn.AuthenticatorOptions{})
	wrongOrigin.rp.Origin = "https://evil.example.net"
	noUV := newDevice(t, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	for name, c := range map[string]struct{ session, response []byte }{
		"from another origin":       {session, []byte(wrongOrigin.attest(string(opts)))},
		"without user verification": {session, []byte(noUV.attest(string(opts)))},
		"malformed":                 {session, []byte(`{"id":`)},
		"with a malformed session":  {[]byte("{"), []byte(good.attest(string(opts)))},
	} {
		if err := f.FinishRegistration(ctx, user, c.session, c.response); !errors.Is(err, passkey.ErrRegistrationRefused) {
			t.Errorf("a registration %s: %v; want ErrRegistrationRefused", name, err)
		}
	}
	if err := f.FinishRegistration(ctx, "bob", session, []byte(good.attest(string(opts)))); !errors.Is(err, passkey.ErrRegistrationRefused) {
		t.Errorf("alice's registration finished for bob: %v; want ErrRegistrationRefused", err)
	}
	if _, err := f.Init(ctx, authn.InitRequest{TransactionID: "tx", UserID: user}); err == nil {
		t.Error("Init starts for a user whose registrations were all refused")
	}
	if err := f.FinishRegistration(ctx, user, session, []byte(good.attest(string(opts)))); err != nil {
		t.Fatalf("the right registration: %v", err)
	}
	init := begin(t, f, "tx")
	if !validate(t, f, "tx", init, good.assert(init.Prompts)) {
		t.Error("the registered passkey does not log in")
	}
}

func TestInitRefusesAUserWithoutPasskeys(t *testing.T) {
	f := newFactor(t, newMemoryStore(t))
	for name, userID := range map[string]string{
		"without passkeys":                   user,
		"whose ID cannot be a handle (> 64)": strings.Repeat("u", 65),
	} {
		_, err := f.Init(context.Background(), authn.InitRequest{TransactionID: "tx", UserID: userID})
		var fe *challenge.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Init for a user %s: %v; want a FieldError", name, err)
		}
	}
	if _, _, err := f.BeginRegistration(context.Background(), strings.Repeat("u", 65), ""); err == nil {
		t.Error("BeginRegistration for a user ID of 65 bytes succeeds")
	}
}

func TestNewNeedsARelyingParty(t *testing.T) {
	creds, err := passkey.NewRecordCredentials(newMemoryStore(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]passkey.Options{
		"no RP ID":   {RPDisplayName: "x", Origins: []string{rp.Origin}},
		"no origins": {RPID: rp.ID, RPDisplayName: "x"},
	} {
		if _, err := passkey.New(creds, opts); err == nil {
			t.Errorf("New with %s succeeds", name)
		}
	}
	if _, err := passkey.New(nil, options()); err == nil {
		t.Error("New without Credentials succeeds")
	}
}
