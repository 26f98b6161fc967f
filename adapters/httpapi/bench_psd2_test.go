package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/httpapi"
)

// BenchmarkPSD2 measures requests through the PSD2 handlers against the
// baseline of a bare net/http handler that decodes and encodes the same
// JSON: the ratio of their times is the throughput the library keeps.
// "patch" is a PATCH the challenge has already answered (the read path);
// "flow" is create, PATCH and second factor on a fresh challenge.
func BenchmarkPSD2(b *testing.B) {
	const patchBody = `{"person_id":"p-alice"}`
	createBody := `{"iban":"` + aliceIBAN + `","tpp_name":"Acme Finance"}`
	e := newPSD2EnvLogging(b, httpapi.PSD2Options{}, nil, zerolog.New(io.Discard).Level(zerolog.InfoLevel))
	h := e.srv.Config.Handler
	bare := bareHandler()

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

// bareHandler decodes and encodes the same JSON as the PSD2 endpoints and
// does nothing else: the ceiling a handler can reach on this machine.
func bareHandler() http.Handler {
	type challengeJSON struct {
		ID          string  `json:"id"`
		Status      string  `json:"status"`
		IBAN        string  `json:"iban"`
		TPPName     string  `json:"tpp_name"`
		PersonID    *string `json:"person_id"`
		RedirectURL *string `json:"redirect_url"`
		CreatedAt   string  `json:"created_at"`
		ExpiresAt   string  `json:"expires_at"`
	}
	write := func(w http.ResponseWriter, status int, v any) {
		body, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	person, url := "p-alice", "https://bank.example/consent?consent_challenge=UrIg9nFE11DDiCOBSCPhJQ"
	obj := challengeJSON{ID: "5IeyIeUJa6-nJ7x3SLzpow", Status: "authorized", IBAN: aliceIBAN, TPPName: "Acme Finance",
		PersonID: &person, RedirectURL: &url, CreatedAt: "2030-01-01T12:00:00Z", ExpiresAt: "2030-01-01T12:05:00Z"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/psd2/challenges", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			IBAN    string `json:"iban"`
			TPPName string `json:"tpp_name"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		write(w, 201, obj)
	})
	mux.HandleFunc("PATCH /v1/psd2/challenges/{id}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PersonID string `json:"person_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		write(w, 200, struct {
			PersonID    string `json:"person_id"`
			RedirectURL string `json:"redirect_url"`
		}{req.PersonID, url})
	})
	mux.HandleFunc("POST /v1/psd2/challenges/{id}/second_factor", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Result string `json:"result"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		write(w, 200, obj)
	})
	return mux
}
