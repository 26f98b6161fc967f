package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/challengekit/challengekit/adapters/metrics"
	"github.com/challengekit/challengekit/challenge"
)

// A program instruments its store, limiter, engines and handler with one
// Metrics, and serves the registry on a listener of its own.
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		panic(err)
	}
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	limiter, _ := challenge.NewMemoryLimiter(challenge.Limits{}, nil)
	store := m.Store("memory", mem)
	engine := challenge.EngineOptions{Limiter: m.Limiter(limiter), Observer: m}
	_, _ = store, engine // handed to psd2.NewService and the other flows

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	api := m.Handler(mux) // the API's listener serves this
	api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	scrape := httptest.NewRecorder() // the metrics listener serves this
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(scrape, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(scrape.Body.String(), "\n") {
		if strings.HasPrefix(line, "challengekit_http_requests_total") {
			fmt.Println(line)
		}
	}
	// Output: challengekit_http_requests_total{code="200",route="GET /healthz"} 1
}
