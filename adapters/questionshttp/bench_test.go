package questionshttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/questions"
)

// BenchmarkAkanaPut enrolls three answers per request with the default
// argon2id parameters, from 16 concurrent clients, under bounds of 1, 2 and
// 4 concurrent hashes. Memory held by hashing is at most the bound times
// 19 MiB by construction; the throughput is the price of the bound.
func BenchmarkAkanaPut(b *testing.B) {
	for _, bound := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("bound_%d", bound), func(b *testing.B) {
			e := newAkanaEnvWith(b, questions.Options{MaxConcurrentHashes: bound})
			h := e.srv.Config.Handler
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("PUT", "/api/users/"+akanaAlice+"/challenges", strings.NewReader(akanaSample))
					req.AddCookie(&http.Cookie{Name: "AtmoAuthToken_" + fed, Value: "TokenID=alice-demo"})
					req.Header.Set("X-Csrf-Token_"+fed, "csrf-alice-demo")
					req.Header.Set("Content-Type", v72json)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Errorf("PUT: %d %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "PUT/s")
		})
	}
}

// BenchmarkAkanaGet measures the two GETs of the load generator's questions
// scenario through the handler: the business's catalog, and alice's
// questions, in JSON with Accept: application/json.
func BenchmarkAkanaGet(b *testing.B) {
	e := newAkanaEnvLogging(b, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}},
		questionshttp.Options{}, nil, zerolog.New(io.Discard).Level(zerolog.InfoLevel))
	if r := e.send("PUT", "/api/users/"+akanaAlice+"/challenges", "alice", akanaSample, "Content-Type", "application/json"); r.status != 200 {
		b.Fatalf("PUT: %d %s", r.status, r.raw)
	}
	h := e.srv.Config.Handler
	for _, tc := range []struct{ name, path string }{
		{"catalog", "/api/businesses/" + fed + "/challenges"},
		{"mine", "/api/users/" + akanaAlice + "/challenges"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", tc.path, nil)
				req.AddCookie(&http.Cookie{Name: "AtmoAuthToken_" + fed, Value: "TokenID=alice-demo"})
				req.Header.Set("Accept", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("GET %s: %d %s", tc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
