package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// faultStore is a store that fails on demand. set names operations
// ("create", "get", "update") that fail before reaching the store, as when
// the connection is refused: nothing is written and the store says so
// (challenge.ErrUnavailable). timeoutNextWrite makes the next write of a
// kind take effect and then report a timeout, as a store client does when
// its deadline passes after the server applied the command.
type faultStore struct {
	challenge.Store
	mu      sync.Mutex
	fail    map[string]bool
	timeout string // kind whose next write is applied, then reported as timed out
}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (f *faultStore) set(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = map[string]bool{}
	for _, op := range ops {
		f.fail[op] = true
	}
}

// timeoutNextWrite arms the fault for the next Create or Update of kind.
func (f *faultStore) timeoutNextWrite(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timeout = kind
}

// armed reports whether a timeout armed by timeoutNextWrite has not fired.
func (f *faultStore) armed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timeout != ""
}

func (f *faultStore) refused(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[op] {
		return fmt.Errorf("store %s: %w: %w", op, challenge.ErrUnavailable, errDown)
	}
	return nil
}

// write runs a write, and reports a timeout after it if armed for kind.
func (f *faultStore) write(op, kind string, apply func() error) error {
	if err := f.refused(op); err != nil {
		return err
	}
	f.mu.Lock()
	timeout := f.timeout == kind
	if timeout {
		f.timeout = ""
	}
	f.mu.Unlock()
	if err := apply(); err != nil || !timeout {
		return err
	}
	return fmt.Errorf("store %s: i/o timeout after the write: %w", op, context.DeadlineExceeded)
}

func (f *faultStore) Create(ctx context.Context, r *challenge.Record) error {
	return f.write("create", r.Kind, func() error { return f.Store.Create(ctx, r) })
}

func (f *faultStore) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	if err := f.refused("get"); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, kind, id)
}

func (f *faultStore) Update(ctx context.Context, r *challenge.Record) error {
	return f.write("update", r.Kind, func() error { return f.Store.Update(ctx, r) })
}

