package httpkit

import (
	"net/http"
	"path"
	"strings"
)

// StrictPaths answers a request whose path owns claims for an API but
// that is spelled otherwise than the API spells it ("/V1/psd2/…", a
// trailing slash, "//", "/./", "/../") with notFound, in the API's own
// envelope; everything else goes to next. net/http's ServeMux would
// answer those with a redirect to the cleaned path or a plain-text 404,
// before any handler of the API could, so this wraps the server's root
// handler, outside the mux.
func StrictPaths(next http.Handler, owns func(p string) (owned, canonical bool), notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if owned, canonical := owns(r.URL.Path); owned && !canonical {
			notFound.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// UnderPrefix is owns for an API whose paths are prefix and what lies
// below it: whether p is, in any case and spelling, under prefix, and
// whether it is spelled as the API spells it.
func UnderPrefix(p, prefix string) (owned, canonical bool) {
	// The usual request, a clean path spelled as the API spells it or not
	// the API's at all, is told without allocating; path.Clean returns a
	// clean path as it is.
	if IsCleanPath(p) {
		n := len(prefix)
		switch {
		case strings.HasPrefix(p, prefix) && (len(p) == n || p[n] == '/'):
			return true, true
		case len(p) < n || !strings.EqualFold(p[:n], prefix):
			return false, false
		}
	}
	return underPrefix(p, prefix)
}

// IsCleanPath reports whether p is an absolute path that path.Clean
// leaves as it is (and so without allocating).
func IsCleanPath(p string) bool { return p != "" && p[0] == '/' && path.Clean(p) == p }

// underPrefix is UnderPrefix for any path.
func underPrefix(p, prefix string) (owned, canonical bool) {
	clean := path.Clean("/" + p)
	lower := strings.ToLower(clean)
	if lower != prefix && !strings.HasPrefix(lower, prefix+"/") {
		return false, false
	}
	return true, p == clean && strings.HasPrefix(p, prefix)
}
