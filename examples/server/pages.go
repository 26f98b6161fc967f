package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

// The demo pages (-demo-pages) show the PSD2 consent dance in a browser,
// one loopback server playing every party:
//
//	GET  /demo/tpp                 the TPP's form asking consent to an IBAN, and the outcome
//	POST /demo/tpp                 the bank opens a PSD2 challenge; on to the partner's login
//	GET  /demo/partner/login       the partner's login: who are you?
//	POST /demo/partner/login       the partner enters the person's credentials (the PATCH);
//	                               on to the challenge's redirect URL
//	GET  /demo/bank/consent        the bank's consent page, at the redirect URL: it begins a
//	                               factor transaction for the person and asks how to confirm
//	POST /demo/bank/factor         the person picks a factor: the transaction's Init
//	GET  /demo/bank/confirm        the running confirmation: the factor's question
//	POST /demo/bank/confirm        an answer: Validate, then Finalize; a consent's outcome is
//	                               reported as its second factor, and the browser goes back
//	                               to the TPP
//	GET  /demo/bank/settings       the bank's security settings, once the person has
//	                               confirmed who they are as above: register a passkey,
//	                               make recovery codes (shown once)
//
// What each party keeps (the PSD2 challenge's ID, the factor transaction's
// correlation ID and nonce, a passkey registration's challenge) stays on
// the server, in a session the browser holds only a random reference to,
// in an HttpOnly SameSite=Strict cookie. Every form carries the session's
// CSRF token, compared in constant time. No code, answer or nonce is ever
// in a URL; the redirect's consent_challenge is its one-time token,
// checked against the session's challenge. The pages' one script,
// /demo/pages.js, runs the WebAuthn ceremonies.

const (
	demoConsentPath = "/demo/bank/consent"
	demoTPPName     = "Demo TPP"
	pagesCookie     = "challengekit_demo"
	pagesCaller     = "demo-pages" // the bank's system that opens challenges for the TPP page
	sessionLife     = time.Hour
	maxSessions     = 10000
	maxFormBytes    = 16 << 10
)

// pagesCSP allows the pages their own stylesheet, script and forms, and
// nothing else: no inline script, no frame, no other origin.
const pagesCSP = "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// demoPeople are the partner's customers the login page offers, and the
// factor-transaction user each is to the bank.
var demoPeople = []struct{ person, user string }{{"p-alice", "alice"}, {"p-bob", "bob"}, {"p-carol", "carol"}}

//go:embed pages
var pagesFS embed.FS

type pages struct {
	psd2   *psd2.Service
	an     *demoAuthn
	authn  *authn.Service
	log    zerolog.Logger
	clock  challenge.Clock
	origin string // the pages' origin, http://localhost:PORT
	tmpl   map[string]*template.Template
	css    []byte
	js     []byte

	cookie string // the session cookie's name: cookies ignore ports, so it names the port

	mu       sync.Mutex
	sessions map[string]*pageSession
	order    []string // session IDs, oldest first (some since removed)
}

// pageSession is one browser's state. Its mutex is held for the whole of
// a request, so a browser's requests run one at a time.
type pageSession struct {
	mu      sync.Mutex
	id      string
	created time.Time
	csrf    string
	// The TPP's side: the PSD2 challenge it asked for.
	challengeID string
	// The bank's side: the confirmation it runs, for a consent or for
	// the settings; who signed in to the settings, and until when; the
	// passkey registration begun, go-webauthn's session.
	tx            *confirmation
	settingsUser  string
	settingsUntil time.Time
	registration  []byte
	newCodes      []string // recovery codes made, until shown once
}

func newPages(p2 *psd2.Service, an *demoAuthn, cfg *config, log zerolog.Logger) *pages {
	p := &pages{psd2: p2, an: an, authn: an.svc, log: log, clock: cfg.clock, origin: cfg.demoOrigin(),
		tmpl: map[string]*template.Template{}, sessions: map[string]*pageSession{}}
	if p.clock == nil {
		p.clock = challenge.SystemClock{}
	}
	p.cookie = pagesCookie
	if u, err := url.Parse(p.origin); err == nil && u.Port() != "" {
		p.cookie += "_" + u.Port()
	}
	for _, name := range []string{"tpp", "login", "choose", "confirm", "settings", "register", "codes", "message"} {
		p.tmpl[name] = template.Must(template.ParseFS(pagesFS, "pages/layout.html", "pages/"+name+".html"))
	}
	p.css, _ = pagesFS.ReadFile("pages/style.css")
	p.js, _ = pagesFS.ReadFile("pages/pages.js")
	return p
}

