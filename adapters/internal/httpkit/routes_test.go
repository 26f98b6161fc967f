package httpkit_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

func TestRoutesRefuseOtherMethodsListingTheAllowedOnes(t *testing.T) {
	mux := http.NewServeMux()
	rt := httpkit.NewRoutes(mux)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	rt.Handle(http.MethodPut, "/a", ok)
	rt.Handle(http.MethodGet, "/a", ok)
	rt.Handle(http.MethodPost, "/b", ok)
	rt.RefuseOtherMethods(func(err error) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if !errors.Is(err, httpkit.ErrMethodNotAllowed) {
				t.Errorf("refused with %v; want ErrMethodNotAllowed", err)
			}
			httpkit.SetAllow(w, err)
			w.WriteHeader(http.StatusMethodNotAllowed)
		})
	})
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/a", "GET, HEAD, PUT"},
		{"GET", "/b", "POST"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != 405 || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405 and %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.allow)
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("HEAD", "/a", nil))
	if rec.Code != 204 {
		t.Errorf("HEAD /a: %d; want it served as GET", rec.Code)
	}
}
