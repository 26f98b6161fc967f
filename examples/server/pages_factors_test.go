package main

import (
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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

// noSecretLeaked fails if any URL the browser visited, or the server's
// log, carries one of the secrets.
func (e *pageEnv) noSecretLeaked(secrets ...string) {
	e.t.Helper()
	logs := strings.ToLower(e.logs.String())
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, u := range e.urls {
			if strings.Contains(u, s) {
				e.t.Errorf("a URL carries a secret: %s", u)
			}
		}
		if strings.Contains(logs, strings.ToLower(s)) {
			e.t.Errorf("the log carries the secret %q:\n%s", s, e.logs)
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
	e.noSecretLeaked(given...)
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
	e.noSecretLeaked(code)
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
	e.noSecretLeaked(code, codes[1][1])
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

func TestPagesAnswerOnlyTheConfirmationTheyWereShownFor(t *testing.T) {
	e := newPageEnv(t)
	// Tab 1 signs in to the settings, and asks for alice's app code.
	login := e.get("/demo/bank/settings")
	settings := e.choose(e.post("/demo/bank/settings/login", "csrf", field(t, csrfField, login), "person", "p-alice"), totp.Key)
	// Tab 2 opens a consent in the same browser: a new confirmation.
	consent := e.consentAs("p-alice")
	// The code typed in tab 1 answers neither: not the consent, which
	// stays redirected, and not the settings, replaced. Its form's CSRF
	// token died with the new confirmation, and the form names the
	// confirmation it was shown for, which is no longer running.
	e.answer(settings, e.code()).want(t, 403, confirmPath, "security token")
	e.post(confirmPath, "csrf", field(t, csrfField, consent), "confirmation", field(t, confirmationField, settings), "answer", e.code()).
		want(t, 409, confirmPath, "another confirmation")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "redirected")
	e.get("/demo/bank/settings").want(t, 200, "/demo/bank/settings", "Sign in to the bank")
	// Tab 2 goes on.
	e.answer(e.choose(consent, totp.Key), e.code()).want(t, 200, "/demo/tpp", "authorized")
}

func TestPagesRenewTheSessionWhenItMayDoMore(t *testing.T) {
	e := newPageEnv(t)
	e.get("/demo/bank/settings")
	cookies := func() string {
		u, _ := url.Parse(e.base + "/demo/")
		var ids []string
		for _, c := range e.client.Jar.Cookies(u) {
			ids = append(ids, c.Value)
		}
		return strings.Join(ids, ",")
	}
	planted := cookies() // an ID someone else knows: planted, say, by another page on localhost
	e.signIn()
	if now := cookies(); now == planted || now == "" {
		t.Fatalf("the session ID did not change at sign-in: %q", now)
	}
	// The planted ID opens nothing.
	attacker := &pageEnv{t: t, base: e.base, clock: e.clock}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.base + "/demo/")
	port := u.Port()
	jar.SetCookies(u, []*http.Cookie{{Name: pagesCookie + "_" + port, Value: planted, Path: "/demo/"}})
	attacker.client = &http.Client{Jar: jar, Transport: checkedTransport{attacker}}
	attacker.get("/demo/bank/settings").want(t, 200, "/demo/bank/settings", "Sign in to the bank")
}

func TestPagesSayWhenTheConfirmationExpiredBeforeAFactorWasPicked(t *testing.T) {
	e := newPageEnv(t, "-authn-ttl", "1m")
	consent := e.consentAs("p-alice")
	e.clock.Advance(2 * time.Minute)
	e.post("/demo/bank/factor", "csrf", field(t, csrfField, consent), "confirmation", field(t, confirmationField, consent), "factor", totp.Key).
		want(t, 410, "/demo/bank/factor", "This confirmation has expired")
	// The consent has not: its page begins a fresh confirmation.
	fresh := e.choose(e.get(consent.path), totp.Key)
	e.answer(fresh, e.code()).want(t, 200, "/demo/tpp", "authorized")
}

func TestPagesShowAnOutboxOnlyTheConfirmationsOwnCodes(t *testing.T) {
	first := newPageEnv(t)
	p := first.consentAs("p-bob")
	code := field(t, outboxCode, p)
	// Another browser, signing in to the settings as bob, sees its own
	// code only.
	other := &pageEnv{t: t, base: first.base, clock: first.clock, logs: first.logs}
	jar, _ := cookiejar.New(nil)
	other.client = &http.Client{Jar: jar, Transport: checkedTransport{other}}
	login := other.get("/demo/bank/settings")
	mine := other.post("/demo/bank/settings/login", "csrf", field(t, csrfField, login), "person", "p-bob")
	mine.want(t, 200, confirmPath, `id="outbox"`)
	if codes := outboxCode.FindAllStringSubmatch(mine.body, -1); len(codes) != 1 || codes[0][1] == code {
		t.Errorf("the second browser's outbox shows %v; want its own code only, not %s", codes, code)
	}
	first.noSecretLeaked(code)
}

func TestPagesAnswerOnlyForTheirOwnHost(t *testing.T) {
	e := newPageEnv(t)
	port := e.base[strings.LastIndex(e.base, ":"):]
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for host, want := range map[string]int{
		"evil.example":                  421, // DNS rebinding: another site's name on 127.0.0.1
		"evil.example" + port:           421,
		"127.0.0.1:1":                   421,
		"localhost" + port:              200,
		"127.0.0.1" + port:              307,
		"[::1]" + port:                  307,
		"localhost.evil.example" + port: 421,
	} {
		req, _ := http.NewRequest("GET", e.base+"/demo/tpp", nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /demo/tpp with Host %s: %d; want %d", host, resp.StatusCode, want)
		}
	}
}

func TestPagesShowRecoveryCodesOnce(t *testing.T) {
	e := newPageEnv(t)
	settings := e.signIn()
	shown := e.post("/demo/bank/settings/recovery", "csrf", field(t, csrfField, settings))
	shown.want(t, 200, "/demo/bank/settings/recovery", "Your recovery codes")
	// Reloaded (the browser's GET): no new codes, none shown.
	again := e.get("/demo/bank/settings/recovery")
	again.want(t, 200, "/demo/bank/settings/recovery", "shown once", "10 unused")
	if recoveryCodes.MatchString(again.body) {
		t.Errorf("the reloaded page shows codes again:\n%s", again.body)
	}
}
