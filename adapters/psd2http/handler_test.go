package psd2http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/internal/httpkittest"
	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

const (
	partner   = "partner-token-0123456789"
	bank      = "bank-token-0123456789abc"
	aliceIBAN = "DE02120300000000202051"
	bobIBAN   = "DE02500105170137075030"
)

// failingStore lets a test make the store fail.
type failingStore struct {
	challenge.Store
	mu   sync.Mutex
	fail error
}

func (s *failingStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *failingStore) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, kind, id)
}

type psd2Env struct {
	t     testing.TB
	srv   *httptest.Server
	clock *challengetest.FakeClock
	store *failingStore
	logs  *challengetest.LogBuffer
}

func newPSD2Env(t testing.TB, opts psd2http.Options) *psd2Env {
	t.Helper()
	logs := &challengetest.LogBuffer{}
	return newPSD2EnvLogging(t, opts, logs, zerolog.New(logs).Level(zerolog.DebugLevel))
}

// newPSD2EnvLogging builds the environment with its own logger; benchmarks
// log at info level to a sink that keeps nothing, as a production server
// would cost.
func newPSD2EnvLogging(t testing.TB, opts psd2http.Options, logs *challengetest.LogBuffer, logger zerolog.Logger) *psd2Env {
	t.Helper()
	e := &psd2Env{t: t, clock: challengetest.NewClock(), logs: logs}
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.store = &failingStore{Store: mem}
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: aliceIBAN, Owner: "p-alice", Partner: "acme"}, {IBAN: bobIBAN, Owner: "p-bob", Partner: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := psd2.NewService(e.store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Clock: e.clock, Logger: logger}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := psd2http.NewTokens(map[string][]string{"acme": {partner}}, []string{bank})
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = logger
	h, err := psd2http.New(svc, auth, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httpkittest.Serve(t, h, nil)
	return e
}

type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// call sends a request as a client would; token "" sends no Authorization.
func (e *psd2Env) call(method, path, token, body string, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, raw := httpkittest.Exchange(e.t, e.srv, req, headers...)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s %s: Content-Type %q, body %q; every answer must be JSON", method, path, ct, raw)
	}
	if err := json.Unmarshal([]byte(raw), &r.body); err != nil {
		e.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
	}
	return r
}

