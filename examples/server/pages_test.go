package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// pageEnv is a browser on the demo pages: a client with a cookie jar that
// follows redirects, against the server on a fake clock. Every response it
// sees, redirects included, is checked for the pages' security headers,
// and every URL it visits is kept.
type pageEnv struct {
	t      *testing.T
	base   string
	client *http.Client
	clock  *challengetest.FakeClock
	logs   *challengetest.LogBuffer // the server's log
	mu     sync.Mutex
	urls   []string
}

func newPageEnv(t *testing.T, args ...string) *pageEnv {
	t.Helper()
	clock := challengetest.NewClock()
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	// The pages live at localhost, as run serves them: passkeys need it.
	e := &pageEnv{t: t, base: originOf(srv.Listener.Addr().String()), clock: clock, logs: &challengetest.LogBuffer{}}
	cfg, err := parseConfig(append([]string{"-demo-pages"}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.clock = clock
	cfg.pagesOrigin, cfg.redirectBase = e.base, e.base+demoConsentPath // as run sets them once listening
	mux, err := newMux(context.Background(), mem, nil, cfg, zerolog.New(e.logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = withDeadline(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, Transport: checkedTransport{e}}
	return e
}

type checkedTransport struct{ e *pageEnv }

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.e.mu.Lock()
	c.e.urls = append(c.e.urls, req.URL.String())
	c.e.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(req.URL.Path, "/demo/") {
		for name, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
		} {
			if got := resp.Header.Get(name); got != want {
				c.e.t.Errorf("%s %s: %s %q; want %q", req.Method, req.URL.Path, name, got, want)
			}
		}
	}
	return resp, nil
}

// page is what the browser ended on.
type page struct {
	status int
	path   string // with its query
	body   string
}

func (e *pageEnv) do(req *http.Request) page {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, path: resp.Request.URL.RequestURI(), body: string(b)}
}

func (e *pageEnv) get(path string) page {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+path, nil)
	return e.do(req)
}

// post submits a form; fields are name/value pairs.
func (e *pageEnv) post(path string, fields ...string) page {
	e.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

var (
	csrfField         = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	confirmationField = regexp.MustCompile(`name="confirmation" value="([^"]+)"`)
	challengeField    = regexp.MustCompile(`name="challenge" value="([^"]+)"`)
)

func field(t *testing.T, re *regexp.Regexp, p page) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s (%d) has no field %s:\n%s", p.path, p.status, re, p.body)
	}
	return m[1]
}

func (p page) want(t *testing.T, status int, path string, texts ...string) {
	t.Helper()
	if p.status != status || !strings.HasPrefix(p.path, path) {
		t.Fatalf("ended on %s with %d; want %s with %d:\n%s", p.path, p.status, path, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s lacks %q:\n%s", p.path, s, p.body)
		}
	}
}

// login asks consent to iban on the TPP page and logs in on the partner's
// page as person; it returns the page the browser ends on.
func (e *pageEnv) login(iban, person string) page {
	e.t.Helper()
	tpp := e.get("/demo/tpp")
	tpp.want(e.t, 200, "/demo/tpp", `value="DE02120300000000202051"`)
	csrf := field(e.t, csrfField, tpp)
	login := e.post("/demo/tpp", "csrf", csrf, "iban", iban)
	login.want(e.t, 200, "/demo/partner/login?challenge=", "p-alice", "p-bob", "p-carol")
	return e.post("/demo/partner/login", "csrf", field(e.t, csrfField, login), "challenge", field(e.t, challengeField, login), "person", person)
}

// consent logs alice in, picks her authenticator app on the bank's
// consent page and returns the page asking for its code.
func (e *pageEnv) consent() page {
	e.t.Helper()
	return e.choose(e.consentAs("p-alice"), totp.Key)
}

// consentAs logs person in for their own account and returns the bank's
// consent page.
func (e *pageEnv) consentAs(person string) page {
	e.t.Helper()
	iban := ibanOf(person)
	p := e.login(iban, person)
	p.want(e.t, 200, demoConsentPath+"?consent_challenge=", "Demo TPP", iban, userOf(person))
	return p
}

// ibanOf is the demo account person owns.
func ibanOf(person string) string {
	for _, a := range demoAccounts {
		if a.Owner == person {
			return a.IBAN
		}
	}
	return ""
}

