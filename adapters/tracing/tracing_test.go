package tracing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/adapters/tracing"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/psd2"
)

// The demo's secrets and people: none may reach a span.
const (
	partnerToken = "partner-secret-token"
	bankToken    = "bank-secret-token"
	person       = "p-alice-person"
	iban         = "DE02120300000000202051"
	idPrefix     = "secretid"
)

// env is a PSD2 server traced into an in-memory exporter.
type env struct {
	spans *tracetest.InMemoryExporter
	mux   http.Handler
	store challenge.Store
}

func newEnv(t *testing.T, wrap func(challenge.Store) challenge.Store) *env {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tracing.New(tp)

	clock := challengetest.NewClock()
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var store challenge.Store = mem
	if wrap != nil {
		store = wrap(store)
	}
	store = tr.Store(store, "memory")
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: iban, Owner: person, Partner: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{
		Clock: clock, IDs: &challengetest.SequentialIDs{Prefix: idPrefix}, Tracer: tr}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := psd2http.NewTokens(map[string][]string{"acme": {partnerToken}}, []string{bankToken})
	if err != nil {
		t.Fatal(err)
	}
	h, err := psd2http.New(svc, auth, psd2http.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	return &env{spans: exp, mux: tr.Handler(mux), store: store}
}

func (e *env) send(t *testing.T, method, path, token, body string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code
}

// create opens challenge secretid1 and forgets its spans.
func (e *env) create(t *testing.T) {
	t.Helper()
	if code := e.send(t, "POST", "/v1/psd2/challenges", bankToken, `{"iban":"`+iban+`","tpp_name":"Acme"}`); code != http.StatusCreated {
		t.Fatalf("create: status %d", code)
	}
	e.spans.Reset()
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		a, ok := got[attribute.Key(k)]
		if !ok {
			t.Errorf("span %q has no attribute %s", s.Name, k)
			continue
		}
		if a.AsInterface() != v {
			t.Errorf("span %q: %s = %v, want %v", s.Name, k, a.AsInterface(), v)
		}
	}
}

// noSecrets fails if any attribute, name or status of spans holds a
// secret, a person or an ID.
func noSecrets(t *testing.T, spans tracetest.SpanStubs) {
	t.Helper()
	for _, s := range spans {
		texts := []string{s.Name, s.Status.Description}
		for _, kv := range s.Attributes {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
		for _, ev := range s.Events {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range []string{partnerToken, bankToken, person, iban, idPrefix, "consent_challenge"} {
				if strings.Contains(text, secret) {
					t.Errorf("span %q carries %q: %q", s.Name, secret, text)
				}
			}
		}
	}
}

func byName(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q among %v", name, names(spans))
	return tracetest.SpanStub{}
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

func childOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("span %q is not a child of %q", child.Name, parent.Name)
	}
}

func TestAPATCHIsTracedFromTheRequestDownToTheStore(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t)
	if code := e.send(t, "PATCH", "/v1/psd2/challenges/"+idPrefix+"1", partnerToken, `{"person_id":"`+person+`"}`); code != http.StatusOK {
		t.Fatalf("PATCH: status %d", code)
	}
	spans := e.spans.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("spans %v, want an HTTP request, a step and two store calls", names(spans))
	}
	req := byName(t, spans, "PATCH /v1/psd2/challenges/{psd2_challenge_id}")
	step := byName(t, spans, "challenge.step")
	get := byName(t, spans, "store.get")
	update := byName(t, spans, "store.update")

	if req.Parent.IsValid() {
		t.Errorf("the request's span has a parent")
	}
	childOf(t, step, req)
	childOf(t, get, step)
	childOf(t, update, step)
	if req.SpanKind != trace.SpanKindServer || get.SpanKind != trace.SpanKindClient {
		t.Errorf("span kinds: request %v, store %v", req.SpanKind, get.SpanKind)
	}
	wantAttrs(t, req, map[string]any{"http.request.method": "PATCH", "http.route": "/v1/psd2/challenges/{psd2_challenge_id}",
		"http.response.status_code": int64(200), "url.scheme": "http"})
	wantAttrs(t, step, map[string]any{"challenge.kind": "psd2", "challenge.operation": "step",
		"challenge.event": "redirect", "challenge.state.from": "pending", "challenge.state.to": "redirected",
		"challenge.outcome": "ok"})
	for _, s := range []tracetest.SpanStub{get, update} {
		wantAttrs(t, s, map[string]any{"challenge.kind": "psd2", "challenge.store.backend": "memory"})
	}
	for _, s := range spans {
		if s.Status.Code == codes.Error {
			t.Errorf("span %q has an error status", s.Name)
		}
	}
	noSecrets(t, spans)
}

func TestAWrongPersonIsAFailedStepNotAnError(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t)
	e.send(t, "PATCH", "/v1/psd2/challenges/"+idPrefix+"1", partnerToken, `{"person_id":"p-mallory-person"}`)
	spans := e.spans.GetSpans()
	step := byName(t, spans, "challenge.step")
	wantAttrs(t, step, map[string]any{"challenge.outcome": "failed", "challenge.state.from": "pending",
		"challenge.state.to": "pending"})
	if step.Status.Code == codes.Error {
		t.Errorf("a wrong person made the step's status an error")
	}
	noSecrets(t, spans)
	for _, s := range spans {
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.String(), "mallory") {
				t.Errorf("span %q carries the person: %s", s.Name, kv.Value.String())
			}
		}
	}
}

