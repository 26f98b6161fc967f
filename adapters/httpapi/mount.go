package httpapi

import (
	"net/http"

	"github.com/challengekit/challengekit/adapters/authnhttp"
	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/adapters/questionshttp"
)

// Config names the APIs to mount. Leave out (nil) any the server does not
// serve.
type Config struct {
	PSD2      *psd2http.Handler
	Authn     *authnhttp.Handler
	Questions *questionshttp.Handler
}

// Mount registers the configured APIs' endpoints on mux and returns the
// handler to serve: mux, wrapped so that a path under a mounted API
// spelled otherwise than the API spells it ("/V1/psd2/…", a trailing
// slash, "//", "/./") answers that API's own 404 in its envelope, where
// net/http's ServeMux would redirect or answer in plain text.
func Mount(mux *http.ServeMux, cfg Config) http.Handler {
	var root http.Handler = mux
	for _, api := range cfg.apis() {
		api.Register(mux)
		root = api.Strict(root)
	}
	return root
}

// api is what Mount needs of each HTTP package's Handler.
type api interface {
	Register(mux *http.ServeMux)
	Strict(next http.Handler) http.Handler
}

func (c Config) apis() []api {
	var apis []api
	if c.PSD2 != nil {
		apis = append(apis, c.PSD2)
	}
	if c.Authn != nil {
		apis = append(apis, c.Authn)
	}
	if c.Questions != nil {
		apis = append(apis, c.Questions)
	}
	return apis
}
