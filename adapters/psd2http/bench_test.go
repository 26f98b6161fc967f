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
	"github.com/challengekit/challengekit/internal/bareserver"
)

// BenchmarkPSD2 measures requests through the PSD2 handlers against the
// baseline of a bare net/http handler that decodes and encodes the same
// JSON: the ratio of their times is the throughput the library keeps.
// "patch" is a PATCH the challenge has already answered (the read path);
// "get" is a partner's GET; "flow" is create, PATCH and second factor on
// a fresh challenge.
func BenchmarkPSD2(b *testing.B) {
	const patchBody = `{"person_id":"p-alice"}`
	createBody := `{"iban":"` + aliceIBAN + `","tpp_name":"Acme Finance"}`
	e := newPSD2EnvLogging(b, psd2http.Options{}, nil, zerolog.New(io.Discard).Level(zerolog.InfoLevel))
	h := e.srv.Config.Handler
	bare := bareserver.Handler()

	serve := func(b *testing.B, h http.Handler, method, path, token, body string, want int) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec
	}
	created := func(rec *httptest.ResponseRecorder) string {
		var c struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &c)
		return c.ID
	}
	b.Run("patch", func(b *testing.B) {
		id := created(serve(b, h, "POST", "/v1/psd2/challenges", bank, createBody, 201))
		serve(b, h, "PATCH", "/v1/psd2/challenges/"+id, partner, patchBody, 200)
		b.ReportAllocs()
		for b.Loop() {
			serve(b, h, "PATCH", "/v1/psd2/challenges/"+id, partner, patchBody, 200)
		}
	})
	b.Run("get", func(b *testing.B) {
		id := created(serve(b, h, "POST", "/v1/psd2/challenges", bank, createBody, 201))
		b.ReportAllocs()
		for b.Loop() {
			serve(b, h, "GET", "/v1/psd2/challenges/"+id, partner, "", 200)
		}
	})
	b.Run("patch_bare_baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, bare, "PATCH", "/v1/psd2/challenges/x", partner, patchBody, 200)
		}
	})
	b.Run("flow", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if n++; n%4096 == 0 {
				e.clock.Advance(time.Hour) // keep the store's working set bounded
			}
			id := created(serve(b, h, "POST", "/v1/psd2/challenges", bank, createBody, 201))
			serve(b, h, "PATCH", "/v1/psd2/challenges/"+id, partner, patchBody, 200)
			serve(b, h, "POST", "/v1/psd2/challenges/"+id+"/second_factor", bank, `{"result":"success"}`, 200)
		}
	})
	b.Run("flow_bare_baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, bare, "POST", "/v1/psd2/challenges", bank, createBody, 201)
			serve(b, bare, "PATCH", "/v1/psd2/challenges/x", partner, patchBody, 200)
			serve(b, bare, "POST", "/v1/psd2/challenges/x/second_factor", bank, `{"result":"success"}`, 200)
		}
	})
}
