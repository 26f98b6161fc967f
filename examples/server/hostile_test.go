package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHostileRequestsGetA4xxAndChangeNothing sends malformed and hostile
// requests to every API: each is answered with a 4xx in its endpoint's
// format, never a 5xx, and a challenge created first is left exactly as it
// was.
func TestHostileRequestsGetA4xxAndChangeNothing(t *testing.T) {
	e := newFaultEnv(t)
	bank := []string{"Authorization", "Bearer " + demoBankToken}
	partner := []string{"Authorization", "Bearer " + demoPartnerToken}
	agent := []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="}
	alice := []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
	_, created := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`, bank...)
	id := created["id"].(string)
	before := e.record("psd2", id)
	enrolled := e.record("questions_enrollment", demoAlice)

	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObject := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
	xmlAlice := append([]string{"Content-Type", "application/xml"}, alice...)
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
	}{
		{"deeply nested JSON (PSD2)", "PATCH", "/v1/psd2/challenges/" + id, deep, partner},
		{"deeply nested JSON (authn)", "POST", "/authn/v1", deepObject, agent},
		{"deeply nested JSON (questions)", "PUT", "/api/users/" + demoAlice + "/challenges", deep, alice},
		{"duplicate keys", "PATCH", "/v1/psd2/challenges/" + id, `{"person_id":"p-bob","person_id":"p-nobody"}`, partner},
		{"invalid UTF-8 in a body", "PATCH", "/v1/psd2/challenges/" + id, "{\"person_id\":\"p-\xff\xfe\"}", partner},
		{"invalid UTF-8 in a path", "GET", "/v1/psd2/challenges/%ff%fe", "", partner},
		{"a huge path id", "PATCH", "/v1/psd2/challenges/" + strings.Repeat("x", 60_000), `{"person_id":"p-alice"}`, partner},
		{"a huge correlationId", "PUT", "/authn/v1", `{"correlationId":"` + strings.Repeat("x", 10_000) + `","challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}}`, agent},
		{"a number where a string goes", "PUT", "/authn/v1", `{"correlationId":1,"challengeop":"Init"}`, agent},
		{"a NUL in a JSON string", "POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"A\u0000B"}`, bank},
		{"XML with a DOCTYPE", "PUT", "/api/users/" + demoAlice + "/challenges", `<!DOCTYPE x SYSTEM "file:///etc/passwd"><UserIdentificationChallenges>&x;</UserIdentificationChallenges>`, xmlAlice},
		{"an oversized body", "PUT", "/api/users/" + demoAlice + "/challenges", `{"UserIdentificationChallenge":[` + strings.Repeat(`{"ChallengeCode":"a","Answer":"b"},`, 5000) + `{}]}`, alice},
		{"a repeated XML element", "PUT", "/api/users/" + demoAlice + "/challenges", `<UserIdentificationChallenges><UserIdentificationChallenge>
			<ChallengeCode>com.soa.challenge.question.color</ChallengeCode><Answer>Green</Answer><Answer>Purple</Answer>
			</UserIdentificationChallenge></UserIdentificationChallenges>`, xmlAlice},
		{"invalid UTF-8 in XML", "PUT", "/api/users/" + demoAlice + "/challenges", "<UserIdentificationChallenges><UserIdentificationChallenge>" +
			"<ChallengeCode>com.soa.challenge.question.color</ChallengeCode><Answer>Gr\xffen</Answer></UserIdentificationChallenge></UserIdentificationChallenges>", xmlAlice},
		{"a lone surrogate escape", "PATCH", "/v1/psd2/challenges/" + id, `{"person_id":"p-\udc00"}`, partner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Fatalf("%d %.300s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "json") && !strings.Contains(ct, "xml") {
				t.Fatalf("answered in %q: %.300s", ct, rec.Body)
			}
		})
	}
	after := e.record("psd2", id)
	if after.Version != before.Version || after.Attempts != 0 || string(after.Data) != string(before.Data) {
		t.Fatalf("the hostile requests changed the challenge: %+v", after)
	}
	if got := e.record("questions_enrollment", demoAlice); got.Version != enrolled.Version {
		t.Fatal("the hostile requests changed alice's answers")
	}
}

