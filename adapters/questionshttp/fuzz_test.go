package questionshttp_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func fuzzAkanaPut(f *testing.F, mediaType string, seeds []string) {
	for _, s := range seeds {
		f.Add(s)
	}
	e := newAkanaEnv(f)
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("PUT", "/api/users/"+akanaAlice+"/challenges", strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: "AtmoAuthToken_" + fed, Value: "TokenID=alice-demo"})
		req.Header.Set("X-Csrf-Token_"+fed, "csrf-alice-demo")
		req.Header.Set("Content-Type", mediaType)
		req.Header.Set("Accept", mediaType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("PUT %q: status %d %s", body, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Content-Type"); got != mediaType {
			t.Fatalf("PUT %q: answered in %q", body, got)
		}
		var out struct {
			Code int
		}
		var err error
		if strings.HasSuffix(mediaType, "xml") {
			err = xml.Unmarshal(rec.Body.Bytes(), &out)
		} else {
			err = json.Unmarshal(rec.Body.Bytes(), &out)
		}
		if err != nil || rec.Code != 200 && out.Code != rec.Code {
			t.Fatalf("PUT %q: %d with body %q", body, rec.Code, rec.Body)
		}
	})
}

func FuzzAkanaPutJSON(f *testing.F) {
	fuzzAkanaPut(f, v72json, []string{akanaSample, `{}`, `[]`, `{"UserIdentificationChallenge":null}`,
		`{"UserIdentificationChallenge":[{"ChallengeCode":1}]}`, `{"UserIdentificationChallenge":[{"Answer":"\ud800"}]}`})
}

func FuzzAkanaPutXML(f *testing.F) {
	fuzzAkanaPut(f, v72xml, []string{akanaSampleXML, `<UserIdentificationChallenges/>`, `<x/>`, `<?xml version="1.0"?>`,
		`<UserIdentificationChallenges><UserIdentificationChallenge><Answer>&amp;&#0;</Answer></UserIdentificationChallenge></UserIdentificationChallenges>`})
}
