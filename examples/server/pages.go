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
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

// The demo pages (-demo-pages) show the PSD2 consent dance in a browser,
// one loopback server playing every party:
//
//	GET  /demo/tpp             the TPP's form asking consent to an IBAN, and the outcome
//	POST /demo/tpp             the bank opens a PSD2 challenge; on to the partner's login
//	GET  /demo/partner/login   the partner's login: who are you?
//	POST /demo/partner/login   the partner enters the person's credentials (the PATCH);
//	                           on to the challenge's redirect URL
//	GET  /demo/bank/consent    the bank's consent page, at the redirect URL: it begins a
//	                           factor transaction with TOTP for the person
//	POST /demo/bank/consent    the code is validated; the bank reports the second factor
//	                           and sends the browser back to the TPP
//
// What each party keeps (the PSD2 challenge's ID, the factor transaction's
// correlation ID and nonce) stays on the server, in a session the browser
// holds only a random reference to, in an HttpOnly SameSite=Strict cookie.
// Every form carries the session's CSRF token, compared in constant time.
// No code or nonce is ever in a URL; the redirect's consent_challenge is
// its one-time token, checked against the session's challenge.

const (
	demoConsentPath = "/demo/bank/consent"
	demoTPPName     = "Demo TPP"
	pagesCookie     = "challengekit_demo"
	pagesCaller     = "demo-pages" // the bank's system that opens challenges for the TPP page
	sessionLife     = time.Hour
	maxSessions     = 10000
	maxFormBytes    = 16 << 10
)

// pagesCSP allows the pages their own stylesheet and forms, and nothing
// else: no script, no frame, no other origin.
const pagesCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// demoPeople are the partner's customers the login page offers, and the
// factor-transaction user each is to the bank.
var demoPeople = []struct{ person, user string }{{"p-alice", "alice"}, {"p-bob", "bob"}, {"p-carol", "carol"}}

//go:embed pages
var pagesFS embed.FS

type pages struct {
	psd2  *psd2.Service
	authn *authn.Service
	log   zerolog.Logger
	clock challenge.Clock
	tmpl  map[string]*template.Template
	css   []byte

	mu       sync.Mutex
	sessions map[string]*pageSession
}

// pageSession is one browser's state. Its mutex is held for the whole of
// a request, so a browser's requests run one at a time.
type pageSession struct {
	mu      sync.Mutex
	created time.Time
	csrf    string
	// The TPP's side: the PSD2 challenge it asked for.
	challengeID string
	// The bank's side: the factor transaction it runs for challengeID.
	txFor, txID, txNonce, txUser string
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func newPages(p2 *psd2.Service, an *authn.Service, cfg *config, log zerolog.Logger) *pages {
	p := &pages{psd2: p2, authn: an, log: log, clock: cfg.clock, tmpl: map[string]*template.Template{}, sessions: map[string]*pageSession{}}
	if p.clock == nil {
		p.clock = systemClock{}
	}
	for _, name := range []string{"tpp", "login", "consent", "message"} {
		p.tmpl[name] = template.Must(template.ParseFS(pagesFS, "pages/layout.html", "pages/"+name+".html"))
	}
	p.css, _ = pagesFS.ReadFile("pages/style.css")
	return p
}

func mountPages(mux *http.ServeMux, p *pages) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /demo/tpp":            p.tppPage,
		"POST /demo/tpp":           p.tppSubmit,
		"GET /demo/partner/login":  p.loginPage,
		"POST /demo/partner/login": p.loginSubmit,
		"GET " + demoConsentPath:   p.consentPage,
		"POST " + demoConsentPath:  p.consentSubmit,
		"GET /demo/style.css":      p.style,
		"/demo/":                   p.notFound,
		"GET /demo/{$}":            func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/demo/tpp", http.StatusSeeOther) },
	} {
		mux.Handle(pattern, securePage(h))
	}
}

// securePage sets every page's security headers.
func securePage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", pagesCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// view is what a template is given.
type view struct {
	Title, Party, PartyName string
	CSRF                    string
	Message, Error          string
	Status                  challenge.State
	IBAN, TPPName, User     string
	Challenge               string
	People                  []string
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

func (p *pages) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(p.css)
}

func (p *pages) notFound(w http.ResponseWriter, _ *http.Request) {
	p.message(w, http.StatusNotFound, "tpp", "Not found", "There is no such page.")
}

