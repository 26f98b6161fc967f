package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/challengekit/challengekit/adapters/httpapi"
	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// Mount the PSD2 endpoints on an existing ServeMux.
func ExamplePSD2_Register() {
	clock := challengetest.NewClock() // fixed times for this example; omit in production
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, _ := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock, IDs: &challengetest.SequentialIDs{Prefix: "c"}}})
	auth, _ := httpapi.NewPSD2Tokens(map[string][]string{"acme": {"partner-secret-token"}}, []string{"bank-secret-token"})
	h, err := httpapi.NewPSD2(svc, auth, httpapi.PSD2Options{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux() // your server's mux
	h.Register(mux)

	send := func(method, path, token, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		out, _ := io.ReadAll(rec.Body)
		fmt.Println(rec.Code, strings.TrimSpace(string(out)))
	}
	send("POST", "/v1/psd2/challenges", "bank-secret-token", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`)
	send("PATCH", "/v1/psd2/challenges/c1", "partner-secret-token", `{"person_id":"p-alice"}`)
	// Output:
	// 201 {"id":"c1","status":"pending","iban":"DE02120300000000202051","tpp_name":"Acme","person_id":null,"redirect_url":null,"created_at":"2030-01-01T12:00:00Z","expires_at":"2030-01-01T12:05:00Z"}
	// 200 {"person_id":"p-alice","redirect_url":"https://bank.example/consent?consent_challenge=c2"}
}

// Mount all three APIs on one ServeMux, each with its own way of telling
// who is calling.
func Example_allThreeAPIs() {
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	mux := http.NewServeMux()

	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	consent, _ := psd2.NewService(store, accounts, redirects, psd2.Options{})
	tokens, _ := httpapi.NewPSD2Tokens(map[string][]string{"acme": {"partner-secret-token"}}, []string{"bank-secret-token"})
	psd2Handler, _ := httpapi.NewPSD2(consent, tokens, httpapi.PSD2Options{})
	psd2Handler.Register(mux)

	qs, _ := questions.NewService(store, questions.Options{})
	sessions, _ := httpapi.NewCookieSessions("acmepaymentscorp", []httpapi.Session{{Token: "TokenID=alice-session",
		CSRFToken: "csrf-alice-token", Caller: httpapi.QuestionsCaller{UserID: "alice.acmepaymentscorp"}}})
	questionsHandler, _ := httpapi.NewQuestions(qs, sessions, httpapi.QuestionsOptions{})
	questionsHandler.Register(mux)

	totpFactor, _ := totp.New(store, totp.Options{})
	kbaFactor, _ := kba.New(qs)
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{"alice": {{FactorKey: totp.Key, Secret: "JBSWY3DPEHPK3PXP"}}})
	logins, _ := authn.NewService(store, registry, []authn.Factor{totpFactor, kbaFactor}, authn.Options{})
	agents, _ := httpapi.NewStaticAgents(map[string]string{"login-server": "login-server-secret"})
	authnHandler, _ := httpapi.NewAuthn(logins, agents, httpapi.AuthnOptions{})
	authnHandler.Register(mux)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/businesses/acmepaymentscorp/challenges", nil))
	fmt.Println(rec.Code) // no catalog stored yet
	// Output: 404
}