func TestAnUnknownChallengeIsNamedNotFound(t *testing.T) {
	e := newEnv(t, nil)
	e.send(t, "PATCH", "/v1/psd2/challenges/"+idPrefix+"404", partnerToken, `{"person_id":"`+person+`"}`)
	spans := e.spans.GetSpans()
	wantAttrs(t, byName(t, spans, "challenge.step"), map[string]any{"challenge.outcome": "error", "error.type": "not_found"})
	wantAttrs(t, byName(t, spans, "store.get"), map[string]any{"error.type": "not_found"})
	for _, s := range spans {
		if s.Status.Code == codes.Error {
			t.Errorf("span %q: a missing challenge is no error of the service", s.Name)
		}
	}
	noSecrets(t, spans)
}

// failingStore fails every update.
type failingStore struct {
	challenge.Store
}

func (failingStore) Update(context.Context, *challenge.Record) error {
	return errors.New("connection reset while updating " + idPrefix + "1")
}

func TestAStoreFailureMarksTheSpansAsErrors(t *testing.T) {
	e := newEnv(t, func(s challenge.Store) challenge.Store { return failingStore{s} })
	e.create(t)
	code := e.send(t, "PATCH", "/v1/psd2/challenges/"+idPrefix+"1", partnerToken, `{"person_id":"`+person+`"}`)
	if code < 500 {
		t.Fatalf("PATCH over a failing store: status %d", code)
	}
	spans := e.spans.GetSpans()
	for _, name := range []string{"PATCH /v1/psd2/challenges/{psd2_challenge_id}", "challenge.step", "store.update"} {
		if s := byName(t, spans, name); s.Status.Code != codes.Error {
			t.Errorf("span %q: status %v, want an error", name, s.Status.Code)
		}
	}
	wantAttrs(t, byName(t, spans, "challenge.step"), map[string]any{"error.type": "outcome_unknown", "challenge.outcome": "error"})
	noSecrets(t, spans) // the store's message names the record
}

func TestARequestNoRouteServedIsNamedByItsMethodAlone(t *testing.T) {
	e := newEnv(t, nil)
	req := httptest.NewRequest("BREW", "/coffee/"+idPrefix, nil)
	e.mux.ServeHTTP(httptest.NewRecorder(), req)
	spans := e.spans.GetSpans()
	if len(spans) != 1 || spans[0].Name != "HTTP" {
		t.Fatalf("spans %v, want one named HTTP", names(spans))
	}
	wantAttrs(t, spans[0], map[string]any{"http.request.method": "_OTHER", "http.response.status_code": int64(404)})
	noSecrets(t, spans)
}

func TestANilProviderTracesNothingAndChangesNothing(t *testing.T) {
	tr := tracing.New(nil)
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := challenge.NewMachine(challenge.Definition{Name: "t", Initial: "open",
		Transitions: []challenge.Transition{{Event: "close", From: []challenge.State{"open"}, To: "closed"}}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := challenge.NewEngine(tr.Store(store, "memory"), m, challenge.EngineOptions{Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := eng.Create(context.Background(), challenge.Start{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err = eng.Step(context.Background(), rec.ID, func(tx *challenge.Tx) error { return tx.Fire("close") })
	if err != nil || rec.State != "closed" {
		t.Fatalf("step: %v, %v", rec, err)
	}
}

// refusingStore is a store whose backend does not answer.
type refusingStore struct{ challenge.Store }

func (refusingStore) Ping(context.Context) error { return errors.New("connection refused") }

// TestTheStoreWrapperForwardsPing: a readiness check through the traced
// store still reaches the backend, in an error span.
func TestTheStoreWrapperForwardsPing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	var s challenge.Store = tracing.New(tp).Store(refusingStore{mem}, "redis")
	p, ok := s.(challenge.Pinger)
	if !ok || p.Ping(context.Background()) == nil {
		t.Fatal("the wrapper hides the backend's Ping")
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "store.ping" || spans[0].Status.Code != codes.Error {
		t.Fatalf("spans %v", spans)
	}
	if err := tracing.New(tp).Store(mem, "memory").Ping(context.Background()); err != nil {
		t.Errorf("the memory store answers: %v", err)
	}
}

// TestAHandlerWrappingTheTracedOneSeesTheRoute: the route the mux matched
// reaches a middleware outside Handler, although Handler passes the mux
// a copy of the request.
func TestAHandlerWrappingTheTracedOneSeesTheRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(http.ResponseWriter, *http.Request) {})
	traced := tracing.New(nil).Handler(mux)
	var seen string
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, r)
		seen = r.Pattern
	})
	outer.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things/42", nil))
	if seen != "GET /things/{id}" {
		t.Fatalf("the wrapping handler saw route %q", seen)
	}
}