type faultEnv struct {
	t     *testing.T
	logs  *challengetest.LogBuffer
	mux   http.Handler
	store *faultStore
	mem   *challenge.MemoryStore
	clock *challengetest.FakeClock
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	clock := challengetest.NewClock()
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	e := &faultEnv{t: t, logs: &challengetest.LogBuffer{}, store: &faultStore{Store: mem}, mem: mem, clock: clock}
	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.clock = clock
	mux, err := newMux(context.Background(), e.store, nil, cfg, zerolog.New(e.logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	e.mux = withDeadline(mux)
	return e
}

// exchange sends a JSON request through the server; headers are
// name/value pairs.
func (e *faultEnv) exchange(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

// do sends a request and decodes its JSON answer.
func (e *faultEnv) do(method, path, body string, headers ...string) (int, map[string]any) {
	e.t.Helper()
	return e.decode(e.exchange(method, path, body, headers...))
}

// decode decodes a recorded JSON answer.
func (e *faultEnv) decode(rec *httptest.ResponseRecorder) (int, map[string]any) {
	e.t.Helper()
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("%d, not a JSON body: %q", rec.Code, rec.Body)
	}
	return rec.Code, out
}

// record reads a record straight from the healthy store beneath.
func (e *faultEnv) record(kind, id string) *challenge.Record {
	e.t.Helper()
	r, err := e.mem.Get(context.Background(), kind, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *faultEnv) want503(status int, body map[string]any, field, value string) {
	e.t.Helper()
	if status != 503 || fmt.Sprint(body[field]) != value {
		e.t.Fatalf("with the store failing: %d %v; want 503 with %s %s", status, body, field, value)
	}
}

func TestPSD2SurvivesStoreFaults(t *testing.T) {
	e := newFaultEnv(t)
	bankAuth, partnerAuth := []string{"Authorization", "Bearer " + demoBankToken}, []string{"Authorization", "Bearer " + demoPartnerToken}
	create := `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`
	e.store.set("create")
	status, body := e.do("POST", "/v1/psd2/challenges", create, bankAuth...)
	e.want503(status, body, "code", "service_unavailable")
	e.store.set()
	status, body = e.do("POST", "/v1/psd2/challenges", create, bankAuth...)
	if status != 201 {
		t.Fatalf("create after the fault: %d %v", status, body)
	}
	id := body["id"].(string)
	for _, op := range []string{"get", "update"} {
		e.store.set(op)
		status, body = e.do("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, partnerAuth...)
		e.want503(status, body, "code", "service_unavailable")
		if r := e.record("psd2", id); r.State != "pending" || r.Version != 1 || r.Subject != "" {
			t.Fatalf("a failed PATCH (%s) changed the record: %+v", op, r)
		}
	}
	e.store.set("update")
	status, body = e.do("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-bob"}`, partnerAuth...)
	e.want503(status, body, "code", "service_unavailable")
	if r := e.record("psd2", id); r.Attempts != 0 {
		t.Fatalf("a mismatch whose save failed was counted: %+v", r)
	}
	e.store.set()
	if status, body = e.do("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, partnerAuth...); status != 200 {
		t.Fatalf("PATCH after the fault: %d %v", status, body)
	}
	e.store.set("update")
	status, body = e.do("POST", "/v1/psd2/challenges/"+id+"/second_factor", `{"result":"success"}`, bankAuth...)
	e.want503(status, body, "code", "service_unavailable")
	if r := e.record("psd2", id); r.State != "redirected" {
		t.Fatalf("a failed second factor changed the record: %+v", r)
	}
	e.store.set()
	if status, body = e.do("POST", "/v1/psd2/challenges/"+id+"/second_factor", `{"result":"success"}`, bankAuth...); status != 200 || body["status"] != "authorized" {
		t.Fatalf("second factor after the fault: %d %v", status, body)
	}
}

func TestAuthnSurvivesStoreFaults(t *testing.T) {
	e := newFaultEnv(t)
	agent := []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="} // demo-agent:demo-agent-secret
	e.store.set("create")
	status, body := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agent...)
	if status != 503 || body["statusInfo"].(map[string]any)["code"] != "SERVICE_UNAVAILABLE" {
		t.Fatalf("POST with the store failing: %d %v", status, body)
	}
	e.store.set()
	_, body = e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agent...)
	tx, nonce := body["correlationId"].(string), body["nonce"].(string)
	put := func(fields string) (int, map[string]any) {
		return e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields), agent...)
	}
	for _, op := range []string{"get", "update"} {
		e.store.set(op)
		status, body = put(`"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
		if status != 503 {
			t.Fatalf("Init with %s failing: %d %v", op, status, body)
		}
	}
	e.store.set()
	// The failed writes rotated nothing: the same nonce goes on.
	status, body = put(`"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	if status != 200 {
		t.Fatalf("Init after the faults, with the same nonce: %d %v", status, body)
	}
	nonce = body["nonce"].(string)
	code, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	e.store.set("update")
	if status, body = put(fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code)); status != 503 {
		t.Fatalf("Validate with updates failing: %d %v", status, body)
	}
	if r := e.record("authn", tx); r.State != "initiated" || r.Attempts != 0 {
		t.Fatalf("a failed Validate changed the transaction: %+v", r)
	}
	e.store.set()
	// The replay guard has claimed the code for this transaction: the same
	// code, asked again by it, passes.
	status, body = put(fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	if status != 200 || strings.Contains(fmt.Sprint(body["statusInfo"]), "not correct") {
		t.Fatalf("Validate after the fault: %d %v", status, body)
	}
}

func TestQuestionsSurviveStoreFaults(t *testing.T) {
	e := newFaultEnv(t)
	alice := []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
	path := "/api/users/" + demoAlice + "/challenges"
	newSet := `{"UserIdentificationChallenge":[{"ChallengeCode":"com.soa.challenge.question.school","Answer":"Lincoln"},
		{"ChallengeCode":"com.soa.challenge.question.color","Answer":"Green"},{"ChallengeCode":"com.soa.challenge.question.mothers.name","Answer":"Okafor"}]}`
	before := e.record("questions_enrollment", demoAlice)
	for _, op := range []string{"get", "update"} {
		e.store.set(op)
		status, body := e.do("PUT", path, newSet, alice...)
		if status != 503 || body["Code"] != float64(503) {
			t.Fatalf("PUT with %s failing: %d %v", op, status, body)
		}
		if after := e.record("questions_enrollment", demoAlice); after.Version != before.Version {
			t.Fatalf("a failed PUT (%s) changed the enrollment", op)
		}
	}
	e.store.set()
	if status, body := e.do("PUT", path, newSet, alice...); status != 200 {
		t.Fatalf("PUT after the faults: %d %v", status, body)
	}
}
