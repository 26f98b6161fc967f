package psd2http_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/psd2http"
)

// FuzzPSD2PatchBody sends arbitrary bodies to PATCH on a fresh challenge:
// every answer is a documented status with a JSON body, never a 5xx.
func FuzzPSD2PatchBody(f *testing.F) {
	for _, seed := range []string{
		`{"person_id":"dc1a6812a14f6cc338cd084208535bcdcper"}`, // Solaris' documented example
		`{"person_id":"p-alice"}`, `{"person_id":"p-bob"}`, `{}`, `{"person_id":null}`, `[]`, `null`, `"x"`,
		`{"person_id":"p-alice","person_id":"p-bob"}`, `{"person_id":"\u0000"}`, "{\"person_id\":\"\xff\"}",
		`{"person_id":{"a":[[[[[]]]]]}}`,
	} {
		f.Add(seed)
	}
	// Logs go through the encoder but are not kept, and the clock moves past
	// TTL and retention now and then: a long fuzz run must not slow down
	// as a log buffer and the store grow.
	e := newPSD2EnvLogging(f, psd2http.Options{}, nil, zerolog.New(io.Discard).Level(zerolog.DebugLevel))
	handler := e.srv.Config.Handler
	allowed := map[int]bool{200: true, 400: true, 403: true, 413: true}
	runs := 0
	f.Fuzz(func(t *testing.T, body string) {
		if runs++; runs%4096 == 0 {
			e.clock.Advance(2 * time.Hour)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/psd2/challenges", strings.NewReader(`{"iban":"`+aliceIBAN+`","tpp_name":"fuzz"}`))
		req.Header.Set("Authorization", "Bearer "+bank)
		handler.ServeHTTP(rec, req)
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		req = httptest.NewRequest("PATCH", "/v1/psd2/challenges/"+created.ID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+partner)
		handler.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("PATCH %q: status %d %s", body, rec.Code, rec.Body)
		}
		var out map[string]any
		if rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("PATCH %q: not a JSON answer: %q", body, rec.Body)
		}
		if rec.Code != http.StatusOK && (out["code"] == nil || out["id"] == nil) {
			t.Fatalf("PATCH %q: %d without the error envelope: %s", body, rec.Code, rec.Body)
		}
	})
}
