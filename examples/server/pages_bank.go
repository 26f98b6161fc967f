package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

// The bank's pages: a confirmation (a factor transaction the person runs
// in the browser) for a consent or for the security settings, and the
// settings themselves.

const (
	purposeConsent  = "consent"
	purposeSettings = "settings"
	// settingsLife is how long a confirmation lets the person change
	// their security settings.
	settingsLife = 10 * time.Minute
)

// confirmation is a factor transaction the bank runs for the browser.
type confirmation struct {
	purpose      string // purposeConsent or purposeSettings
	about        string // the PSD2 challenge's ID, for a consent
	person, user string
	handle       string // random: every form of this confirmation carries it
	id, nonce    string
	factors      []string // the user's factors the pages run, in pageFactors' order
	factor       string   // the one chosen; "" while choosing
	prompts      []authn.KeyValue
}

// factorChoice is a factor the person may pick.
type factorChoice struct{ Key, Label string }

// answerInput is how a confirmation page asks for its answer.
type answerInput struct {
	Label, Type, InputMode, Pattern, Autocomplete string
	MaxLength                                     int
}

// pageFactors are the factors the pages can run, in the order offered,
// with how each is named and asked for.
var pageFactors = []struct {
	key, label, title string
	input             answerInput
}{
	{passkey.Key, "Passkey", "Confirm with your passkey", answerInput{}},
	{totp.Key, "Authenticator app", "Confirm with your authenticator app",
		answerInput{Label: "Code", InputMode: "numeric", Pattern: "[0-9]{6}", Autocomplete: "one-time-code", MaxLength: 6}},
	{otpcode.EmailKey, "Code by e-mail", "Confirm with a code by e-mail",
		answerInput{Label: "Code", InputMode: "numeric", Pattern: "[0-9]{6,8}", Autocomplete: "one-time-code", MaxLength: 8}},
	{kba.Key, "Security questions", "Confirm with your security questions",
		answerInput{Type: "password", Autocomplete: "off", MaxLength: 256}},
	{recovery.Key, "Recovery code", "Confirm with a recovery code",
		answerInput{Label: "Recovery code", Autocomplete: "off", MaxLength: 32}},
}

// pageFactor returns the index in pageFactors of the factor key, or -1.
func pageFactor(key string) int {
	for i, f := range pageFactors {
		if f.key == key {
			return i
		}
	}
	return -1
}

// userOf is the bank's user for one of the partner's people.
func userOf(person string) string {
	for _, d := range demoPeople {
		if d.person == person {
			return d.user
		}
	}
	return ""
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
// transaction for the person who logged in, once per challenge, and asks
// how they want to confirm, or, with one factor, for its answer.
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
	if s.tx == nil || s.tx.purpose != purposeConsent || s.tx.about != c.ID {
		if !p.begin(w, r, s, purposeConsent, c.ID, c.PersonID) {
			return
		}
	}
	p.show(w, r, s, http.StatusOK, "", "")
}

// begin starts the session's confirmation: a factor transaction for the
// person's user, initialized at once if the user has one factor the pages
// run. A confirmation it replaces is abandoned. It answers the request
// itself and returns false when it cannot.
func (p *pages) begin(w http.ResponseWriter, r *http.Request, s *pageSession, purpose, about, person string) bool {
	p.abandon(r.Context(), s)
	user := userOf(person)
	resp, err := p.authn.Begin(r.Context(), authn.BeginRequest{ClientID: demoAgentID, UserID: user, Source: sourceOf(r.RemoteAddr)})
	if err != nil {
		p.fail(w, "bank", err)
		return false
	}
	tx := &confirmation{purpose: purpose, about: about, person: person, user: user, handle: randomToken(),
		id: resp.CorrelationID, nonce: resp.Nonce}
	for _, f := range pageFactors {
		for _, ch := range resp.Challenges {
			if ch.FactorKey == f.key {
				tx.factors = append(tx.factors, f.key)
			}
		}
	}
	if len(tx.factors) == 0 {
		_, _ = p.authn.Finalize(r.Context(), demoAgentID, resp.CorrelationID, resp.Nonce, authn.ResultError, authn.ReasonUnavailableForUser)
		msg := person + " has no way to confirm who they are registered with the bank"
		if purpose == purposeConsent {
			p.secondFactor(w, r, about, false, "No way to confirm", msg+", so the consent has failed.")
		} else {
			p.message(w, http.StatusForbidden, "bank", "No way to confirm", msg+", so the settings cannot be opened.")
		}
		return false
	}
	s.tx = tx
	p.rotate(w, s) // what this browser may do is about to change
	if len(tx.factors) == 1 {
		if err := p.init(r.Context(), tx, tx.factors[0]); err != nil {
			p.abandon(r.Context(), s)
			p.fail(w, "bank", err)
			return false
		}
	}
	return true
}