// session returns the browser's session, locked (the caller unlocks it),
// creating one if create is set; nil if there is none and create is not.
func (p *pages) session(w http.ResponseWriter, r *http.Request, create bool) *pageSession {
	now := p.clock.Now()
	p.mu.Lock()
	var s *pageSession
	if c, err := r.Cookie(pagesCookie); err == nil {
		if s = p.sessions[c.Value]; s != nil && now.Sub(s.created) > sessionLife {
			delete(p.sessions, c.Value)
			s = nil
		}
	}
	if s == nil && create {
		for id, old := range p.sessions {
			if now.Sub(old.created) > sessionLife || len(p.sessions) >= maxSessions {
				delete(p.sessions, id)
			}
		}
		id := randomToken()
		s = &pageSession{created: now, csrf: randomToken()}
		p.sessions[id] = s
		http.SetCookie(w, &http.Cookie{Name: pagesCookie, Value: id, Path: "/demo/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLife / time.Second)})
	}
	p.mu.Unlock()
	if s != nil {
		s.mu.Lock()
	}
	return s
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
	s.challengeID, s.txFor, s.txID, s.txNonce, s.txUser = c.ID, "", "", "", ""
	http.Redirect(w, r, "/demo/partner/login?"+url.Values{"challenge": {c.ID}}.Encode(), http.StatusSeeOther)
}

// loginPage is the partner's login for a challenge.
func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	id := r.URL.Query().Get("challenge")
	if _, err := p.psd2.GetForPartner(r.Context(), partnerOf(r.Context(), id, p.psd2), id); err != nil {
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
// partner of its account's holder. The demo's partners share one page.
func partnerOf(ctx context.Context, id string, svc *psd2.Service) string {
	c, err := svc.Get(ctx, id)
	if err != nil {
		return ""
	}
	for _, a := range demoAccounts {
		if a.IBAN == c.IBAN {
			return a.Partner
		}
	}
	return ""
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
	c, err := p.psd2.EnterCredentials(r.Context(), partnerOf(r.Context(), id, p.psd2), id, person)
	if err != nil {
		p.fail(w, "partner", err)
		return
	}
	http.Redirect(w, r, c.RedirectURL, http.StatusSeeOther)
}

// consentChallenge is the session's challenge, if the consent_challenge
// token of the request is its redirect token.
func (p *pages) consentChallenge(ctx context.Context, s *pageSession, token string) (*psd2.Challenge, error) {
	if s.challengeID == "" || token == "" {
		return nil, challenge.ErrNotFound
	}
	c, err := p.psd2.Get(ctx, s.challengeID)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(c.RedirectURL)
	if err != nil || c.RedirectURL == "" || subtle.ConstantTimeCompare([]byte(u.Query().Get("consent_challenge")), []byte(token)) != 1 {
		return nil, challenge.ErrNotFound
	}
	return c, nil
}

// consentPage is the bank's second-factor step: it begins a factor
// transaction with TOTP for the person who logged in, once per challenge,
// and asks for the code.
func (p *pages) consentPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	c, err := p.consentChallenge(r.Context(), s, r.URL.Query().Get("consent_challenge"))
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	if c.Status != psd2.StateRedirected {
		p.fail(w, "bank", challenge.ErrFinal)
		return
	}
	if s.txFor != c.ID {
		user := ""
		for _, d := range demoPeople {
			if d.person == c.PersonID {
				user = d.user
			}
		}
		resp, err := p.authn.Begin(r.Context(), authn.BeginRequest{ClientID: demoAgentID, UserID: user, Source: sourceOf(r.RemoteAddr)})
		if err != nil {
			p.fail(w, "bank", err)
			return
		}
		hasTOTP := false
		for _, ch := range resp.Challenges {
			hasTOTP = hasTOTP || ch.FactorKey == totp.Key
		}
		if !hasTOTP {
			_, _ = p.authn.Finalize(r.Context(), demoAgentID, resp.CorrelationID, resp.Nonce, authn.ResultError, authn.ReasonUnavailableForUser)
			p.secondFactor(w, r, c.ID, false, "No authenticator app", c.PersonID+" has no authenticator app registered with the bank, so the consent has failed.")
			return
		}
		resp, err = p.authn.Init(r.Context(), demoAgentID, resp.CorrelationID, resp.Nonce, totp.Key, nil)
		if err != nil {
			p.fail(w, "bank", err)
			return
		}
		s.txFor, s.txID, s.txNonce, s.txUser = c.ID, resp.CorrelationID, resp.Nonce, user
	}
	p.render(w, http.StatusOK, "consent", view{Title: "Confirm with your authenticator app", Party: "bank", CSRF: s.csrf,
		TPPName: c.TPPName, IBAN: c.IBAN, User: s.txUser})
}

// consentSubmit validates the code. A right one authenticates the factor
// transaction and authorizes the challenge; a wrong one asks again, and
// the last one allowed blocks the transaction and fails the challenge.
func (p *pages) consentSubmit(w http.ResponseWriter, r *http.Request) {
	s := p.form(w, r, "bank")
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	if s.challengeID == "" {
		p.fail(w, "bank", challenge.ErrNotFound)
		return
	}
	c, err := p.psd2.Get(r.Context(), s.challengeID)
	switch {
	case err != nil:
		p.fail(w, "bank", err)
		return
	case c.Status == psd2.StateAuthorized || c.Status == psd2.StateFailed:
		p.fail(w, "bank", challenge.ErrFinal)
		return
	case s.txFor != c.ID:
		// No confirmation runs: the consent page begins one.
		p.message(w, http.StatusConflict, "bank", "Out of date", "This page is out of date: go back to the bank's consent page.")
		return
	}
	resp, err := p.authn.Validate(r.Context(), demoAgentID, s.txID, s.txNonce, r.PostForm.Get("code"))
	if errors.Is(err, challenge.ErrExpired) {
		// The confirmation timed out, not the consent: the consent page,
		// opened again, begins a fresh one.
		s.txFor = ""
		p.message(w, http.StatusGone, "bank", "Confirmation expired",
			"This confirmation has expired; the consent request has not. Go back to the bank's consent page and enter a fresh code.")
		return
	}
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	s.txNonce = resp.Nonce
	switch {
	case resp.State == authn.StateBlocked:
		s.txFor = ""
		p.secondFactor(w, r, c.ID, false, "Blocked", "Too many wrong codes: the bank has blocked this confirmation, and the consent has failed.")
	case resp.Wrong:
		p.render(w, http.StatusOK, "consent", view{Title: "Confirm with your authenticator app", Party: "bank", CSRF: s.csrf,
			TPPName: c.TPPName, IBAN: c.IBAN, User: s.txUser,
			Error: "Wrong code. " + triesLeft(resp.Remaining) + " before the bank blocks this confirmation."})
	case resp.State == authn.StateValidated:
		resp, err = p.authn.Finalize(r.Context(), demoAgentID, s.txID, s.txNonce, authn.ResultSuccess, "")
		if err != nil {
			p.fail(w, "bank", err)
			return
		}
		s.txNonce = resp.Nonce
		p.secondFactor(w, r, c.ID, true, "", "")
	default:
		p.render(w, http.StatusOK, "consent", view{Title: "Confirm with your authenticator app", Party: "bank", CSRF: s.csrf,
			TPPName: c.TPPName, IBAN: c.IBAN, User: s.txUser, Error: "Enter the next code your app shows."})
	}
}

// secondFactor reports the second factor's outcome on challenge id: on
// success the browser goes back to the TPP; on failure a page says why,
// with a link back.
func (p *pages) secondFactor(w http.ResponseWriter, r *http.Request, id string, success bool, title, msg string) {
	if _, err := p.psd2.CompleteSecondFactor(r.Context(), id, success); err != nil {
		p.fail(w, "bank", err)
		return
	}
	if success {
		http.Redirect(w, r, "/demo/tpp", http.StatusSeeOther)
		return
	}
	p.message(w, http.StatusForbidden, "bank", title, msg)
}

// sourceOf names the browser's address as the factor transactions'
// limiter does: an IPv4 address, or an IPv6 address's /64.
func sourceOf(remoteAddr string) string {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return ""
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return "ip:" + a.String()
	}
	pfx, _ := a.WithZone("").Prefix(64)
	return "ip:" + pfx.String()
}

func triesLeft(n int) string {
	if n == 1 {
		return "1 try left"
	}
	return strconv.Itoa(n) + " tries left"
}
