package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
)

// The browser tests run the demo pages in headless Chromium, which
// enforces the pages' Content-Security-Policy and SameSite cookies as a
// person's browser would, runs pages.js, and answers WebAuthn with
// Chrome's virtual authenticator (the DevTools WebAuthn domain). Each
// keeps a screenshot of every step, in a directory it logs; the ones
// README shows are rewritten by
//
//	go test ./examples/server -run TestBrowser -update-screenshots
var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite the screenshots README shows, in docs/screenshots")

// readmeShots are the screenshots README shows: a test's step name, and
// the file under docs/screenshots it is written to.
var readmeShots = map[string]string{
	"TestBrowserConsentWithAPasskey/choose-ChallengePasskey": "consent-choose.png",
	"TestBrowserConsentWithAPasskey/authorized":              "tpp-authorized.png",
}

// chromium finds a Chromium to drive: skipped without one, or failed
// with CHALLENGEKIT_REQUIRE_SERVICES=1 (as in CI, which installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CHALLENGEKIT_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is required (CHALLENGEKIT_REQUIRE_SERVICES=1) to drive the demo pages in a browser: apt-get install chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); set CHALLENGEKIT_REQUIRE_SERVICES=1 to make this a failure")
	return ""
}

// browser is one headless Chromium on the demo pages of e.
type browser struct {
	t     *testing.T
	e     *pageEnv
	ctx   context.Context
	shots string // the directory the screenshots go to
	n     int
}

func newBrowser(t *testing.T, e *pageEnv) *browser {
	t.Helper()
	path := chromium(t)
	start := time.Now()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.WindowSize(900, 700), chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser, on a context without a deadline
	// (a deadline there would stop the browser); the steps get one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	// Kept after the test, for a person to look at: not t.TempDir.
	dir, err := os.MkdirTemp("", "challengekit-"+t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, e: e, ctx: ctx, shots: dir}
	t.Cleanup(func() {
		t.Logf("%s took %v; screenshots in %s", t.Name(), time.Since(start).Round(time.Millisecond), dir)
	})
	return b
}

// do runs the step's actions, failing the test with the step's name.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (the browser is at %s)", step, err, b.location())
	}
}

func (b *browser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

// text is the text of the element the selector finds.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("the text of %s: %v (the browser is at %s)", sel, err, b.location())
	}
	return s
}

// submit clicks the button and waits for the next page to have loaded.
func (b *browser) submit(step, button string) {
	b.t.Helper()
	b.do(step,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.previousPage = true`)(ctx, t)
			return err
		}),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.Func(nextPage),
	)
}

// nextPage waits for a page that is not the one marked previousPage to
// have loaded. Until it has, evaluating may fail (the old page's context
// is gone) or find the old page; both mean "not yet".
func nextPage(ctx context.Context, t *chromedp.Target) error {
	for {
		loaded, err := chromedp.Evaluate[bool](`window.previousPage === undefined && document.readyState === "complete"`)(ctx, t)
		if err == nil && loaded {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the next page: %w (last: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// shot saves a screenshot of the page, named after the step.
func (b *browser) shot(step string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100: a PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", step, err)
	}
	b.n++
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, step))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if name, ok := readmeShots[b.t.Name()+"/"+step]; ok && *updateScreenshots {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// want fails unless the page's element sel says each of texts.
func (b *browser) want(sel string, texts ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, s := range texts {
		if !strings.Contains(got, s) {
			b.t.Errorf("%s at %s says %q; want %q", sel, b.location(), got, s)
		}
	}
}

// toConsent asks consent to person's account on the TPP page and logs in
// as person on the partner's; the browser ends on the bank's consent page.
func (b *browser) toConsent(person string) {
	b.t.Helper()
	b.do("the TPP page", chromedp.Navigate(b.e.base+"/demo/tpp"), chromedp.WaitVisible(chromedp.CSS("#iban")),
		chromedp.SetValue(chromedp.CSS("#iban"), ibanOf(person)))
	b.shot("tpp")
	b.submit("ask for consent", "button[type=submit]")
	b.do("pick "+person, chromedp.Click(chromedp.CSS(`input[value="`+person+`"]`)))
	b.shot("partner-login")
	b.submit("log in", "button[type=submit]")
	if !strings.Contains(b.location(), demoConsentPath+"?consent_challenge=") {
		b.t.Fatalf("after the login the browser is at %s; want the bank's consent page", b.location())
	}
}

// choose picks a factor on the page that offers them.
func (b *browser) choose(factor string) {
	b.t.Helper()
	b.do("pick "+factor, chromedp.Click(chromedp.CSS("#factor-"+factor)))
	b.shot("choose-" + factor)
	b.submit("continue", "#continue")
}

// answer types an answer into the confirmation's field and submits it.
func (b *browser) answer(step, answer string) {
	b.t.Helper()
	b.do(step, chromedp.SendKeys(chromedp.CSS("#answer"), answer))
	b.shot(step)
	b.submit(step, "#confirm")
}

// wantStatus checks the TPP page's outcome, in its color: the stylesheet
// loaded under the CSP.
func (b *browser) wantStatus(status, color string) {
	b.t.Helper()
	if loc := b.location(); !strings.HasSuffix(loc, "/demo/tpp") {
		b.t.Fatalf("the browser is at %s; want back at the TPP", loc)
	}
	b.want("#status", status)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("status")).color`))
	if err != nil || got != color {
		b.t.Errorf("the status's color is %q (%v); want %q: the stylesheet did not apply", got, err, color)
	}
	b.shot(status)
}

const (
	green = "rgb(31, 122, 77)"
	red   = "rgb(170, 0, 0)"
)

