// Package httpkittest helps the HTTP packages' tests talk to their
// handlers as a client would.
package httpkittest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve runs h's endpoints on a test server, its root handler wrapped by
// wrap if it is not nil (h.Strict, say), that closes when the test ends.
func Serve(t testing.TB, h interface{ Register(*http.ServeMux) }, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h.Register(mux)
	var root http.Handler = mux
	if wrap != nil {
		root = wrap(mux)
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return srv
}

// Exchange sends req to srv after applying header pairs (an empty value
// deletes the header) and returns the response with its body read.
func Exchange(t testing.TB, srv *httptest.Server, req *http.Request, headers ...string) (*http.Response, string) {
	t.Helper()
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(raw)
}