// choose picks factor on a page that offers it, and returns the page
// asking for its answer.
func (e *pageEnv) choose(p page, factor string) page {
	e.t.Helper()
	p.want(e.t, 200, "", `value="`+factor+`"`)
	next := e.post("/demo/bank/factor", "csrf", field(e.t, csrfField, p), "confirmation", field(e.t, confirmationField, p), "factor", factor)
	next.want(e.t, 200, "/demo/bank/confirm")
	return next
}

// answer submits an answer to the running confirmation.
func (e *pageEnv) answer(p page, answer string) page {
	e.t.Helper()
	return e.post(confirmPath, "csrf", field(e.t, csrfField, p), "confirmation", field(e.t, confirmationField, p), "answer", answer)
}

const confirmPath = "/demo/bank/confirm"

func (e *pageEnv) code() string {
	e.t.Helper()
	code, err := otptotp.GenerateCode(demoTOTPSecret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

func wrongCode(right string) string {
	n, _ := strconv.Atoi(right)
	return fmt.Sprintf("%06d", (n+1)%1000000)
}

func TestPagesRunTheConsentDanceWithTOTP(t *testing.T) {
	e := newPageEnv(t)
	consent := e.consent()
	code := e.code()
	consent.want(t, 200, confirmPath, "alice", `name="answer"`, `autocomplete="one-time-code"`)
	done := e.answer(consent, code)
	done.want(t, 200, "/demo/tpp", `id="status"`, "authorized")
	for _, u := range e.urls {
		if strings.Contains(u, code) || strings.Contains(u, "nonce") || strings.Contains(u, "csrf") {
			t.Errorf("a URL carries a secret: %s", u)
		}
	}
	// The consent page is done with: its token opens nothing more.
	again := e.get(consent.path)
	again.want(t, 409, confirmPath, "nothing to confirm")
}

func TestPagesSessionCookieIsHttpOnlyAndStrict(t *testing.T) {
	e := newPageEnv(t)
	resp, err := http.Get(e.base + "/demo/tpp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	port := e.base[strings.LastIndex(e.base, ":")+1:]
	for _, want := range []string{pagesCookie + "_" + port + "=", "Path=/demo/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %q", c, want)
		}
	}
}

func TestPagesRefuseAPersonWhoDoesNotOwnTheAccount(t *testing.T) {
	e := newPageEnv(t)
	e.login("DE02120300000000202051", "p-bob").want(t, 400, "/demo/partner/login", "does not own the account")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "pending")
}

func TestPagesAskAgainAfterAWrongCode(t *testing.T) {
	e := newPageEnv(t)
	consent := e.consent()
	right := e.code()
	wrong := e.answer(consent, wrongCode(right))
	wrong.want(t, 200, confirmPath, "Wrong code. 2 tries left", `name="answer"`)
	e.answer(wrong, right).want(t, 200, "/demo/tpp", "authorized")
}

func TestPagesBlockAfterTooManyWrongCodesAndTheConsentFails(t *testing.T) {
	e := newPageEnv(t)
	p := e.consent()
	wrong := wrongCode(e.code())
	e.answer(p, wrong).want(t, 200, confirmPath, "2 tries left")
	e.answer(p, wrong).want(t, 200, confirmPath, "1 try left")
	e.answer(p, wrong).want(t, 403, confirmPath, "Blocked", "Too many wrong answers", "the consent has failed")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "failed")
	// The right code comes too late.
	e.answer(p, e.code()).want(t, 409, confirmPath, "nothing to confirm")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "failed")
}

func TestPagesSayWhenTheConsentExpired(t *testing.T) {
	e := newPageEnv(t, "-psd2-ttl", "1m")
	consent := e.consent()
	e.clock.Advance(2 * time.Minute)
	e.answer(consent, e.code()).want(t, 410, confirmPath, "has expired")
	e.get(consent.path).want(t, 410, confirmPath, "has expired")
	e.get("/demo/tpp").want(t, 200, "/demo/tpp", "expired")
}

func TestPagesSayWhenTheFactorTransactionExpired(t *testing.T) {
	e := newPageEnv(t, "-authn-ttl", "1m")
	start := e.consentAs("p-alice")
	consent := e.choose(start, totp.Key)
	e.clock.Advance(2 * time.Minute)
	e.answer(consent, e.code()).want(t, 410, confirmPath, "This confirmation has expired")
	// The consent has not: its page begins a fresh confirmation.
	fresh := e.choose(e.get(start.path), totp.Key)
	e.answer(fresh, e.code()).want(t, 200, "/demo/tpp", "authorized")
}