// signIn signs alice in to the bank's settings with her authenticator app.
func (b *browser) signIn() {
	b.t.Helper()
	b.do("the settings", chromedp.Navigate(b.e.base+"/demo/bank/settings"), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	b.shot("settings-sign-in")
	b.submit("sign in as p-alice", "#sign-in")
	b.choose(totp.Key)
	b.answer("settings-totp", b.e.code())
	b.want("#user", "alice")
}

func TestBrowserConsentWithTOTP(t *testing.T) {
	b := newBrowser(t, newPageEnv(t))
	b.toConsent("p-alice")
	b.want(".about", "Demo TPP asks for access to account DE02120300000000202051")
	b.choose(totp.Key)
	b.answer("totp", b.e.code())
	b.wantStatus("authorized", green)
}

func TestBrowserConsentWithSecurityQuestions(t *testing.T) {
	b := newBrowser(t, newPageEnv(t))
	b.toConsent("p-alice")
	b.choose(kba.Key)
	for i := 1; strings.HasSuffix(b.location(), confirmPath); i++ {
		if i > 5 {
			t.Fatal("the questions do not end")
		}
		q := b.text(`label[for="answer"]`)
		answer, ok := demoAnswers[q]
		if !ok {
			t.Fatalf("the page asks %q, not one of alice's questions", q)
		}
		b.answer(fmt.Sprintf("question-%d", i), answer)
	}
	b.wantStatus("authorized", green)
}

func TestBrowserConsentWithAnEmailedCode(t *testing.T) {
	b := newBrowser(t, newPageEnv(t))
	b.toConsent("p-bob")
	b.want("#outbox", "bob@example.com")
	b.shot("outbox")
	code := b.text("#outbox .code")
	b.answer("email-code", code)
	b.wantStatus("authorized", green)
}

func TestBrowserConsentWithAPasskey(t *testing.T) {
	b := newBrowser(t, newPageEnv(t))
	// A platform authenticator that verifies its user (as a fingerprint
	// reader would) and needs no touch.
	var authenticator webauthn.AuthenticatorID
	b.do("a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true}})
		authenticator = res.AuthenticatorID
		return err
	}))
	b.signIn()
	b.want("#passkeys", "0 registered")
	b.submit("register a passkey", "#add-passkey")
	b.shot("register")
	b.submit("create the passkey", "#create-passkey") // pages.js runs navigator.credentials.create
	b.want("#notice", "Your passkey is registered")
	b.want("#passkeys", "1 registered")
	b.shot("registered")

	b.toConsent("p-alice")
	b.choose(passkey.Key)
	b.shot("passkey")
	// The registration above went through the browser's own
	// PublicKeyCredential.toJSON; this sign-in goes through pages.js's
	// serialization, for browsers without it.
	gone, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`delete PublicKeyCredential.prototype.toJSON; typeof PublicKeyCredential.prototype.toJSON`))
	if err != nil || gone != "undefined" {
		t.Fatalf("removing toJSON: %q, %v", gone, err)
	}
	b.submit("use the passkey", "#use-passkey") // navigator.credentials.get
	b.wantStatus("authorized", green)

	// The authenticator holds the one passkey, which signed the consent.
	creds, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) (*webauthn.GetCredentialsResult, error) {
		r, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
		return &r, err
	})
	if err != nil || len(creds.Credentials) != 1 || creds.Credentials[0].RpID != demoRPID || creds.Credentials[0].SignCount < 1 {
		t.Errorf("the virtual authenticator holds %+v (%v); want one credential for %s, which has signed", creds, err, demoRPID)
	}
}

var shownCode = regexp.MustCompile(`^[0-9A-Z]{5}-[0-9A-Z]{5}$`)

func TestBrowserConsentWithARecoveryCode(t *testing.T) {
	b := newBrowser(t, newPageEnv(t))
	b.signIn()
	b.submit("make recovery codes", "#new-codes")
	b.shot("recovery-codes")
	codes, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#codes code")].map(c => c.textContent)`))
	if err != nil || len(codes) != recovery.SetSize || !shownCode.MatchString(codes[0]) {
		t.Fatalf("the page shows codes %q (%v); want %d like ABCDE-FGHJK", codes, err, recovery.SetSize)
	}
	b.toConsent("p-alice")
	b.choose(recovery.Key)
	b.answer("recovery-code", codes[0])
	b.wantStatus("authorized", green)
}

func TestBrowserExpiredConsent(t *testing.T) {
	e := newPageEnv(t, "-psd2-ttl", "5m")
	b := newBrowser(t, e)
	b.toConsent("p-alice")
	b.choose(totp.Key)
	e.clock.Advance(6 * time.Minute) // the person went for coffee
	b.answer("late-code", e.code())
	b.want("h1", "Expired")
	b.want("#message", "This consent request has expired")
	b.shot("expired")
	b.submit("back to the TPP", "#back")
	b.wantStatus("expired", red)
}

func TestBrowserWrongCodesUntilBlocked(t *testing.T) {
	e := newPageEnv(t)
	b := newBrowser(t, e)
	b.toConsent("p-alice")
	b.choose(totp.Key)
	wrong := wrongCode(e.code())
	b.answer("wrong-1", wrong)
	b.want("#error", "Wrong code. 2 tries left")
	b.answer("wrong-2", wrong)
	b.want("#error", "Wrong code. 1 try left")
	b.answer("wrong-3", wrong)
	b.want("h1", "Blocked")
	b.want("#message", "the consent has failed")
	b.shot("blocked")
	b.submit("back to the TPP", "#back")
	b.wantStatus("failed", red)
}
