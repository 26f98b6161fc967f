package main

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/internal/webauthntest"
)

var (
	optionsAttr   = regexp.MustCompile(`data-options="([^"]+)"`)
	outboxCode    = regexp.MustCompile(`class="code">([0-9]+)<`)
	recoveryCodes = regexp.MustCompile(`<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>`)
	questionLabel = regexp.MustCompile(`<label for="answer">([^<]+)</label>`)
)

// demoAnswers are alice's security answers, by question.
var demoAnswers = map[string]string{
	"What is the city of your birth?": "Dubai",
	"What is your favorite color?":    "Blue",
	"What is the name of your pet?":   "Bucktastic",
}

// noSecretInURLs fails if any URL the browser visited carries one of the
// secrets.
func (e *pageEnv) noSecretInURLs(secrets ...string) {
	e.t.Helper()
	for _, u := range e.urls {
		for _, s := range secrets {
			if s != "" && strings.Contains(u, s) {
				e.t.Errorf("a URL carries a secret: %s", u)
			}
		}
	}
}

func TestPagesConfirmWithSecurityQuestions(t *testing.T) {
	e := newPageEnv(t)
	p := e.choose(e.consentAs("p-alice"), kba.Key)
	var given []string
	for i := 0; p.path == confirmPath && i < 5; i++ {
		p.want(t, 200, confirmPath, `type="password"`)
		q := html.UnescapeString(field(t, questionLabel, p))
		answer, ok := demoAnswers[q]
		if !ok {
			t.Fatalf("the page asks %q, not one of alice's questions", q)
		}
		given = append(given, answer)
		p = e.answer(p, strings.ToLower(answer)) // answers are not case-sensitive
	}
	p.want(t, 200, "/demo/tpp", `id="status"`, "authorized")
	if len(given) < 1 {
		t.Fatal("no question was asked")
	}
	e.noSecretInURLs(given...)
}

func TestPagesAskTheSameQuestionAgainAfterAWrongAnswer(t *testing.T) {
	e := newPageEnv(t)
	p := e.choose(e.consentAs("p-alice"), kba.Key)
	q := field(t, questionLabel, p)
	wrong := e.answer(p, "Atlantis")
	wrong.want(t, 200, confirmPath, "Wrong answer. 2 tries left")
	if again := field(t, questionLabel, wrong); again != q {
		t.Errorf("after a wrong answer the page asks %q; it asked %q", again, q)
	}
}

func TestPagesConfirmWithAnEmailedCodeTheOutboxShows(t *testing.T) {
	e := newPageEnv(t)
	// bob has one factor: the consent page asks for its code at once.
	p := e.consentAs("p-bob")
	p.want(t, 200, demoConsentPath, "e-mailed a code to bob", `id="outbox"`, "bob@example.com", `name="answer"`)
	code := field(t, outboxCode, p)
	e.answer(p, wrongCode(code)).want(t, 200, confirmPath, "Wrong code. 2 tries left")
	e.answer(p, code).want(t, 200, "/demo/tpp", "authorized")
	e.noSecretInURLs(code)
}

func TestPagesWithoutAWayToConfirmFailTheConsent(t *testing.T) {
	e := newPageEnv(t)
	e.login("GB33BUKB20201555555555", "p-carol").want(t, 403, demoConsentPath, "No way to confirm", "the consent has failed")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "failed")
}

// signIn signs alice in to the bank's settings with her authenticator
// app, and returns the settings page.
func (e *pageEnv) signIn() page {
	e.t.Helper()
	login := e.get("/demo/bank/settings")
	login.want(e.t, 200, "/demo/bank/settings", "Sign in to the bank", `value="p-alice"`)
	p := e.post("/demo/bank/settings/login", "csrf", field(e.t, csrfField, login), "person", "p-alice")
	p = e.choose(p, totp.Key)
	p.want(e.t, 200, confirmPath, "to open your security settings")
	settings := e.answer(p, e.code())
	settings.want(e.t, 200, "/demo/bank/settings", `id="user">alice<`)
	return settings
}

func TestPagesRecoveryCodesAreShownOnceAndEachWorksOnce(t *testing.T) {
	e := newPageEnv(t)
	settings := e.signIn()
	settings.want(t, 200, "/demo/bank/settings", "0 unused")
	shown := e.post("/demo/bank/settings/recovery", "csrf", field(t, csrfField, settings))
	shown.want(t, 200, "/demo/bank/settings/recovery", "Your recovery codes", "cannot show them again")
	codes := recoveryCodes.FindAllStringSubmatch(shown.body, -1)
	if len(codes) != recovery.SetSize {
		t.Fatalf("the page shows %d codes; want %d:\n%s", len(codes), recovery.SetSize, shown.body)
	}
	e.get("/demo/bank/settings").want(t, 200, "/demo/bank/settings", "10 unused")

	// A code confirms a consent, typed as people type them.
	code := codes[0][1]
	p := e.choose(e.consentAs("p-alice"), recovery.Key)
	p.want(t, 200, confirmPath, "recovery codes. Each works once")
	e.answer(p, strings.ToLower(strings.ReplaceAll(code, "-", " "))).want(t, 200, "/demo/tpp", "authorized")
	// Once.
	p = e.choose(e.consentAs("p-alice"), recovery.Key)
	e.answer(p, code).want(t, 200, confirmPath, "Wrong recovery code. 2 tries left")
	// A new set makes the old one useless.
	settings = e.get("/demo/bank/settings")
	e.post("/demo/bank/settings/recovery", "csrf", field(t, csrfField, settings)).want(t, 200, "/demo/bank/settings/recovery", "Your recovery codes")
	e.answer(p, codes[1][1]).want(t, 200, confirmPath, "Wrong recovery code. 1 try left")
	e.noSecretInURLs(code, codes[1][1])
}