func TestPagesRefuseFormsWithoutTheCSRFToken(t *testing.T) {
	e := newPageEnv(t)
	csrf := field(t, csrfField, e.get("/demo/tpp"))
	e.post("/demo/tpp", "iban", "DE02120300000000202051").want(t, 403, "/demo/tpp", "security token")
	e.post("/demo/tpp", "csrf", csrf+"x", "iban", "DE02120300000000202051").want(t, 403, "/demo/tpp", "security token")
	e.post("/demo/partner/login", "person", "p-alice").want(t, 403, "/demo/partner/login")
	e.post(confirmPath, "answer", "123456").want(t, 403, confirmPath)
	// Another browser, with this one's token but no session of its own.
	other := &pageEnv{t: t, base: e.base, clock: e.clock}
	jar, _ := cookiejar.New(nil)
	other.client = &http.Client{Jar: jar, Transport: checkedTransport{other}}
	other.post("/demo/tpp", "csrf", csrf, "iban", "DE02120300000000202051").want(t, 403, "/demo/tpp", "no session")
	// Nothing was opened: the TPP page shows no status.
	if p := e.get("/demo/tpp"); strings.Contains(p.body, `id="status"`) {
		t.Errorf("a refused form opened a challenge:\n%s", p.body)
	}
}

func TestPagesAnswerBadInputWithAPage(t *testing.T) {
	e := newPageEnv(t)
	csrf := field(t, csrfField, e.get("/demo/tpp"))
	e.post("/demo/tpp", "csrf", csrf, "iban", "not an iban").want(t, 400, "/demo/tpp", "The iban is not a valid IBAN", `value="not an iban"`)
	e.get("/demo/partner/login?challenge=nope").want(t, 404, "/demo/partner/login", "no such consent request")
	e.get(demoConsentPath+"?consent_challenge=guess").want(t, 404, demoConsentPath, "no such consent request")
	e.get("/demo/nowhere").want(t, 404, "/demo/nowhere", "no such page")
	css := e.get("/demo/style.css")
	css.want(t, 200, "/demo/style.css", "font-family")
}

func TestPagesTokenOfAnotherSessionOpensNothing(t *testing.T) {
	e := newPageEnv(t)
	consent := e.consentAs("p-alice")
	other := &pageEnv{t: t, base: e.base, clock: e.clock}
	jar, _ := cookiejar.New(nil)
	other.client = &http.Client{Jar: jar, Transport: checkedTransport{other}}
	other.get(consent.path).want(t, 404, demoConsentPath, "no such consent request")
}

func TestServerDemoPagesFlagPointsTheRedirectAtItself(t *testing.T) {
	base, stdout, _ := startServer(t, []string{"-demo-pages"}, nil)
	origin := originOf(strings.TrimPrefix(base, "http://")) // http://localhost:PORT
	for _, want := range []string{"redirect: " + origin + demoConsentPath + "?consent_challenge=", "Demo pages: " + origin + "/demo/tpp"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout)
		}
	}
	resp, err := http.Get(base + "/demo/tpp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /demo/tpp: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}

	base, stdout, _ = startServer(t, nil, nil)
	if !strings.Contains(stdout.String(), "redirect: https://bank.example/consent?consent_challenge=") {
		t.Errorf("without -demo-pages the redirect moved:\n%s", stdout)
	}
	resp, err = http.Get(base + "/demo/tpp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("without -demo-pages, GET /demo/tpp: %d", resp.StatusCode)
	}
}

func TestPagesRefuseACodeBeforeTheConsentPageWasOpened(t *testing.T) {
	e := newPageEnv(t)
	e.post(confirmPath, "csrf", field(t, csrfField, e.get("/demo/tpp")), "answer", e.code()).want(t, 409, confirmPath, "nothing to confirm")
	login := e.post("/demo/tpp", "csrf", field(t, csrfField, e.get("/demo/tpp")), "iban", "DE02120300000000202051")
	e.post(confirmPath, "csrf", field(t, csrfField, login), "answer", e.code()).want(t, 409, confirmPath, "out of date")
}
