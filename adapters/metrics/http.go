package metrics

import (
	"net/http"
	"strconv"

	"github.com/challengekit/challengekit/adapters/internal/httpstatus"
)

// Handler wraps next so that each request is counted by route and status
// code, and timed by route. The route is the pattern of the
// [http.ServeMux] that served it ([http.Request].Pattern, as "POST
// /v1/psd2/challenges"), or "other" when no pattern matched, so that a
// request to a path of a stranger's choosing never makes a new series. A
// status code outside 100–599 is "other"; a handler that writes no status
// answered 200.
//
// Put it directly around the mux (or what wraps the mux without replacing
// the request, such as the handler httpapi.Mount returns): a layer
// between them that replaces the request (r.WithContext) hides the
// pattern, and its requests count as "other". It is safe for concurrent
// use.
func (m *Metrics) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.clock.Now()
		sw := &httpstatus.Writer{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = Other
		}
		m.requests.WithLabelValues(route, codeLabel(sw.Status)).Inc()
		m.latency.WithLabelValues(route).Observe(m.since(start))
	})
}

// codeLabel is the label of a status code: its three digits, 200 for none
// written, "other" outside 100–599.
func codeLabel(code int) string {
	switch {
	case code == 0:
		return "200"
	case code < 100 || code > 599:
		return Other
	}
	return strconv.Itoa(code)
}