// abandon ends the session's confirmation, if any, and reports it
// abandoned, so that its transaction does not wait for its expiry.
func (p *pages) abandon(ctx context.Context, s *pageSession) {
	if tx := s.tx; tx != nil {
		s.tx = nil
		_, _ = p.authn.Finalize(ctx, demoAgentID, tx.id, tx.nonce, authn.ResultFailure, authn.ReasonUserAbandoned)
	}
}

// init starts factor in the confirmation's transaction.
func (p *pages) init(ctx context.Context, tx *confirmation, factor string) error {
	ctx = context.WithValue(ctx, outboxTag{}, tx.handle) // the demo outbox shows this confirmation's codes
	resp, err := p.authn.Init(ctx, demoAgentID, tx.id, tx.nonce, factor, nil)
	if err != nil {
		return err
	}
	tx.nonce, tx.factor, tx.prompts = resp.Nonce, factor, nil
	if len(resp.Challenges) == 1 {
		tx.prompts = resp.Challenges[0].Prompts
	}
	return nil
}

// show renders the session's confirmation: the choice of factor, or the
// chosen factor's question.
func (p *pages) show(w http.ResponseWriter, r *http.Request, s *pageSession, status int, notice, problem string) {
	tx := s.tx
	v := view{Party: "bank", CSRF: s.csrf, Confirmation: tx.handle, Purpose: tx.purpose, User: tx.user, Notice: notice, Error: problem}
	if tx.purpose == purposeConsent {
		c, err := p.psd2.Get(r.Context(), tx.about)
		if err != nil {
			p.fail(w, "bank", err)
			return
		}
		v.TPPName, v.IBAN = c.TPPName, c.IBAN
	}
	if tx.factor == "" {
		v.Title = "How do you want to confirm?"
		for _, k := range tx.factors {
			v.Factors = append(v.Factors, factorChoice{Key: k, Label: pageFactors[pageFactor(k)].label})
		}
		p.render(w, status, "choose", v)
		return
	}
	f := pageFactors[pageFactor(tx.factor)]
	v.Factor, v.Title, v.Input = tx.factor, f.title, f.input
	for _, kv := range tx.prompts {
		switch {
		case tx.factor == passkey.Key && kv.Key == passkey.PromptKey:
			v.Options = kv.Value
		case tx.factor == kba.Key:
			v.Input.Label = kv.Value // the question
		}
	}
	switch tx.factor {
	case totp.Key:
		v.Message = "Enter the 6-digit code your authenticator app shows for " + tx.user + "."
	case otpcode.EmailKey:
		v.Message = "The bank has e-mailed a code to " + tx.user + ". Enter it here."
		v.Outbox = p.an.sender.sentFor(tx.handle)
	case kba.Key:
		v.Message = "Answer " + tx.user + "'s security question."
	case passkey.Key:
		v.Message = "Use the passkey " + tx.user + " registered with the bank."
	case recovery.Key:
		v.Message = "Enter one of " + tx.user + "'s recovery codes. Each works once."
	}
	p.render(w, status, "confirm", v)
}

// running is the session's running confirmation, if there is one and
// its consent still waits for its second factor; or nil having answered.
func (p *pages) running(w http.ResponseWriter, r *http.Request, s *pageSession) *confirmation {
	if s.tx == nil {
		p.message(w, http.StatusConflict, "bank", "Out of date", "There is nothing to confirm: this page is out of date. Go back to the bank's consent page, or to its settings.")
		return nil
	}
	if s.tx.purpose == purposeConsent {
		c, err := p.psd2.Get(r.Context(), s.tx.about)
		switch {
		case err != nil:
			p.fail(w, "bank", err)
			return nil
		case c.Status != psd2.StateRedirected:
			p.fail(w, "bank", challenge.ErrFinal)
			return nil
		}
	}
	return s.tx
}

// runningForm checks a form of the running confirmation: it returns the
// session, locked, and the confirmation; or nils having answered. The
// form must name the confirmation it was shown for: an answer typed on a
// page of one confirmation never answers another begun since in the same
// browser (in another tab, say).
func (p *pages) runningForm(w http.ResponseWriter, r *http.Request) (*pageSession, *confirmation) {
	s := p.form(w, r, "bank")
	if s == nil {
		return nil, nil
	}
	tx := p.running(w, r, s)
	if tx != nil && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("confirmation")), []byte(tx.handle)) != 1 {
		tx = nil
		p.message(w, http.StatusConflict, "bank", "Out of date",
			"This page is out of date: the bank has begun another confirmation in this browser since. Go on in the page of that one.")
	}
	if tx == nil {
		s.mu.Unlock()
		return nil, nil
	}
	return s, tx
}