// TestOneBodyHasOneReading: a body that parsers could read two ways (a
// repeated member, a member in another case, a number out of range) is
// refused with the field named, or read the one strict way.
func TestOneBodyHasOneReading(t *testing.T) {
	e := newFaultEnv(t)
	message := func(body map[string]any) string { return str(body, "statusInfo", "message") }
	for _, tc := range []struct {
		name, body, want string
	}{
		{"a repeated member", `{"userInfo":{"userId":"load-61","userId":"alice"}}`, `userInfo.userId: is given more than once`},
		{"a repeated object", `{"userInfo":{"userId":"alice"},"userInfo":{"userId":"bob"}}`, `userInfo: is given more than once`},
		{"a lifetime that would wrap", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":18446744074}`, `timeToLiveInSec: must be between 1 and 3600`},
		{"a lifetime too long", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":3601}`, `timeToLiveInSec: must be between 1 and 3600`},
		{"a zero lifetime", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":0}`, `timeToLiveInSec: must be between 1 and 3600`},
		{"a negative lifetime", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":-5}`, `timeToLiveInSec: must be between 1 and 3600`},
		{"a lifetime beyond int64", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":1e30}`, `timeToLiveInSec: must be an integer in range`},
		{"an address that is none", `{"userInfo":{"userId":"alice"},"context":{"ipAddress":"localhost"}}`, `context.ipAddress: is not an IP address`},
		{"invalid UTF-8", "{\"userInfo\":{\"userId\":\"al\xffice\"}}", `Request body is not valid UTF-8.`},
	} {
		status, body := e.do("POST", "/authn/v1", tc.body, agentAuth...)
		if status != 400 || message(body) != tc.want {
			t.Errorf("%s: %d %v; want 400 %q", tc.name, status, body, tc.want)
		}
	}
	// Member names match exactly: "UserId" is not "userId" and is ignored.
	status, body := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"nobody-we-know","UserId":"alice"}}`, agentAuth...)
	if status != 200 || str(body, "statusInfo", "status") != "pending identification" {
		t.Fatalf("a member in another case: %d %v; want it ignored", status, body)
	}
	// XML alike: a repeated element is named.
	rec := e.exchange("POST", "/authn/v1", `<AuthnRequest><userInfo><userId>load-61</userId><userId>alice</userId></userInfo></AuthnRequest>`,
		append([]string{"Content-Type", "application/xml"}, agentAuth...)...)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "<message>AuthnRequest.userInfo.userId: is given more than once</message>") {
		t.Fatalf("a repeated XML element: %d %s", rec.Code, rec.Body)
	}
	// A lifetime in range is taken.
	if status, body := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"},"timeToLiveInSec":60}`, agentAuth...); status != 200 {
		t.Fatalf("a lifetime of 60 s: %d %v", status, body)
	}
}

// TestEveryPathUnderTheAPIsAnswersTheAPIsOwn404: paths under the APIs'
// prefixes that name no resource, whatever their spelling, get the API's
// JSON 404, never a redirect or plain text.
func TestEveryPathUnderTheAPIsAnswersTheAPIsOwn404(t *testing.T) {
	e := newFaultEnv(t)
	_, c := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`, bankAuth...)
	id := c["id"].(string)
	for _, tc := range []struct {
		method, path, field, want string
		headers                   []string
	}{
		{"GET", "/V1/psd2/challenges/" + id, "code", "model_not_found", partnerAuth},
		{"GET", "/v1/PSD2/challenges/" + id, "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2/challenges/" + id + "/", "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2//challenges/" + id, "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2/./challenges/" + id, "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2/x/../challenges/" + id, "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2", "code", "model_not_found", partnerAuth},
		{"GET", "/v1/psd2/Challenges/" + id, "code", "model_not_found", partnerAuth},
		{"POST", "/authn/v1/", "statusInfo", "NOT_FOUND", agentAuth},
		{"POST", "/AUTHN/v1", "statusInfo", "NOT_FOUND", agentAuth},
		{"POST", "//authn/v1", "statusInfo", "NOT_FOUND", agentAuth},
		{"POST", "/authn/v1/extra", "statusInfo", "NOT_FOUND", agentAuth},
		{"GET", "/api/users/" + demoAlice + "/challenges/", "Code", "404", aliceAuth},
		{"GET", "/API/users/" + demoAlice + "/challenges", "Code", "404", aliceAuth},
		{"GET", "/api/users/" + demoAlice + "//challenges", "Code", "404", aliceAuth},
		{"GET", "/api/businesses/acmepaymentscorp/challenges/more", "Code", "404", nil},
	} {
		req := httptest.NewRequest(tc.method, "/", strings.NewReader(`{}`))
		req.URL.Path = tc.path // as sent, not cleaned
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		var body map[string]any
		err := json.Unmarshal(rec.Body.Bytes(), &body)
		got := fmt.Sprint(body[tc.field])
		if m, ok := body[tc.field].(map[string]any); ok {
			got = fmt.Sprint(m["code"])
		}
		if rec.Code != 404 || err != nil || got != tc.want || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q %s; want the API's JSON 404", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

// TestHeaderFloodIsRefusedAndTheServerStaysUp sends headers beyond the
// server's limit on a raw connection: net/http refuses them (431, before
// any handler runs, so in its own plain text), and the server goes on.
func TestHeaderFloodIsRefusedAndTheServerStaysUp(t *testing.T) {
	base, _, _ := startServer(t, nil, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	for i := range 2000 {
		fmt.Fprintf(conn, "X-Flood-%d: %s\r\n", i, strings.Repeat("a", 100))
	}
	fmt.Fprint(conn, "\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "431") {
		t.Fatalf("a header flood got %q (%v); want 431", status, err)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the server after a header flood: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSlowClientsAreCutOff opens a connection and sends its headers too
// slowly: the server drops it after its header timeout and goes on serving.
func TestSlowClientsAreCutOff(t *testing.T) {
	base, _, _ := startServer(t, []string{"-read-header-timeout", "300ms"}, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	// The read returns when the server gives up on the connection; the
	// deadline only keeps a broken server from hanging the test.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server kept a connection whose headers never came")
			}
			break // closed by the server
		}
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the server after a slow client: %v %v", resp, err)
	}
	resp.Body.Close()
}