func mountPages(mux *http.ServeMux, p *pages) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /demo/tpp":                           p.tppPage,
		"POST /demo/tpp":                          p.tppSubmit,
		"GET /demo/partner/login":                 p.loginPage,
		"POST /demo/partner/login":                p.loginSubmit,
		"GET " + demoConsentPath:                  p.consentPage,
		"POST /demo/bank/factor":                  p.chooseFactor,
		"GET /demo/bank/confirm":                  p.confirmPage,
		"POST /demo/bank/confirm":                 p.confirmSubmit,
		"GET /demo/bank/settings":                 p.settingsPage,
		"POST /demo/bank/settings/login":          p.settingsLogin,
		"POST /demo/bank/settings/passkey":        p.passkeyBegin,
		"POST /demo/bank/settings/passkey/finish": p.passkeyFinish,
		"POST /demo/bank/settings/recovery":       p.recoveryCodes,
		"GET /demo/bank/settings/recovery":        p.shownCodes,
		"GET /demo/style.css":                     p.style,
		"GET /demo/pages.js":                      p.script,
		"/demo/":                                  p.notFound,
		"GET /demo/{$}":                           func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/demo/tpp", http.StatusSeeOther) },
	} {
		mux.Handle(pattern, p.securePage(h))
	}
}

// securePage sets every page's security headers. On a loopback
// server (the pages' origin is localhost), it answers only requests for
// this server by a loopback name: another Host is a page of some other
// site whose name was pointed at 127.0.0.1 (DNS rebinding), and gets 421.
// A GET by a loopback address is sent on to localhost: passkeys are bound
// to it, and the session cookie to the host it was set on.
func (p *pages) securePage(h http.Handler) http.Handler {
	origin, _ := url.Parse(p.origin)
	local := origin != nil && origin.Hostname() == "localhost"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", pagesCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		if local && r.Host != origin.Host {
			a, err := netip.ParseAddrPort(r.Host)
			if err != nil || !a.Addr().IsLoopback() || strconv.Itoa(int(a.Port())) != origin.Port() {
				p.message(w, http.StatusMisdirectedRequest, "tpp", "Wrong address", "These pages answer at "+p.origin+" only.")
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, p.origin+r.URL.RequestURI(), http.StatusTemporaryRedirect)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// view is what a template is given.
type view struct {
	Title, Party, PartyName string
	CSRF                    string
	Message, Error, Notice  string
	Status                  challenge.State
	IBAN, TPPName, User     string
	Challenge               string
	People                  []string
	// The bank's confirmation: what it is for ("consent" or "settings"),
	// the factors to choose among, the one asked and how.
	Purpose      string
	Confirmation string // the confirmation's handle, in its forms
	Factors      []factorChoice
	Factor       string
	Input        answerInput
	Options      string // a WebAuthn ceremony's options, JSON, for pages.js
	Outbox       []outboxMessage
	// The settings.
	Passkeys, CodesLeft int
	Codes               []string
	Back                string // where the message page's link goes; "" is the TPP
}

var partyNames = map[string]string{"tpp": "Demo TPP", "partner": "Your payment partner", "bank": "Your bank"}

func (p *pages) render(w http.ResponseWriter, status int, name string, v view) {
	v.PartyName = partyNames[v.Party]
	var b bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&b, "layout", v); err != nil {
		p.log.Error().Err(err).Str("page", name).Msg("demo page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (p *pages) message(w http.ResponseWriter, status int, party, title, msg string) {
	p.render(w, status, "message", view{Title: title, Party: party, Message: msg})
}

// messageBack is a bank's message whose link goes back to the page back.
func (p *pages) messageBack(w http.ResponseWriter, status int, title, msg, back string) {
	p.render(w, status, "message", view{Title: title, Party: "bank", Message: msg, Back: back})
}

func (p *pages) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(p.css)
}

func (p *pages) script(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(p.js)
}

func (p *pages) notFound(w http.ResponseWriter, _ *http.Request) {
	p.message(w, http.StatusNotFound, "tpp", "Not found", "There is no such page.")
}

// session returns the browser's session, locked (the caller unlocks it),
// creating one if create is set; nil if there is none and create is not.
// Sessions past their life, and the oldest beyond maxSessions, are
// dropped as new ones are made.
func (p *pages) session(w http.ResponseWriter, r *http.Request, create bool) *pageSession {
	now := p.clock.Now()
	p.mu.Lock()
	var s *pageSession
	if c, err := r.Cookie(p.cookie); err == nil {
		if s = p.sessions[c.Value]; s != nil && now.Sub(s.created) > sessionLife {
			delete(p.sessions, c.Value)
			s = nil
		}
	}
	if s == nil && create {
		for len(p.order) > 0 {
			old, ok := p.sessions[p.order[0]]
			if ok && now.Sub(old.created) <= sessionLife && len(p.sessions) < maxSessions {
				break
			}
			delete(p.sessions, p.order[0])
			p.order = p.order[1:]
		}
		s = &pageSession{created: now}
		p.renew(w, s)
	}
	p.mu.Unlock()
	if s != nil {
		s.mu.Lock()
	}
	return s
}

// renew gives s a new ID and CSRF token, and the browser the new ID;
// p.mu is held.
func (p *pages) renew(w http.ResponseWriter, s *pageSession) {
	if s.id != "" {
		delete(p.sessions, s.id)
	}
	s.id, s.csrf = randomToken(), randomToken()
	p.sessions[s.id] = s
	p.order = append(p.order, s.id)
	http.SetCookie(w, &http.Cookie{Name: p.cookie, Value: s.id, Path: "/demo/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLife / time.Second)})
}

// rotate renews the session's ID and CSRF token when what it may do
// changes (a confirmation begins, the settings are signed in to), so
// that an ID someone else planted in the browser, or learned before,
// is worth nothing from then on. s is locked.
func (p *pages) rotate(w http.ResponseWriter, s *pageSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.renew(w, s)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // documented never to fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// form checks a POST: its size, and that it comes with the session's
// CSRF token. It returns the session, locked, or nil having answered 403.
func (p *pages) form(w http.ResponseWriter, r *http.Request, party string) *pageSession {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.message(w, http.StatusBadRequest, party, "Bad request", "The form could not be read.")
		return nil
	}
	s := p.session(w, r, false)
	if s == nil {
		p.message(w, http.StatusForbidden, party, "Forbidden", "This form has no session: open the page again and resubmit.")
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
		s.mu.Unlock()
		p.message(w, http.StatusForbidden, party, "Forbidden", "This form's security token is missing or wrong: open the page again and resubmit.")
		return nil
	}
	return s
}

// fail answers a refusal of the services with a page saying what happened.
func (p *pages) fail(w http.ResponseWriter, party string, err error) {
	var fe *challenge.FieldError
	var thr *challenge.ThrottledError
	switch {
	case errors.Is(err, psd2.ErrIBANNotOwned) && errors.Is(err, challenge.ErrLocked):
		p.message(w, http.StatusBadRequest, party, "Not your account",
			"The person who logged in does not own the account this consent asks for, and the consent request has failed after too many such tries.")
	case errors.Is(err, psd2.ErrIBANNotOwned):
		p.message(w, http.StatusBadRequest, party, "Not your account",
			"The person who logged in does not own the account this consent asks for. Log in as the account's owner.")
	case errors.As(err, &thr):
		w.Header().Set("Retry-After", strconv.Itoa(int((thr.RetryAfter+time.Second-1)/time.Second)))
		p.message(w, http.StatusTooManyRequests, party, "Too many tries",
			"Too many tries: wait "+thr.RetryAfter.Round(time.Second).String()+" and try again.")
	case errors.Is(err, challenge.ErrExpired):
		p.message(w, http.StatusGone, party, "Expired", "This consent request has expired. Ask for consent again from the TPP.")
	case errors.Is(err, challenge.ErrNotFound):
		p.message(w, http.StatusNotFound, party, "Unknown consent request", "There is no such consent request.")
	case errors.Is(err, psd2.ErrOtherPerson):
		p.message(w, http.StatusConflict, party, "Someone else's consent", "Another person has already logged in for this consent request.")
	case errors.Is(err, challenge.ErrFinal), errors.Is(err, authn.ErrClosed):
		p.message(w, http.StatusConflict, party, "Already finished", "This consent request is already finished.")
	case errors.Is(err, challenge.ErrStaleNonce):
		p.message(w, http.StatusConflict, party, "Out of date", "This page is out of date: it was submitted already, maybe in another tab.")
	case errors.As(err, &fe):
		p.message(w, http.StatusBadRequest, party, "Bad request", fe.Field+" "+fe.Message+".")
	case errors.Is(err, challenge.ErrUnavailable):
		p.message(w, http.StatusServiceUnavailable, party, "Unavailable", "The bank cannot answer now: try again shortly.")
	default:
		p.log.Error().Err(err).Msg("demo page")
		p.message(w, http.StatusInternalServerError, party, "Something went wrong", "Something went wrong on our side.")
	}
}

// tppPage shows the TPP's form, and the outcome of its last request.
func (p *pages) tppPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	v := view{Title: "Connect your bank account", Party: "tpp", CSRF: s.csrf, IBAN: demoAccounts[0].IBAN}
	if s.challengeID != "" {
		c, err := p.psd2.Get(r.Context(), s.challengeID)
		switch {
		case errors.Is(err, challenge.ErrExpired):
			v.Status = psd2.StateExpired
		case err != nil:
			p.fail(w, "tpp", err)
			return
		default:
			v.Status, v.IBAN = c.Status, c.IBAN
		}
	}
	p.render(w, http.StatusOK, "tpp", v)
}

// tppSubmit opens a challenge as the bank does when a TPP asks, and sends
// the browser to the partner's login.
func (p *pages) tppSubmit(w http.ResponseWriter, r *http.Request) {
	s := p.form(w, r, "tpp")
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	iban := r.PostForm.Get("iban")
	c, err := p.psd2.Create(r.Context(), psd2.CreateRequest{IBAN: iban, TPPName: demoTPPName, Caller: pagesCaller})
	var fe *challenge.FieldError
	if errors.As(err, &fe) {
		p.render(w, http.StatusBadRequest, "tpp", view{Title: "Connect your bank account", Party: "tpp", CSRF: s.csrf, IBAN: iban,
			Error: "The " + fe.Field + " " + fe.Message + "."})
		return
	}
	if err != nil {
		p.fail(w, "tpp", err)
		return
	}
	s.challengeID, s.tx = c.ID, nil
	http.Redirect(w, r, "/demo/partner/login?"+url.Values{"challenge": {c.ID}}.Encode(), http.StatusSeeOther)
}

// loginPage is the partner's login for a challenge.
func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	id := r.URL.Query().Get("challenge")
	if _, err := partnerOf(r.Context(), id, p.psd2); err != nil {
		p.fail(w, "partner", err)
		return
	}
	v := view{Title: "Log in", Party: "partner", CSRF: s.csrf, Challenge: id}
	for _, d := range demoPeople {
		v.People = append(v.People, d.person)
	}
	p.render(w, http.StatusOK, "login", v)
}

// partnerOf is the partner whose login page serves challenge id: the
// partner of its account's holder (the demo's partners share one page).
// Its errors are the challenge's: unknown, expired, or the store's.
func partnerOf(ctx context.Context, id string, svc *psd2.Service) (string, error) {
	c, err := svc.Get(ctx, id)
	if err != nil {
		return "", err
	}
	for _, a := range demoAccounts {
		if a.IBAN == c.IBAN {
			return a.Partner, nil
		}
	}
	return "", challenge.ErrNotFound
}

// loginSubmit enters the person's credentials, as the partner's PATCH
// does, and sends the browser to the bank's second-factor step.
func (p *pages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	s := p.form(w, r, "partner")
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	id, person := r.PostForm.Get("challenge"), r.PostForm.Get("person")
	partner, err := partnerOf(r.Context(), id, p.psd2)
	var c *psd2.Challenge
	if err == nil {
		c, err = p.psd2.EnterCredentials(r.Context(), partner, id, person)
	}
	if err != nil {
		p.fail(w, "partner", err)
		return
	}
	http.Redirect(w, r, c.RedirectURL, http.StatusSeeOther)
}

// sourceOf names the browser's address as the factor transactions'
// limiter does.
func sourceOf(remoteAddr string) string {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return ""
	}
	return challenge.AddrSource(ap.Addr())
}

func triesLeft(n int) string {
	if n == 1 {
		return "1 try left"
	}
	return strconv.Itoa(n) + " tries left"
}
