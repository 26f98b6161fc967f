package authnhttp_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/authnhttp"
	"github.com/challengekit/challengekit/adapters/internal/httpkittest"
	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/push"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

const (
	agentID     = "demo-agent"
	agentSecret = "demo-agent-secret"
	totpSecret  = "JBSWY3DPEHPK3PXP"
)

type codeBox struct {
	mu   sync.Mutex
	last string
}

func (b *codeBox) SendCode(_ context.Context, _, _, code string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = code
	return nil
}

func (b *codeBox) Notify(context.Context, string, authn.Registration, string) error { return nil }

type authnEnv struct {
	t     testing.TB
	srv   *httptest.Server
	clock *challengetest.FakeClock
	box   *codeBox
	logs  *challengetest.LogBuffer
}

func newAuthnEnv(t testing.TB) *authnEnv {
	t.Helper()
	logs := &challengetest.LogBuffer{}
	return newAuthnEnvLogging(t, logs, zerolog.New(logs).Level(zerolog.DebugLevel))
}

// newAuthnEnvLogging builds the environment with its own logger; benchmarks
// log at info level to a sink that keeps nothing, as a production server
// would cost.
func newAuthnEnvLogging(t testing.TB, logs *challengetest.LogBuffer, logger zerolog.Logger) *authnEnv {
	t.Helper()
	e := &authnEnv{t: t, clock: challengetest.NewClock(), box: &codeBox{}, logs: logs}
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	totpFactor, _ := totp.New(store, totp.Options{Clock: e.clock})
	email, _ := otpcode.New(otpcode.EmailKey, e.box, []byte(strings.Repeat("s", 32)), otpcode.Options{Clock: e.clock})
	pushFactor, _ := push.New(e.box)
	registry := authn.NewMemoryRegistry(map[string][]authn.Registration{
		"alice": {{FactorKey: totp.Key, Secret: totpSecret, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Phone"}}}, {FactorKey: push.Key}},
		"bob":   {{FactorKey: otpcode.EmailKey, Destination: "bob@example.com"}},
		"carol": nil,
		"erin": {{FactorKey: push.Key, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Tablet"},
			{Key: "device.platform", Value: "ios"}, {Key: "device.app", Value: "Authenticator"}}}},
	})
	svc, err := authn.NewService(store, registry, []authn.Factor{totpFactor, email, pushFactor}, authn.Options{Engine: challenge.EngineOptions{Clock: e.clock, Logger: logger}})
	if err != nil {
		t.Fatal(err)
	}
	agents, err := authnhttp.NewStaticAgents(map[string]string{agentID: agentSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := authnhttp.New(svc, agents, authnhttp.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httpkittest.Serve(t, h, nil)
	return e
}

type authnReply struct {
	status        int
	contentType   string
	raw           string
	CorrelationID string `json:"correlationId" xml:"correlationId"`
	Nonce         string `json:"nonce" xml:"nonce"`
	StatusInfo    struct {
		Code    string `json:"code" xml:"code"`
		Message string `json:"message" xml:"message"`
		Status  string `json:"status" xml:"status"`
	} `json:"statusInfo" xml:"statusInfo"`
	ChallengeInfo []struct {
		FactorContext struct {
			FactorKey string `json:"factorKey" xml:"factorKey"`
			Passive   bool   `json:"passive" xml:"passive"`
		} `json:"factorContext" xml:"factorContext"`
		ChallengeAttrMap []authnTestKV `json:"challengeAttrMap" xml:"challengeAttrMap"`
		Prompts          []authnTestKV `json:"prompts" xml:"prompts"`
	} `json:"challengeInfo" xml:"challengeInfo"`
}

type authnTestKV struct {
	Key   string `json:"key" xml:"key"`
	Value string `json:"value" xml:"value"`
}

// send makes a request with the demo agent's Basic credentials unless
// headers set Authorization ("" removes it).
func (e *authnEnv) send(method, body string, headers ...string) authnReply {
	e.t.Helper()
	r := e.sendRaw(method, body, headers...)
	raw := r.raw
	var err error
	if strings.HasSuffix(r.contentType, "xml") {
		err = xml.Unmarshal([]byte(raw), &r)
	} else {
		err = json.Unmarshal([]byte(raw), &r)
	}
	if err != nil {
		e.t.Fatalf("%s: %s body %q: %v", method, r.contentType, raw, err)
	}
	return r
}

// sendRaw is send without decoding the answer: status, type and body.
func (e *authnEnv) sendRaw(method, body string, headers ...string) authnReply {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+"/authn/v1", strings.NewReader(body))
	req.SetBasicAuth(agentID, agentSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, raw := httpkittest.Exchange(e.t, e.srv, req, headers...)
	return authnReply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: raw}
}

func (e *authnEnv) begin(user string) authnReply {
	e.t.Helper()
	return e.send("POST", fmt.Sprintf(`{"userInfo":{"userId":%q}}`, user))
}

func (e *authnEnv) put(r authnReply, fields string) authnReply {
	e.t.Helper()
	return e.send("PUT", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, r.CorrelationID, r.Nonce, fields))
}

func (e *authnEnv) code() string {
	code, _ := otptotp.GenerateCode(totpSecret, e.clock.Now())
	return code
}

func (e *authnEnv) want(r authnReply, status int, wireStatus, code string) {
	e.t.Helper()
	if r.status != status || r.StatusInfo.Status != wireStatus || r.StatusInfo.Code != code {
		e.t.Fatalf("got %d %q/%q, want %d %q/%q: %s", r.status, r.StatusInfo.Status, r.StatusInfo.Code, status, wireStatus, code, r.raw)
	}
}

func TestAuthnTOTPLoginOverHTTP(t *testing.T) {
	e := newAuthnEnv(t)
	r := e.begin("alice")
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	if len(r.ChallengeInfo) != 2 || r.ChallengeInfo[0].FactorContext.FactorKey != "ChallengeOMATOTP" || !r.ChallengeInfo[0].FactorContext.Passive ||
		r.ChallengeInfo[0].ChallengeAttrMap[0].Value != "Phone" || !strings.Contains(r.raw, `"cookies":[]`) || !strings.Contains(r.raw, `"requestParams":[]`) {
		t.Fatalf("POST: %s", r.raw)
	}
	r = e.put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP","factorAttributes":[]}`)
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	if r.ChallengeInfo[0].Prompts[0].Key != "otp" {
		t.Fatalf("Init: %s", r.raw)
	}
	r = e.put(r, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, e.code()))
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	r = e.put(r, `"challengeop":"Finalize","challengeResult":"Success"`)
	e.want(r, 200, "authenticated", "AUTHN_SUCCESS")
	closed := e.put(r, `"challengeop":"Finalize","challengeResult":"Success"`)
	e.want(closed, 400, "error", "TRANSACTION_CLOSED")
}

func TestAuthnEveryWireStatus(t *testing.T) {
	e := newAuthnEnv(t)
	e.want(e.begin("carol"), 200, "missing registration", "AUTHN_NOT_REGISTERED")
	e.want(e.begin("mallory"), 200, "pending identification", "AUTHN_UNKNOWN_USER")
	e.want(e.send("POST", `{}`), 200, "pending identification", "AUTHN_UNKNOWN_USER")
	for result, want := range map[string]string{"Failure": "failed", "Error": "error"} {
		r := e.put(e.begin("alice"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMAPUSH"}`)
		r = e.put(r, fmt.Sprintf(`"challengeop":"Finalize","challengeResult":%q,"challengeResultReason":"user_abandoned"`, result))
		if r.status != 200 || r.StatusInfo.Status != want || r.StatusInfo.Message != "user_abandoned" {
			t.Fatalf("Finalize %s: %s", result, r.raw)
		}
	}
	r := e.put(e.begin("alice"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	for i := 1; i <= 3; i++ {
		r = e.put(r, `"challengeop":"Validate","challengeAnswer":"000000"`)
		if i < 3 {
			e.want(r, 200, "pending verification", "AUTHN_PENDING")
			if !strings.Contains(r.StatusInfo.Message, "not correct") {
				t.Fatalf("wrong answer %d: %s", i, r.raw)
			}
		}
	}
	e.want(r, 200, "challenge blocked", "AUTHN_BLOCKED")
}

func TestAuthnRequestErrors(t *testing.T) {
	e := newAuthnEnv(t)
	r := e.put(e.begin("alice"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMAPUSH"}`)
	bad := func(got authnReply, status int, code, message string) {
		t.Helper()
		if got.status != status || got.StatusInfo.Code != code || got.StatusInfo.Status != "error" || got.StatusInfo.Message != message {
			t.Fatalf("got %d %s; want %d %s %q", got.status, got.raw, status, code, message)
		}
	}
	bad(e.put(r, `"challengeop":"Verify"`), 400, "INVALID_REQUEST", "challengeop: must be one of Init Validate Finalize")
	bad(e.send("PUT", fmt.Sprintf(`{"correlationId":%q,"challengeop":"Validate","challengeAnswer":"x"}`, r.CorrelationID)), 400, "INVALID_REQUEST", "nonce: is required")
	bad(e.put(r, `"challengeop":"Init"`), 400, "INVALID_REQUEST", "challengedata: is required")
	bad(e.put(r, `"challengeop":"Init","challengedata":{}`), 400, "INVALID_REQUEST", "challengedata.factorKey: is required")
	bad(e.put(r, `"challengeop":"Validate","challengeAnswer":"x"`), 400, "INVALID_REQUEST",
		"challengeop: Validate is for passive factors only; report the outcome with Finalize")
	bad(e.put(r, `"challengeop":"Finalize","challengeResult":"Failure"`), 400, "INVALID_REQUEST",
		"challengeResultReason: is required with Failure and Error, and must be a known reason")
	stale := r
	stale.Nonce = "not-the-latest"
	bad(e.put(stale, `"challengeop":"Finalize","challengeResult":"Success"`), 400, "INVALID_NONCE", "nonce: is missing, stale or already used")
	bad(e.send("PUT", `{"correlationId":"no-such-tx","challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}}`), 404, "NOT_FOUND", "Unknown correlationId.")
	bad(e.send("PUT", `{}`, "Authorization", ""), 401, "UNAUTHORIZED", "The agent's credentials are missing.")
	bad(e.send("POST", `{}`, "Authorization", "Basic ZGVtby1hZ2VudDp3cm9uZw=="), 401, "UNAUTHORIZED", "The agent's credentials are not valid.")
	bad(e.send("POST", `{"userInfo":`, "Authorization", ""), 401, "UNAUTHORIZED", "The agent's credentials are missing.")
	bad(e.send("POST", `{}`, "Content-Type", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json or application/xml.")
	bad(e.send("POST", `{}`, "Accept", "text/html"), 406, "NOT_ACCEPTABLE", "Accept must allow application/json or application/xml.")
	bad(e.send("DELETE", ``), 405, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource.")
	// Lengths count bytes: 100 characters of three bytes each are too long.
	bad(e.send("POST", `{"userInfo":{"userId":"`+strings.Repeat("€", 100)+`"}}`), 400, "INVALID_REQUEST", "userInfo.userId: must be at most 256 bytes")
	// The TTL's range is authn's rule, whatever the number.
	for _, ttl := range []string{"0", "-5", "3601", "18446744074", "9223372036854775807"} {
		bad(e.send("POST", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":`+ttl+`}`), 400, "INVALID_REQUEST", "timeToLiveInSec: must be between 1 and 3600")
	}
	// The latest nonce survived every refusal, and still finalizes once.
	e.want(e.put(r, `"challengeop":"Finalize","challengeResult":"Success"`), 200, "authenticated", "AUTHN_SUCCESS")
}

func TestAuthnClientInfoAndExpiry(t *testing.T) {
	e := newAuthnEnv(t)
	r := e.send("POST", `{"clientInfo":{"clientId":"demo-agent","clientSecret":"demo-agent-secret"},"userInfo":{"userId":"bob"},"timeToLiveInSec":60}`, "Authorization", "")
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	e.clock.Advance(time.Minute)
	got := e.put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
	e.want(got, 401, "failed", "expired")
	if got.CorrelationID != r.CorrelationID {
		t.Fatalf("the expired answer lacks the correlationId: %s", got.raw)
	}
}

func TestAuthnXMLRoundTrip(t *testing.T) {
	e := newAuthnEnv(t)
	xmlHeaders := []string{"Content-Type", "application/xml", "Accept", "application/xml"}
	r := e.send("POST", `<AuthnRequest><userInfo><userId>bob</userId></userInfo></AuthnRequest>`, xmlHeaders...)
	if r.contentType != "application/xml" || !strings.Contains(r.raw, "<UpdateAuthnResponse><correlationId>") {
		t.Fatalf("POST in XML: %s", r.raw)
	}
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	r = e.send("PUT", fmt.Sprintf(`<UpdateAuthnRequest><correlationId>%s</correlationId><nonce>%s</nonce><challengeop>Init</challengeop>`+
		`<challengedata><factorKey>ChallengeEmail</factorKey></challengedata></UpdateAuthnRequest>`, r.CorrelationID, r.Nonce), xmlHeaders...)
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	if len(r.ChallengeInfo) != 1 || !strings.Contains(r.ChallengeInfo[0].Prompts[0].Value, "b***@example.com") {
		t.Fatalf("Init in XML: %s", r.raw)
	}
	r = e.send("PUT", fmt.Sprintf(`<x><correlationId>%s</correlationId><nonce>%s</nonce><challengeop>Validate</challengeop><challengeAnswer>%s</challengeAnswer></x>`,
		r.CorrelationID, r.Nonce, e.box.last), xmlHeaders...)
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	r = e.send("PUT", `<x><correlationId>a</correlationId><challengeop>Nope</challengeop></x>`, xmlHeaders...)
	if r.status != 400 || !strings.Contains(r.raw, "<AuthnAPIResponse><statusInfo><code>INVALID_REQUEST</code><message>challengeop: must be one of Init Validate Finalize</message>") {
		t.Fatalf("400 in XML: %s", r.raw)
	}
}

func TestAuthnLogsNoSecret(t *testing.T) {
	e := newAuthnEnv(t)
	r := e.put(e.begin("alice"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	code := e.code()
	w := e.put(r, `"challengeop":"Validate","challengeAnswer":"246802"`)
	e.put(w, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	e.put(r, `"challengeop":"Finalize","challengeResult":"Success"`) // a stale nonce, refused
	e.send("POST", `{}`, "Authorization", "Basic ZGVtby1hZ2VudDpndWVzc2VkLXNlY3JldA==")
	b := e.put(e.begin("bob"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
	e.put(b, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, e.box.last))
	logs := e.logs.String()
	if !strings.Contains(logs, `"status":400`) || !strings.Contains(logs, `"status":401`) {
		t.Fatalf("the refusals were not logged; the test proves nothing:\n%s", logs)
	}
	for _, secret := range []string{code, "246802", e.box.last, r.Nonce, w.Nonce, b.Nonce, agentSecret, "guessed-secret", totpSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestAuthnInitAfterASatisfiedFactorIsRefused(t *testing.T) {
	e := newAuthnEnv(t)
	r := e.put(e.begin("bob"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
	r = e.put(r, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, e.box.last))
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	sent := e.box.last
	again := e.put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
	if again.status != 400 || again.StatusInfo.Code != "INVALID_REQUEST" || !strings.HasPrefix(again.StatusInfo.Message, "challengeop: ") {
		t.Fatalf("Init after the factor was satisfied: %d %s", again.status, again.raw)
	}
	if e.box.last != sent {
		t.Fatal("a refused Init still sent a code")
	}
	e.want(e.put(r, `"challengeop":"Finalize","challengeResult":"Success"`), 200, "authenticated", "AUTHN_SUCCESS")
}

func TestAuthnNamesTheMethodsItTakes(t *testing.T) {
	e := newAuthnEnv(t)
	req, _ := http.NewRequest("DELETE", e.srv.URL+"/authn/v1", nil)
	if resp, raw := httpkittest.Exchange(t, e.srv, req); resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST, PUT" {
		t.Fatalf("DELETE /authn/v1: %d, Allow %q, %s; want 405 and Allow POST, PUT", resp.StatusCode, resp.Header.Get("Allow"), raw)
	}
}
