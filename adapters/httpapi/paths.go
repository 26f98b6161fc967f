package httpapi

import (
	"net/http"
	"path"
	"strings"
)

// API is one of this package's handlers ([*PSD2], [*Authn], [*Questions]),
// as [StrictPaths] takes them.
type API interface {
	// apiPath reports whether p is, in any case and spelling, under the
	// API's paths, and whether it is spelled as the API spells them.
	apiPath(p string) (owned, canonical bool)
	// notFound answers a request for no resource in the API's envelope.
	notFound(w http.ResponseWriter, r *http.Request)
}

// StrictPaths answers a request whose path is under one of apis' paths but
// spelled otherwise ("/V1/psd2/…", a trailing slash, "//", "/./", "/../")
// with that API's own 404, in its envelope; everything else goes to next.
// net/http's ServeMux would answer those with a redirect to the cleaned
// path or a plain-text 404, before any handler of the API could: wrap the
// server's root handler, outside the mux.
//
//	srv := &http.Server{Handler: httpapi.StrictPaths(mux, psd2Handler, authnHandler, questionsHandler)}
func StrictPaths(next http.Handler, apis ...API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		for _, api := range apis {
			if owned, canonical := api.apiPath(p); owned {
				if !canonical {
					api.notFound(w, r)
					return
				}
				break
			}
		}
		next.ServeHTTP(w, r)
	})
}

// underPrefix answers apiPath for an API whose paths are prefix and what
// lies below it.
func underPrefix(p, prefix string) (owned, canonical bool) {
	clean := path.Clean("/" + p)
	lower := strings.ToLower(clean)
	if lower != prefix && !strings.HasPrefix(lower, prefix+"/") {
		return false, false
	}
	return true, p == clean && strings.HasPrefix(p, prefix)
}