// expired answers that the confirmation's transaction has expired, and
// ends it: a consent, which may not have, begins a fresh one when its
// page is opened again.
func (p *pages) expired(w http.ResponseWriter, s *pageSession, tx *confirmation) {
	s.tx = nil
	if tx.purpose == purposeConsent {
		p.message(w, http.StatusGone, "bank", "Confirmation expired",
			"This confirmation has expired; the consent request has not. Go back to the bank's consent page and confirm again.")
		return
	}
	p.messageBack(w, http.StatusGone, "Confirmation expired", "This confirmation has expired. Sign in again.", "/demo/bank/settings")
}

// chooseFactor starts the factor the person picked.
func (p *pages) chooseFactor(w http.ResponseWriter, r *http.Request) {
	s, tx := p.runningForm(w, r)
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	if tx.factor != "" {
		p.show(w, r, s, http.StatusConflict, "", "This confirmation has begun already.")
		return
	}
	factor := r.PostForm.Get("factor")
	offered := false
	for _, k := range tx.factors {
		offered = offered || k == factor
	}
	if !offered {
		p.show(w, r, s, http.StatusBadRequest, "", "Pick one of the ways offered.")
		return
	}
	err := p.init(r.Context(), tx, factor)
	var fe *challenge.FieldError
	if errors.Is(err, challenge.ErrExpired) {
		p.expired(w, s, tx)
		return
	}
	if errors.As(err, &fe) {
		// The factor cannot start (the last recovery code was used in
		// another tab, say): choose another.
		p.show(w, r, s, http.StatusConflict, "", "That way cannot be used now: "+fe.Message+". Pick another.")
		return
	}
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	http.Redirect(w, r, "/demo/bank/confirm", http.StatusSeeOther)
}

// confirmPage shows the running confirmation.
func (p *pages) confirmPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	if p.running(w, r, s) != nil {
		p.show(w, r, s, http.StatusOK, "", "")
	}
}

// confirmSubmit validates an answer. A right one authenticates the
// factor transaction (or asks the next security question); a wrong one
// asks again, and the last one allowed blocks the transaction, which
// fails a consent.
func (p *pages) confirmSubmit(w http.ResponseWriter, r *http.Request) {
	s, tx := p.runningForm(w, r)
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	if tx.factor == "" {
		p.show(w, r, s, http.StatusConflict, "", "Pick a way to confirm first.")
		return
	}
	resp, err := p.authn.Validate(r.Context(), demoAgentID, tx.id, tx.nonce, r.PostForm.Get("answer"))
	if errors.Is(err, challenge.ErrExpired) {
		p.expired(w, s, tx)
		return
	}
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	tx.nonce = resp.Nonce
	if len(resp.Challenges) == 1 {
		tx.prompts = resp.Challenges[0].Prompts
	}
	switch {
	case resp.State == authn.StateBlocked:
		s.tx = nil
		if tx.purpose == purposeConsent {
			p.secondFactor(w, r, tx.about, false, "Blocked", "Too many wrong answers: the bank has blocked this confirmation, and the consent has failed.")
		} else {
			p.messageBack(w, http.StatusForbidden, "Blocked", "Too many wrong answers: the bank has blocked this confirmation.", "/demo/bank/settings")
		}
	case resp.Wrong:
		p.show(w, r, s, http.StatusOK, "", "Wrong "+answerWord(tx.factor)+". "+triesLeft(resp.Remaining)+" before the bank blocks this confirmation.")
	case resp.State == authn.StateValidated:
		if _, err := p.authn.Finalize(r.Context(), demoAgentID, tx.id, tx.nonce, authn.ResultSuccess, ""); err != nil {
			p.fail(w, "bank", err)
			return
		}
		s.tx = nil
		if tx.purpose == purposeConsent {
			p.secondFactor(w, r, tx.about, true, "", "")
			return
		}
		s.settingsUser, s.settingsUntil, s.registration = tx.user, p.clock.Now().Add(settingsLife), nil
		p.rotate(w, s) // signed in: a new session ID
		http.Redirect(w, r, "/demo/bank/settings", http.StatusSeeOther)
	default: // right, and the factor asks more: the next security question
		p.show(w, r, s, http.StatusOK, "Right. Now the next question.", "")
	}
}

