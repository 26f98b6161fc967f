package psd2http_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

// mtlsAuth stands for a deployment's own authenticator (here: one that
// refuses everyone), which names its own scheme.
type mtlsAuth struct{}

func (mtlsAuth) Authenticate(*http.Request) (psd2http.Caller, error) {
	return psd2http.Caller{}, psd2http.ErrNoCredentials
}

func (mtlsAuth) WWWAuthenticate(err error) string {
	if errors.Is(err, psd2http.ErrNoCredentials) {
		return `Mutual realm="bank"`
	}
	return ""
}

func TestAnAuthenticatorNamesItsOwnScheme(t *testing.T) {
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: challengetest.NewClock()})
	if err != nil {
		t.Fatal(err)
	}
	accounts, _ := psd2.NewMemoryAccounts(nil)
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := psd2http.New(svc, mtlsAuth{}, psd2http.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/psd2/challenges/x", nil))
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Mutual realm="bank"` {
		t.Fatalf("%d, WWW-Authenticate %q; want 401 with the authenticator's own challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}
