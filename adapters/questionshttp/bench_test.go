package questionshttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