func (e *psd2Env) create() string {
	e.t.Helper()
	r := e.call("POST", "/v1/psd2/challenges", bank, `{"iban":"DE02 1203 0000 0000 2020 51","tpp_name":"Acme Finance"}`)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

func (e *psd2Env) patch(id, person string) reply {
	e.t.Helper()
	return e.call("PATCH", "/v1/psd2/challenges/"+id, partner, fmt.Sprintf(`{"person_id":%q}`, person))
}

// wantError checks the flat envelope: exactly id, status, code, title,
// details; and that the log line with that id names the cause.
func (e *psd2Env) wantError(r reply, status int, code, title, details string) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	want := map[string]any{"status": float64(status), "code": code, "title": title, "details": details}
	for k, v := range want {
		if r.body[k] != v {
			e.t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	id, _ := r.body["id"].(string)
	if len(id) != 36 || len(r.body) != 5 {
		e.t.Errorf("envelope %s: want exactly id (a UUID), status, code, title, details", r.raw)
	}
	if !strings.Contains(e.logs.String(), `"error_id":"`+id+`"`) {
		e.t.Errorf("no log line carries error_id %s", id)
	}
}

func TestPSD2CreateAndGet(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	r := e.call("POST", "/v1/psd2/challenges", bank, `{"iban":"DE02 1203 0000 0000 2020 51","tpp_name":"Acme Finance","tpp_id":"tpp-7"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	if r.header.Get("Location") != "/v1/psd2/challenges/"+id {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	for _, got := range []reply{r, e.call("GET", "/v1/psd2/challenges/"+id, partner, "")} {
		if got.status/100 != 2 || got.body["status"] != "pending" || got.body["iban"] != aliceIBAN || got.body["tpp_name"] != "Acme Finance" {
			t.Fatalf("challenge object %s", got.raw)
		}
		for _, k := range []string{"person_id", "redirect_url"} {
			if v, present := got.body[k]; !present || v != nil {
				t.Errorf("%s = %v (present %v); want JSON null until known", k, v, present)
			}
		}
		if got.body["created_at"] != "2030-01-01T12:00:00Z" || got.body["expires_at"] != "2030-01-01T12:05:00Z" {
			t.Errorf("times %v, %v; want RFC 3339 UTC", got.body["created_at"], got.body["expires_at"])
		}
	}
}

func TestPSD2CreateRefusesBadInput(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	e.wantError(e.call("POST", "/v1/psd2/challenges", bank, `{"iban":"DE03120300000000202051","tpp_name":"x"}`),
		400, "invalid_request", "Invalid Request", "iban is not a valid IBAN")
	e.wantError(e.call("POST", "/v1/psd2/challenges", bank, `{"iban":"`+aliceIBAN+`"}`),
		400, "invalid_request", "Invalid Request", "tpp_name is required")
	e.wantError(e.call("POST", "/v1/psd2/challenges", partner, `{"iban":"`+aliceIBAN+`","tpp_name":"x"}`),
		403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
}

func TestPSD2PatchFlow(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	first := e.patch(id, "p-alice")
	url, _ := first.body["redirect_url"].(string)
	if first.status != 200 || first.body["person_id"] != "p-alice" || !strings.HasPrefix(url, "https://bank.example/consent?consent_challenge=") || len(first.body) != 2 {
		t.Fatalf("PATCH: %d %s", first.status, first.raw)
	}
	if again := e.patch(id, "p-alice"); again.status != 200 || again.body["redirect_url"] != url {
		t.Fatalf("retry: %d %s; want 200 with the same redirect_url", again.status, again.raw)
	}
	e.wantError(e.patch(id, "p-bob"), 403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
	got := e.call("GET", "/v1/psd2/challenges/"+id, partner, "")
	if got.body["status"] != "redirected" || got.body["person_id"] != "p-alice" || got.body["redirect_url"] != url {
		t.Fatalf("GET after PATCH: %s", got.raw)
	}
	done := e.call("POST", "/v1/psd2/challenges/"+id+"/second_factor", bank, `{"result":"success"}`)
	if done.status != 200 || done.body["status"] != "authorized" {
		t.Fatalf("second factor: %d %s", done.status, done.raw)
	}
	e.wantError(e.patch(id, "p-alice"), 403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
}

func TestPSD2PatchMismatchesUntilFailed(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	for _, person := range []string{"p-bob", "p-nobody", "p-mallory"} {
		e.wantError(e.patch(id, person), 400, "invalid_request", "Invalid Request",
			"The IBAN requested by the TPP does not belong to the specified person.")
	}
	if got := e.call("GET", "/v1/psd2/challenges/"+id, partner, ""); got.body["status"] != "failed" {
		t.Fatalf("status after 3 mismatches: %s", got.raw)
	}
	e.wantError(e.patch(id, "p-alice"), 403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
	e.wantError(e.patch(id, "p-bob"), 403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
}

func TestPSD2SecondFactorFailure(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	e.patch(id, "p-alice")
	if r := e.call("POST", "/v1/psd2/challenges/"+id+"/second_factor", bank, `{"result":"failure"}`); r.status != 200 || r.body["status"] != "failed" {
		t.Fatalf("failure report: %d %s", r.status, r.raw)
	}
	e.wantError(e.patch(id, "p-alice"), 403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
	e.wantError(e.call("POST", "/v1/psd2/challenges/"+id+"/second_factor", bank, `{"result":"maybe"}`),
		400, "invalid_request", "Invalid Request", "result must be one of success failure")
	e.wantError(e.call("POST", "/v1/psd2/challenges/"+id+"/second_factor", partner, `{"result":"success"}`),
		403, "unauthorized_action", "Unauthorized Action", "Unauthorized action is not allowed.")
}

func TestPSD2Expiry(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	e.clock.Advance(psd2.DefaultTTL)
	e.wantError(e.call("GET", "/v1/psd2/challenges/"+id, partner, ""), 401, "unauthorized_psd2_challenge", "Unauthorized PSD2 challenge", "Challenge expired.")
	r := e.patch(id, "p-alice")
	e.wantError(r, 401, "unauthorized_psd2_challenge", "Unauthorized PSD2 challenge", "Challenge expired.")
	// The token was fine: the Bearer challenge names no error (RFC 6750 §3).
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="psd2"` {
		t.Errorf("WWW-Authenticate %q; want the realm alone", got)
	}
}

func TestPSD2RequestErrors(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	path := "/v1/psd2/challenges/" + id
	invalid := func(body, details string) {
		t.Helper()
		e.wantError(e.call("PATCH", path, partner, body), 400, "invalid_request", "Invalid Request", details)
	}
	invalid(`{}`, "person_id is required")
	invalid(`{"person_id":""}`, "person_id is required")
	invalid(`{"person_id":null}`, "person_id is required")
	invalid(`{"person_id":42}`, "person_id must be a string")
	invalid(`{"person_id":`, "Request body is not valid JSON.")
	invalid(`[1,2]`, "Request body must be a JSON object.")
	invalid(`{"person_id":"p-alice"} {"person_id":"p-bob"}`, "Request body must hold one JSON object and nothing after it.")
	invalid(`{"person_id":"`+strings.Repeat("x", 256)+`"}`, "person_id is longer than 255 bytes")
	// Lengths count bytes, as psd2 does, and psd2 alone says so: 128
	// characters of three bytes each are too long.
	invalid(`{"person_id":"`+strings.Repeat("€", 128)+`"}`, "person_id is longer than 255 bytes")
	e.wantError(e.call("PATCH", path, partner, `{"person_id":"p-alice"}`, "Content-Type", "text/plain"),
		415, "unsupported_media_type", "Unsupported Media Type", "Content-Type must be application/json.")
	e.wantError(e.call("PATCH", path, partner, `{"person_id":"`+strings.Repeat("x", psd2http.DefaultMaxBodyBytes)+`"}`),
		413, "request_too_large", "Request Too Large", "Request body is too large.")
	e.wantError(e.call("GET", "/v1/psd2/challenges/no-such-id", partner, ""), 404, "model_not_found", "Model Not Found", "Model was not found")
	e.wantError(e.patch("no-such-id", "p-alice"), 404, "model_not_found", "Model Not Found", "Model was not found")
	e.wantError(e.call("GET", "/v1/psd2/challenges/"+strings.Repeat("a", 4000), partner, ""), 404, "model_not_found", "Model Not Found", "Model was not found")
	e.wantError(e.call("GET", "/v1/psd2/nothing/here", partner, ""), 404, "model_not_found", "Model Not Found", "Model was not found")
	r := e.call("DELETE", path, partner, "")
	e.wantError(r, 405, "method_not_allowed", "Method Not Allowed", "The method is not allowed on this resource.")
	if r.header.Get("Allow") != "GET, HEAD, PATCH" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
	e.wantError(e.call("GET", path, "", ""), 401, "token_required", "Token Required", "No Authorization header was provided.")
	e.wantError(e.call("GET", path, "not-a-known-token-at-all", ""), 401, "invalid_token", "Invalid Token", "The access token is invalid.")
	e.wantError(e.call("GET", path, "", "", "Authorization", "Basic "+partner), 401, "invalid_token", "Invalid Token", "The access token is invalid.")
	if got := e.call("GET", path, partner, ""); got.body["status"] != "pending" || got.body["person_id"] != nil {
		t.Fatalf("bad requests changed the challenge: %s", got.raw)
	}
}

func TestPSD2StoreErrorsLeakNothing(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	e.store.mu.Lock()
	e.store.fail = errors.New("dial tcp 10.1.2.3:6379: connection refused")
	e.store.mu.Unlock()
	r := e.patch(id, "p-alice")
	e.wantError(r, 503, "service_unavailable", "Service Unavailable", "The service is unavailable; nothing was changed. Retry later.")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("a 503 without Retry-After: %v", r.header)
	}
	if strings.Contains(r.raw, "10.1.2.3") {
		t.Fatalf("the body leaks the cause: %s", r.raw)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Fatalf("the log lacks the cause:\n%s", e.logs.String())
	}
}

func TestPSD2WrappedErrors(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{WrappedErrors: true})
	id := e.create()
	r := e.call("PATCH", "/v1/psd2/challenges/"+id, partner, `{}`)
	var body struct {
		Errors []struct {
			ID, Code, Title, Detail string
			Status                  int
			Source                  *struct{ Field, Message string }
		}
	}
	if err := json.Unmarshal([]byte(r.raw), &body); err != nil || r.status != 400 || len(body.Errors) != 1 {
		t.Fatalf("wrapped error: %d %s", r.status, r.raw)
	}
	got := body.Errors[0]
	if got.Status != 400 || got.Code != "invalid_request" || got.Detail != "person_id is required" || got.Source == nil ||
		got.Source.Field != "person_id" || got.Source.Message != "is required" || len(got.ID) != 36 {
		t.Fatalf("wrapped error %+v (source %+v)", got, got.Source)
	}
	r = e.call("GET", "/v1/psd2/challenges/nope", partner, "")
	if r.status != 404 || !strings.Contains(r.raw, `"errors":[{`) || strings.Contains(r.raw, `"source"`) {
		t.Fatalf("wrapped 404: %s", r.raw)
	}
}

// TestPSD2ConcurrentPatchesYieldOneRedirect: 32 partners' retries racing on
// one challenge all get the one redirect URL, and none gets a 5xx.
func TestPSD2ConcurrentPatchesYieldOneRedirect(t *testing.T) {
	e := newPSD2Env(t, psd2http.Options{})
	id := e.create()
	const n = 32
	urls := make([]string, n)
	statuses := make([]int, n)
	challengetest.Race(n, func(i int) {
		req, _ := http.NewRequest("PATCH", e.srv.URL+"/v1/psd2/challenges/"+id, strings.NewReader(`{"person_id":"p-alice"}`))
		req.Header.Set("Authorization", "Bearer "+partner)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		var body struct {
			RedirectURL string `json:"redirect_url"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		statuses[i], urls[i] = resp.StatusCode, body.RedirectURL
	})
	for i := range n {
		if statuses[i] != 200 || urls[i] == "" || urls[i] != urls[0] {
			t.Fatalf("request %d: %d %q; request 0 got %q", i, statuses[i], urls[i], urls[0])
		}
	}
}

func TestNewPSD2TokensRejectsWeakTokens(t *testing.T) {
	if _, err := psd2http.NewTokens(map[string][]string{"acme": {"short"}}, nil); err == nil {
		t.Error("accepted a short token")
	}
	if _, err := psd2http.NewTokens(map[string][]string{"acme": {partner}}, []string{partner}); err == nil {
		t.Error("accepted one token for two callers")
	}
}
