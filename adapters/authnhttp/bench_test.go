package authnhttp_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/internal/totpsteps"
)

// BenchmarkAuthn measures a TOTP login through the handler, as the load
// generator's authn scenario sends it: POST begin, PUT Init, PUT Validate,
// PUT Finalize, in JSON with Accept: application/json. The clock moves one
// TOTP step per login, so every code is fresh and old transactions expire.
// Codes are computed off the clock: they are the user's work.
func BenchmarkAuthn(b *testing.B) {
	e := newAuthnEnvLogging(b, nil, zerolog.New(io.Discard).Level(zerolog.InfoLevel))
	h := e.srv.Config.Handler
	start := e.clock.Now()
	serve := func(method, body string) []byte {
		req := httptest.NewRequest(method, "/authn/v1", strings.NewReader(body))
		req.SetBasicAuth(agentID, agentSecret)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", method, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	put := func(prev []byte, fields string) []byte {
		return serve("PUT", `{"correlationId":"`+member(b, prev, "correlationId")+`","nonce":"`+member(b, prev, "nonce")+`",`+fields+`}`)
	}
	codes := totpsteps.Steps{Secret: totpSecret, Start: start}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := serve("POST", `{"userInfo":{"userId":"alice"}}`)
		r = put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
		r = put(r, `"challengeop":"Validate","challengeAnswer":"`+codes.Code(b, i)+`"`)
		r = put(r, `"challengeop":"Finalize","challengeResult":"Success"`)
		if !bytes.Contains(r, []byte(`"status":"authenticated"`)) {
			b.Fatalf("Finalize: %s", r)
		}
		i++
		e.clock.Advance(30 * time.Second)
	}
}

// member returns the string value of a top-level member of a JSON answer,
// without decoding it (the client's work, kept off the measurement).
func member(b *testing.B, body []byte, name string) string {
	key := []byte(`"` + name + `":"`)
	i := bytes.Index(body, key)
	if i < 0 {
		b.Fatalf("no %s in %s", name, body)
	}
	rest := body[i+len(key):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}