func answerWord(factor string) string {
	switch factor {
	case kba.Key:
		return "answer"
	case passkey.Key:
		return "passkey"
	case recovery.Key:
		return "recovery code"
	}
	return "code"
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

// settingsUserOf is who signed in to the settings, if still signed in.
func (p *pages) settingsUserOf(s *pageSession) string {
	if s.settingsUser == "" || !p.clock.Now().Before(s.settingsUntil) {
		s.settingsUser, s.registration, s.newCodes = "", nil, nil
	}
	return s.settingsUser
}

// settingsPage shows the person's passkeys and recovery codes, or, to a
// browser not signed in, whom to sign in as.
func (p *pages) settingsPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	p.settings(w, r, s, "", "")
}

func (p *pages) settings(w http.ResponseWriter, r *http.Request, s *pageSession, notice, problem string) {
	v := view{Title: "Security settings", Party: "bank", CSRF: s.csrf, Notice: notice, Error: problem, User: p.settingsUserOf(s)}
	if v.User == "" {
		v.Title = "Sign in to the bank"
		for _, d := range demoPeople {
			v.People = append(v.People, d.person)
		}
		p.render(w, http.StatusOK, "settings", v)
		return
	}
	creds, err := p.an.users.passkeys.List(r.Context(), v.User)
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	if v.CodesLeft, err = p.an.codes.Remaining(r.Context(), v.User); err != nil {
		p.fail(w, "bank", err)
		return
	}
	v.Passkeys = len(creds)
	p.render(w, http.StatusOK, "settings", v)
}

// settingsLogin begins a confirmation for the person, to sign in to the
// settings.
func (p *pages) settingsLogin(w http.ResponseWriter, r *http.Request) {
	s := p.form(w, r, "bank")
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	person := r.PostForm.Get("person")
	if userOf(person) == "" {
		p.settings(w, r, s, "", "Pick one of the people offered.")
		return
	}
	if p.begin(w, r, s, purposeSettings, "", person) {
		http.Redirect(w, r, "/demo/bank/confirm", http.StatusSeeOther)
	}
}

// signedIn checks a settings form: its session, signed in. It returns
// the session, locked, and the user; or nil having answered.
func (p *pages) signedIn(w http.ResponseWriter, r *http.Request) (*pageSession, string) {
	s := p.form(w, r, "bank")
	if s == nil {
		return nil, ""
	}
	user := p.settingsUserOf(s)
	if user == "" {
		defer s.mu.Unlock()
		p.messageBack(w, http.StatusForbidden, "Signed out", "Sign in to the bank again to change your settings.", "/demo/bank/settings")
		return nil, ""
	}
	return s, user
}

// passkeyBegin asks the browser to make a passkey for the user.
func (p *pages) passkeyBegin(w http.ResponseWriter, r *http.Request) {
	s, user := p.signedIn(w, r)
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	options, session, err := p.an.passkeys.BeginRegistration(r.Context(), user, "")
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	s.registration = session
	p.render(w, http.StatusOK, "register", view{Title: "Register a passkey", Party: "bank", CSRF: s.csrf, User: user, Options: string(options)})
}

// passkeyFinish stores the passkey the browser made.
func (p *pages) passkeyFinish(w http.ResponseWriter, r *http.Request) {
	s, user := p.signedIn(w, r)
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	session := s.registration
	s.registration = nil // one answer per ceremony
	if session == nil {
		p.settings(w, r, s, "", "No passkey registration is under way: start again.")
		return
	}
	err := p.an.passkeys.FinishRegistration(r.Context(), user, session, []byte(r.PostForm.Get("answer")))
	if errors.Is(err, passkey.ErrRegistrationRefused) {
		p.log.Info().Err(err).Msg("demo pages: passkey registration refused")
		p.settings(w, r, s, "", "The bank could not register that passkey: start again.")
		return
	}
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	p.settings(w, r, s, "Your passkey is registered: the bank's consent page now offers it.", "")
}

// recoveryCodes makes the user a new set of recovery codes, and sends the
// browser to see them.
func (p *pages) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	s, user := p.signedIn(w, r)
	if s == nil {
		return
	}
	defer s.mu.Unlock()
	codes, err := p.an.codes.Generate(r.Context(), user)
	if err != nil {
		p.fail(w, "bank", err)
		return
	}
	s.newCodes = codes
	http.Redirect(w, r, "/demo/bank/settings/recovery", http.StatusSeeOther)
}

// shownCodes shows the codes just made, once: reloaded, the page makes no
// new ones and shows none.
func (p *pages) shownCodes(w http.ResponseWriter, r *http.Request) {
	s := p.session(w, r, true)
	defer s.mu.Unlock()
	user, codes := p.settingsUserOf(s), s.newCodes
	s.newCodes = nil
	if user == "" || codes == nil {
		p.settings(w, r, s, "", "Recovery codes are shown once, when they are made. Make new ones if you did not keep them.")
		return
	}
	p.render(w, http.StatusOK, "codes", view{Title: "Your recovery codes", Party: "bank", User: user, Codes: codes})
}
