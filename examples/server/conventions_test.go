package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// exchange sends one request to the running example server and returns
// the status, the headers and the body.
func exchange(t *testing.T, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestEvery401NamesItsScheme checks that each API's 401s carry the
// WWW-Authenticate header a client needs (RFC 9110 §11.6.1): Bearer for
// PSD2 with RFC 6750's error codes, Basic for the factor transactions, and
// the session cookie's scheme for the security questions.
func TestEvery401NamesItsScheme(t *testing.T) {
	base, _, _ := startServer(t, nil, nil)
	psd2 := base + "/v1/psd2/challenges"
	const bearer = `Bearer realm="psd2"`
	for _, tc := range []struct {
		name, method, url, body string
		headers                 []string
		status                  int
		want                    string
	}{
		{"PSD2 without a token", "GET", psd2 + "/x", "", nil, 401, bearer},
		{"PSD2 with an unknown token", "GET", psd2 + "/x", "", []string{"Authorization", "Bearer not-a-known-token"}, 401,
			bearer + `, error="invalid_token", error_description="The access token is invalid."`},
		{"PSD2 with another scheme", "GET", psd2 + "/x", "", []string{"Authorization", "Basic eDp5"}, 401,
			bearer + `, error="invalid_token", error_description="The access token is invalid."`},
		{"PSD2 partner creating a challenge", "POST", psd2, `{"iban":"DE02120300000000202051","tpp_name":"t"}`,
			[]string{"Authorization", "Bearer " + demoPartnerToken, "Content-Type", "application/json"}, 403,
			bearer + `, error="insufficient_scope", error_description="The caller may not use this endpoint."`},
		{"authn without credentials", "POST", base + "/authn/v1", `{}`, nil, 401, `Basic realm="authn", charset="UTF-8"`},
		{"authn with a wrong secret", "PUT", base + "/authn/v1", `{}`, []string{"Authorization", "Basic ZGVtby1hZ2VudDpub3BlCg=="}, 401,
			`Basic realm="authn", charset="UTF-8"`},
		{"questions without a session", "GET", base + "/api/users/" + demoAlice + "/challenges", "", nil, 401,
			`Cookie realm="acmepaymentscorp", cookie-name="AtmoAuthToken_acmepaymentscorp"`},
		{"questions without the CSRF header", "PUT", base + "/api/users/" + demoAlice + "/challenges", `{}`,
			[]string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo"}, 401,
			`Cookie realm="acmepaymentscorp", cookie-name="AtmoAuthToken_acmepaymentscorp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := exchange(t, tc.method, tc.url, tc.body, tc.headers...)
			if status != tc.status || h.Get("WWW-Authenticate") != tc.want {
				t.Fatalf("%d, WWW-Authenticate %q (%s); want %d and %q", status, h.Get("WWW-Authenticate"), body, tc.status, tc.want)
			}
		})
	}
	// A refusal that is not about credentials names no scheme.
	if status, h, _ := exchange(t, "GET", psd2+"/x", "", "Authorization", "Bearer "+demoPartnerToken); status != 404 || h.Get("WWW-Authenticate") != "" {
		t.Errorf("404 for an unknown challenge: %d, WWW-Authenticate %q; want none", status, h.Get("WWW-Authenticate"))
	}
}

// TestAnswersComeInTheTypeTheClientAsksFor checks content negotiation as
// curl and other clients do it: a body sent in XML is answered in XML
// when Accept leaves the choice open (curl sends "*/*"), q=0 excludes a
// type, and an Accept nothing can satisfy is a 406 in JSON.
func TestAnswersComeInTheTypeTheClientAsksFor(t *testing.T) {
	base, _, _ := startServer(t, nil, nil)
	const agent = "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA==" // demo-agent:demo-agent-secret
	xmlBegin := `<AuthnRequest><userInfo><userId>alice</userId></userInfo></AuthnRequest>`
	catalog := base + "/api/businesses/acmepaymentscorp/challenges"
	for _, tc := range []struct {
		name, method, url, body string
		headers                 []string
		status                  int
		contentType             string
		bodyPrefix              string
	}{
		{"authn XML without Accept", "POST", base + "/authn/v1", xmlBegin,
			[]string{"Authorization", agent, "Content-Type", "application/xml"}, 200, "application/xml", "<?xml"},
		{"authn XML with curl's Accept", "POST", base + "/authn/v1", xmlBegin,
			[]string{"Authorization", agent, "Content-Type", "application/xml", "Accept", "*/*"}, 200, "application/xml", "<?xml"},
		{"authn XML asking for JSON", "POST", base + "/authn/v1", xmlBegin,
			[]string{"Authorization", agent, "Content-Type", "application/xml", "Accept", "application/json"}, 200, "application/json", "{"},
		{"authn JSON excluding JSON", "POST", base + "/authn/v1", `{"userInfo":{"userId":"alice"}}`,
			[]string{"Authorization", agent, "Content-Type", "application/json", "Accept", "application/json;q=0, */*"}, 200, "application/xml", "<?xml"},
		{"authn error in XML for an XML request", "PUT", base + "/authn/v1", `<UpdateAuthnRequest><challengeop>Init</challengeop></UpdateAuthnRequest>`,
			[]string{"Authorization", agent, "Content-Type", "application/xml", "Accept", "*/*"}, 400, "application/xml", "<?xml"},
		{"catalog excluding JSON", "GET", catalog, "", []string{"Accept", "application/json;q=0, */*"}, 200, "application/xml", "<?xml"},
		{"catalog preferring a versioned type", "GET", catalog, "",
			[]string{"Accept", "application/json;q=0.5, application/vnd.soa.v81+xml"}, 200, "application/vnd.soa.v81+xml", "<?xml"},
		{"catalog with nothing acceptable", "GET", catalog, "", []string{"Accept", "text/html, application/json;q=0"}, 406, "application/json", "{"},
		{"questions XML PUT with curl's Accept", "PUT", base + "/api/users/" + demoAlice + "/challenges",
			`<UserIdentificationChallenges><UserIdentificationChallenge><ChallengeCode>nope</ChallengeCode><Answer>x</Answer></UserIdentificationChallenge></UserIdentificationChallenges>`,
			[]string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo",
				"Content-Type", "application/xml", "Accept", "*/*"}, 400, "application/xml", "<?xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := exchange(t, tc.method, tc.url, tc.body, tc.headers...)
			if status != tc.status || h.Get("Content-Type") != tc.contentType || !strings.HasPrefix(body, tc.bodyPrefix) {
				t.Fatalf("%d %s %.200s; want %d %s", status, h.Get("Content-Type"), body, tc.status, tc.contentType)
			}
		})
	}
}

// TestVaryNamesWhatTheAnswerDependsOn checks the Vary header: the
// negotiating APIs name Accept and Content-Type, PSD2 (JSON only) none.
func TestVaryNamesWhatTheAnswerDependsOn(t *testing.T) {
	base, _, _ := startServer(t, nil, nil)
	if _, h, _ := exchange(t, "GET", base+"/api/businesses/acmepaymentscorp/challenges", ""); h.Get("Vary") != "Accept, Content-Type" {
		t.Errorf("catalog GET: Vary %q", h.Values("Vary"))
	}
	if _, h, _ := exchange(t, "GET", base+"/v1/psd2/challenges/x", "", "Authorization", "Bearer "+demoPartnerToken); len(h.Values("Vary")) != 0 {
		t.Errorf("PSD2: Vary %q; want none, PSD2 answers JSON whatever the request says", h.Values("Vary"))
	}
}
