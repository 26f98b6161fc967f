package psd2

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
)

// AccountDirectory answers whether a person owns an account. The bank
// implements it over its core banking system.
type AccountDirectory interface {
	// OwnsIBAN reports whether the person owns the account with this IBAN
	// (in electronic form). An error means the directory could not answer;
	// the request then fails without counting an attempt.
	OwnsIBAN(ctx context.Context, personID, iban string) (bool, error)
}

// MemoryAccounts is an [AccountDirectory] over a fixed map from person ID to
// the IBANs they own, for tests and demos. It is safe for concurrent use.
type MemoryAccounts struct {
	owned map[string][]string
}

var _ AccountDirectory = (*MemoryAccounts)(nil)

// NewMemoryAccounts returns a directory of the given owners. IBANs are
// normalized; an invalid one is an error.
func NewMemoryAccounts(owned map[string][]string) (*MemoryAccounts, error) {
	m := &MemoryAccounts{owned: make(map[string][]string, len(owned))}
	for person, ibans := range owned {
		for _, raw := range ibans {
			iban, ok := NormalizeIBAN(raw)
			if !ok {
				return nil, fmt.Errorf("psd2: account of %q: invalid IBAN", person)
			}
			m.owned[person] = append(m.owned[person], iban)
		}
	}
	return m, nil
}

// OwnsIBAN implements [AccountDirectory].
func (m *MemoryAccounts) OwnsIBAN(_ context.Context, personID, iban string) (bool, error) {
	return slices.Contains(m.owned[personID], iban), nil
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
