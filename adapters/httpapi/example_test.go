package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/challengekit/challengekit/adapters/authnhttp"
	"github.com/challengekit/challengekit/adapters/httpapi"
	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// Mount all three APIs on an existing ServeMux, each with its own way of
// telling who is calling, and serve what Mount returns.
func ExampleMount() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	engine := challenge.EngineOptions{} // clock, logger, observer and limiter, shared by every flow

	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	consent, _ := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: engine})
	tokens, _ := psd2http.NewTokens(map[string][]string{"acme": {"partner-secret-token"}}, []string{"bank-secret-token"})
	psd2Handler, _ := psd2http.New(consent, tokens, psd2http.Options{})

	qs, _ := questions.NewService(store, questions.Options{Engine: engine})
	sessions, _ := questionshttp.NewCookieSessions("acmepaymentscorp", []questionshttp.Session{{Token: "TokenID=alice-session",
		CSRFToken: "csrf-alice-token", Caller: questionshttp.Caller{UserID: "alice.acmepaymentscorp"}}})
	questionsHandler, _ := questionshttp.New(qs, sessions, questionshttp.Options{})

	totpFactor, _ := totp.New(store, totp.Options{})
	kbaFactor, _ := kba.New(qs)
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{"alice": {{FactorKey: totp.Key, Secret: "JBSWY3DPEHPK3PXP"}}})
	logins, _ := authn.NewService(store, registry, []authn.Factor{totpFactor, kbaFactor}, authn.Options{Engine: engine})
	agents, _ := authnhttp.NewStaticAgents(map[string]string{"login-server": "login-server-secret"})
	authnHandler, _ := authnhttp.New(logins, agents, authnhttp.Options{})

	mux := http.NewServeMux() // your server's mux, with its own routes
	root := httpapi.Mount(mux, httpapi.Config{PSD2: psd2Handler, Authn: authnHandler, Questions: questionsHandler})
	// srv := &http.Server{Addr: ":8080", Handler: root}

	for _, path := range []string{"/api/businesses/acmepaymentscorp/challenges", "/V1/psd2/challenges", "/authn/v1/"} {
		rec := httptest.NewRecorder()
		root.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// 404 application/json
	// 404 application/json
	// 404 application/json
}
