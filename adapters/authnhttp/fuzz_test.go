package authnhttp_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzAuthn sends arbitrary bodies to method /authn/v1 as the demo agent:
// every answer is a documented status in the negotiated format, never a 5xx.
func fuzzAuthn(f *testing.F, method string, seeds []string) {
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	e := newAuthnEnv(f)
	h := e.srv.Config.Handler
	allowed := map[int]bool{200: true, 400: true, 401: true, 404: true, 413: true}
	f.Fuzz(func(t *testing.T, body string, asXML bool) {
		mt := "application/json"
		if asXML {
			mt = "application/xml"
		}
		req := httptest.NewRequest(method, "/authn/v1", strings.NewReader(body))
		req.SetBasicAuth(agentID, agentSecret)
		req.Header.Set("Content-Type", mt)
		req.Header.Set("Accept", mt)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] || rec.Header().Get("Content-Type") != mt {
			t.Fatalf("%s %q: %d %s %s", method, body, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		var out struct {
			StatusInfo struct {
				Status string `json:"status" xml:"status"`
			} `json:"statusInfo" xml:"statusInfo"`
		}
		var err error
		if asXML {
			err = xml.Unmarshal(rec.Body.Bytes(), &out)
		} else {
			err = json.Unmarshal(rec.Body.Bytes(), &out)
		}
		if err != nil || out.StatusInfo.Status == "" {
			t.Fatalf("%s %q: %d without a statusInfo: %s", method, body, rec.Code, rec.Body)
		}
	})
}

func FuzzAuthnPost(f *testing.F) {
	fuzzAuthn(f, "POST", []string{
		`{"clientInfo":{"clientId":"demo-agent","clientSecret":"demo-agent-secret","ctype":"RADIUS"},"userInfo":{"userId":"alice","groupId":"staff"},"context":{"ip":"10.0.0.1"},"timeToLiveInSec":120}`,
		`{"userInfo":{"userId":"bob"}}`, `{}`, `{"timeToLiveInSec":-1}`, `{"userInfo":"x"}`,
		`<r><userInfo><userId>alice</userId></userInfo><timeToLiveInSec>60</timeToLiveInSec></r>`,
		`{"userInfo":{"userId":"load-61","userId":"alice"}}`, `{"userInfo":{"userId":"x","UserId":"alice"}}`,
		`{"context":{"ipAddress":"2001:db8::1"},"timeToLiveInSec":18446744074}`, "{\"userInfo\":{\"userId\":\"\xff\"}}",
		`<r><userInfo><userId>a</userId><userId>b</userId></userInfo><context><ipAddress>10.0.0.1</ipAddress></context></r>`,
	})
}

func FuzzAuthnPut(f *testing.F) {
	fuzzAuthn(f, "PUT", []string{
		`{"correlationId":"c1","challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP","factorAttributes":[{"name":"a","value":"b"}]}}`,
		`{"correlationId":"c1","challengeop":"Validate","nonce":"n","challengeAnswer":"123456"}`,
		`{"correlationId":"c1","challengeop":"Finalize","nonce":"n","challengeResult":"Failure","challengeResultReason":"wrong_answer"}`,
		`{"challengeop":"Init Validate Finalize"}`, `[]`,
		`<x><correlationId>c1</correlationId><challengeop>Init</challengeop><challengedata><factorKey>ChallengeEmail</factorKey></challengedata></x>`,
		`{"correlationId":"c1","challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP","factorAttributes":[{"name":"a","value":{"x":"1","y":"2"}}]}}`,
		`<x><correlationId>c1</correlationId><challengeop>Init</challengeop><challengedata><factorKey>ChallengeEmail</factorKey><factorAttributes><name>a</name><value><x>1</x>t</value></factorAttributes></challengedata></x>`,
	})
}