func TestPagesRegisterAPasskeyAndConfirmWithIt(t *testing.T) {
	e := newPageEnv(t)
	settings := e.signIn()
	settings.want(t, 200, "/demo/bank/settings", "0 registered")
	// The consent page offers no passkey before one is registered.
	if p := e.consentAs("p-alice"); strings.Contains(p.body, passkey.Key) {
		t.Errorf("the consent page offers a passkey alice has not registered:\n%s", p.body)
	}
	settings = e.get("/demo/bank/settings")

	rp := virtualwebauthn.RelyingParty{ID: demoRPID, Name: "challengekit demo bank", Origin: e.base}
	device := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte("alice")})
	cred := webauthntest.NewCredential()
	register := e.post("/demo/bank/settings/passkey", "csrf", field(t, csrfField, settings))
	register.want(t, 200, "/demo/bank/settings/passkey", `data-webauthn="create"`, `<script src="/demo/pages.js">`)
	ao, err := virtualwebauthn.ParseAttestationOptions(html.UnescapeString(field(t, optionsAttr, register)))
	if err != nil {
		t.Fatalf("the creation options do not parse: %v", err)
	}
	attestation := virtualwebauthn.CreateAttestationResponse(rp, device, cred, *ao)
	done := e.post("/demo/bank/settings/passkey/finish", "csrf", field(t, csrfField, register), "answer", attestation)
	done.want(t, 200, "/demo/bank/settings/passkey/finish", "Your passkey is registered", "1 registered")
	// The ceremony's challenge answers once.
	e.post("/demo/bank/settings/passkey/finish", "csrf", field(t, csrfField, register), "answer", attestation).
		want(t, 200, "/demo/bank/settings/passkey/finish", "No passkey registration is under way", "1 registered")

	p := e.choose(e.consentAs("p-alice"), passkey.Key)
	p.want(t, 200, confirmPath, `data-webauthn="get"`, "Use my passkey")
	assert := func(p page) string {
		t.Helper()
		ro, err := virtualwebauthn.ParseAssertionOptions(html.UnescapeString(field(t, optionsAttr, p)))
		if err != nil {
			t.Fatalf("the request options do not parse: %v", err)
		}
		cred.Counter++
		return virtualwebauthn.CreateAssertionResponse(rp, device, cred, *ro)
	}
	// An assertion from another origin is a wrong answer.
	phished := virtualwebauthn.RelyingParty{ID: demoRPID, Name: "phisher", Origin: "http://localhost:1"}
	ro, _ := virtualwebauthn.ParseAssertionOptions(html.UnescapeString(field(t, optionsAttr, p)))
	e.answer(p, virtualwebauthn.CreateAssertionResponse(phished, device, cred, *ro)).want(t, 200, confirmPath, "Wrong passkey. 2 tries left")
	e.answer(p, assert(p)).want(t, 200, "/demo/tpp", "authorized")
}

func TestPagesRefuseAPasskeyTheCeremonyDidNotAskFor(t *testing.T) {
	e := newPageEnv(t)
	settings := e.signIn()
	register := e.post("/demo/bank/settings/passkey", "csrf", field(t, csrfField, settings))
	e.post("/demo/bank/settings/passkey/finish", "csrf", field(t, csrfField, register), "answer", `{"id":"x"}`).
		want(t, 200, "/demo/bank/settings/passkey/finish", "could not register that passkey", "0 registered")
}

func TestPagesSettingsNeedAFreshSignIn(t *testing.T) {
	e := newPageEnv(t)
	csrf := field(t, csrfField, e.get("/demo/bank/settings"))
	for _, path := range []string{"/demo/bank/settings/recovery", "/demo/bank/settings/passkey", "/demo/bank/settings/passkey/finish"} {
		e.post(path, "csrf", csrf).want(t, 403, path, "Sign in to the bank again")
	}
	settings := e.signIn()
	e.clock.Advance(settingsLife + time.Second)
	e.post("/demo/bank/settings/recovery", "csrf", field(t, csrfField, settings)).want(t, 403, "/demo/bank/settings/recovery", "Sign in to the bank again")
	e.get("/demo/bank/settings").want(t, 200, "/demo/bank/settings", "Sign in to the bank")
}

func TestPagesSendALoopbackAddressToLocalhost(t *testing.T) {
	e := newPageEnv(t)
	port := e.base[strings.LastIndex(e.base, ":"):]
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("http://127.0.0.1" + port + "/demo/tpp?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != e.base+"/demo/tpp?x=1" {
		t.Errorf("GET by 127.0.0.1: %d to %q; want 307 to %s/demo/tpp?x=1", resp.StatusCode, resp.Header.Get("Location"), e.base)
	}
}
