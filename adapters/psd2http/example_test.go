package psd2http_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

// Mount the PSD2 endpoints on an existing ServeMux.
func ExampleHandler_Register() {
	clock := challengetest.NewClock() // fixed times for this example; omit in production
	store, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	accounts, _ := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	redirects, _ := psd2.NewRedirectBase("https://bank.example/consent", "")
	svc, _ := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: clock, IDs: &challengetest.SequentialIDs{Prefix: "c"}}})
	auth, _ := psd2http.NewTokens(map[string][]string{"acme": {"partner-secret-token"}}, []string{"bank-secret-token"})
	h, err := psd2http.New(svc, auth, psd2http.Options{})
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
