package main

import (
	"bufio"
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
// format, never a 5xx, and a challenge created first is left as it was.
func TestHostileRequestsGetA4xxAndChangeNothing(t *testing.T) {
	e := newFaultEnv(t)
	bank := []string{"Authorization", "Bearer " + demoBankToken}
	partner := []string{"Authorization", "Bearer " + demoPartnerToken}
	agent := []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="}
	alice := []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
	_, created := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`, bank...)
	id := created["id"].(string)
	before := e.record("psd2", id)

	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObject := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
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
		{"XML with a DOCTYPE", "PUT", "/api/users/" + demoAlice + "/challenges", `<!DOCTYPE x SYSTEM "file:///etc/passwd"><UserIdentificationChallenges>&x;</UserIdentificationChallenges>`,
			append([]string{"Content-Type", "application/xml"}, alice...)},
		{"an oversized body", "PUT", "/api/users/" + demoAlice + "/challenges", `{"UserIdentificationChallenge":[` + strings.Repeat(`{"ChallengeCode":"a","Answer":"b"},`, 5000) + `{}]}`, alice},
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
	// Two of the requests are well-formed PATCHes naming someone who does not
	// own the IBAN (the duplicate key resolves to the last value; invalid
	// UTF-8 decodes to U+FFFD): they count as failed attempts, as they must.
	// Nothing else may have changed.
	after := e.record("psd2", id)
	if after.State != before.State || after.Subject != "" || after.Attempts != 2 || string(after.Data) != string(before.Data) {
		t.Fatalf("the hostile requests changed the challenge beyond two counted attempts: %+v", after)
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
