package httpkit

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// MethodError is a method an endpoint does not take. It matches
// ErrMethodNotAllowed, and carries the Allow header's value.
type MethodError struct {
	Allow string
}

func (e *MethodError) Error() string { return "httpkit: method not allowed; allowed: " + e.Allow }

// Is makes errors.Is(err, ErrMethodNotAllowed) work on a *MethodError.
func (e *MethodError) Is(target error) bool { return target == ErrMethodNotAllowed }

// SetAllow sets the Allow header from err's *MethodError, if it has one.
func SetAllow(w http.ResponseWriter, err error) {
	var me *MethodError
	if errors.As(err, &me) {
		w.Header().Set("Allow", me.Allow)
	}
}

// Routes registers an API's endpoints on a mux, and remembers which
// methods each path takes, so that every API computes its Allow headers
// the one way.
type Routes struct {
	mux     *http.ServeMux
	methods map[string][]string // by path
	paths   []string            // in the order registered
}

// NewRoutes returns Routes that register on mux.
func NewRoutes(mux *http.ServeMux) *Routes {
	return &Routes{mux: mux, methods: map[string][]string{}}
}

// Handle registers h for method on path (a ServeMux path pattern).
func (rt *Routes) Handle(method, path string, h http.Handler) {
	if _, seen := rt.methods[path]; !seen {
		rt.paths = append(rt.paths, path)
	}
	rt.methods[path] = append(rt.methods[path], method)
	rt.mux.Handle(method+" "+path, h)
}

// RefuseOtherMethods registers, for every path given to Handle, a handler
// of the methods it does not take: refuse(err), where err is a
// *MethodError whose Allow lists the methods the path takes, sorted (GET
// brings HEAD, which net/http answers with it).
func (rt *Routes) RefuseOtherMethods(refuse func(err error) http.Handler) {
	for _, p := range rt.paths {
		allow := slices.Clone(rt.methods[p])
		if slices.Contains(allow, http.MethodGet) && !slices.Contains(allow, http.MethodHead) {
			allow = append(allow, http.MethodHead)
		}
		slices.Sort(allow)
		rt.mux.Handle(p, refuse(&MethodError{Allow: strings.Join(allow, ", ")}))
	}
}
