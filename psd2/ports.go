package psd2

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// ErrUnknownAccount: the account directory knows no account with the IBAN.
var ErrUnknownAccount = errors.New("psd2: no account with this IBAN")

// AccountDirectory knows the bank's accounts: who owns each, and which
// partner that customer logs in with. The bank implements it over its core
// banking system. Implementations must be safe for concurrent use.
type AccountDirectory interface {
	// PartnerOf returns the partner whose customer holds the account with
	// this IBAN (in electronic form), the tenant its challenges belong
	// to, or ErrUnknownAccount. Any other error means the directory could
	// not answer.
	PartnerOf(ctx context.Context, iban string) (string, error)
	// OwnsIBAN reports whether the person owns the account with this IBAN
	// (in electronic form). An error means the directory could not answer;
	// the request then fails without counting an attempt.
	OwnsIBAN(ctx context.Context, personID, iban string) (bool, error)
}

// Account is one account of a [MemoryAccounts] directory.
type Account struct {
	IBAN    string // spaces allowed
	Owner   string // the person ID the partner reports
	Partner string // the partner the owner logs in with
}

// MemoryAccounts is an [AccountDirectory] over a fixed list of accounts,
// for tests and demos. It is safe for concurrent use.
type MemoryAccounts struct {
	accounts map[string]Account // by IBAN in electronic form
}

var _ AccountDirectory = (*MemoryAccounts)(nil)

// NewMemoryAccounts returns a directory of the given accounts. An invalid
// or repeated IBAN, or an account without an owner or a partner, is an
// error.
func NewMemoryAccounts(accounts []Account) (*MemoryAccounts, error) {
	m := &MemoryAccounts{accounts: make(map[string]Account, len(accounts))}
	for i, a := range accounts {
		iban, ok := NormalizeIBAN(a.IBAN)
		switch {
		case !ok:
			return nil, fmt.Errorf("psd2: account #%d: invalid IBAN", i+1)
		case a.Owner == "" || a.Partner == "":
			return nil, fmt.Errorf("psd2: account #%d needs an owner and a partner", i+1)
		}
		if _, dup := m.accounts[iban]; dup {
			return nil, fmt.Errorf("psd2: account #%d repeats an IBAN", i+1)
		}
		a.IBAN = iban
		m.accounts[iban] = a
	}
	return m, nil
}

// PartnerOf implements [AccountDirectory].
func (m *MemoryAccounts) PartnerOf(_ context.Context, iban string) (string, error) {
	a, ok := m.accounts[iban]
	if !ok {
		return "", ErrUnknownAccount
	}
	return a.Partner, nil
}

// OwnsIBAN implements [AccountDirectory].
func (m *MemoryAccounts) OwnsIBAN(_ context.Context, personID, iban string) (bool, error) {
	a, ok := m.accounts[iban]
	return ok && a.Owner == personID, nil
}

// Redirects builds the URL of the bank's second-factor step, where the
// partner sends the customer after a successful PATCH. It is given a fresh
// one-time token and never any request input.
type Redirects interface {
	RedirectURL(token string) string
}

// RedirectBase is the default [Redirects]: a configured base URL with the
// token added as one more query parameter (default "consent_challenge").
type RedirectBase struct {
	prefix string // the base URL up to and including "param="
}

var _ Redirects = RedirectBase{}

// NewRedirectBase parses base, which must be an absolute https URL (http is
// allowed for loopback hosts only, for local development) that does not
// already carry the token parameter.
func NewRedirectBase(base, param string) (RedirectBase, error) {
	u, err := url.Parse(base)
	if err != nil {
		return RedirectBase{}, fmt.Errorf("psd2: redirect base: %w", err)
	}
	loopback := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
	if u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback) || u.User != nil || u.Fragment != "" {
		return RedirectBase{}, errors.New("psd2: redirect base must be an absolute https URL without credentials or fragment")
	}
	if param == "" {
		param = "consent_challenge"
	}
	if u.Query().Has(param) {
		return RedirectBase{}, fmt.Errorf("psd2: redirect base already has a %q parameter", param)
	}
	sep := "?"
	if u.RawQuery != "" {
		sep = "&"
	}
	// The URL is built once here, so that a response costs one concatenation.
	return RedirectBase{prefix: u.String() + sep + url.QueryEscape(param) + "="}, nil
}

// RedirectURL returns the base URL with the token added to its query.
func (r RedirectBase) RedirectURL(token string) string {
	return r.prefix + url.QueryEscape(token)
}
