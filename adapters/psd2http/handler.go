package psd2http

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/psd2"
)

// DefaultMaxBodyBytes bounds request bodies when Options leaves
// MaxBodyBytes zero. Challenge requests are a few hundred bytes.
const DefaultMaxBodyBytes = httpkit.DefaultMaxBodyBytes

// Options tunes a [Handler]. The zero value is ready to use.
type Options struct {
	// Logger receives one line per refused request, with its cause and
	// error ID. The zero value logs nothing.
	Logger zerolog.Logger
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// WrappedErrors answers errors in Solaris' general format,
	// {"errors":[{"id","status","code","title","detail","source"}]},
	// instead of the flat per-endpoint object.
	WrappedErrors bool
}

// Handler serves the PSD2 consent challenge endpoints (api/openapi.yaml). It is
// safe for concurrent use.
type Handler struct {
	svc      *psd2.Service
	auth     Authenticator
	log      zerolog.Logger
	maxBody  int64
	wrapped  bool
	validate *validator.Validate
}

// New returns the PSD2 handlers for svc, authenticating callers with
// auth.
func New(svc *psd2.Service, auth Authenticator, opts Options) (*Handler, error) {
	if svc == nil || auth == nil {
		return nil, errors.New("psd2http: New needs a service and an authenticator")
	}
	maxBody, err := httpkit.BodyLimit(opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, auth: auth, log: opts.Logger, maxBody: maxBody, wrapped: opts.WrappedErrors, validate: httpkit.NewValidator()}, nil
}

const (
	collectionPath = "/v1/psd2/challenges"
	itemPath       = collectionPath + "/{psd2_challenge_id}"
	factorPath     = itemPath + "/second_factor"
)

// Register mounts the endpoints on mux:
//
//	POST  /v1/psd2/challenges                                      (bank)
//	GET   /v1/psd2/challenges/{psd2_challenge_id}                  (partner, bank)
//	PATCH /v1/psd2/challenges/{psd2_challenge_id}                  (partner)
//	POST  /v1/psd2/challenges/{psd2_challenge_id}/second_factor    (bank)
//
// Other methods on these paths, and any other path under /v1/psd2/, are
// answered in the PSD2 envelope (405, 404) rather than net/http's plain text.
//
// A partner sees only its own customers' challenges (psd2.Service's
// tenants); any other challenge answers 404, exactly as an unknown ID.
func (h *Handler) Register(mux *http.ServeMux) {
	rt := httpkit.NewRoutes(mux)
	rt.Handle(http.MethodPost, collectionPath, h.endpoint(h.create, RoleBank))
	rt.Handle(http.MethodGet, itemPath, h.endpoint(h.get, RolePartner, RoleBank))
	rt.Handle(http.MethodPatch, itemPath, h.endpoint(h.patch, RolePartner))
	rt.Handle(http.MethodPost, factorPath, h.endpoint(h.secondFactor, RoleBank))
	rt.RefuseOtherMethods(func(err error) http.Handler { return h.endpoint(h.refuse(err)) })
	mux.Handle(pathPrefix, h.endpoint(h.refuse(httpkit.ErrNoSuchPath)))
	mux.Handle(pathPrefix+"/", h.endpoint(h.refuse(httpkit.ErrNoSuchPath)))
}

const pathPrefix = "/v1/psd2"

// Strict wraps next, a server's root handler, so that a path under
// /v1/psd2 spelled otherwise than the API spells it ("/V1/psd2/…", a
// trailing slash, "//", "/./") answers the API's own 404 in its envelope,
// where net/http's ServeMux would redirect or answer in plain text.
func (h *Handler) Strict(next http.Handler) http.Handler {
	return httpkit.StrictPaths(next, func(p string) (bool, bool) { return httpkit.UnderPrefix(p, pathPrefix) },
		h.endpoint(h.refuse(httpkit.ErrNoSuchPath)))
}

// endpoint serves serve through httpkit.Guard and, when roles are given, lets
// only callers of those roles use it.
func (h *Handler) endpoint(serve func(http.ResponseWriter, *http.Request, Caller) error, roles ...Role) http.Handler {
	return httpkit.Guard(&h.log, h.fail, func(w http.ResponseWriter, r *http.Request) error {
		var caller Caller
		if len(roles) > 0 {
			var err error
			if caller, err = h.authorize(r, roles); err != nil {
				return err
			}
		}
		return serve(w, r, caller)
	})
}

func (h *Handler) authorize(r *http.Request, roles []Role) (Caller, error) {
	caller, err := h.auth.Authenticate(r)
	if err != nil {
		return Caller{}, err
	}
	for _, role := range roles {
		if role == caller.Role {
			return caller, nil
		}
	}
	return Caller{}, errWrongCaller
}

func (h *Handler) refuse(err error) func(http.ResponseWriter, *http.Request, Caller) error {
	return func(http.ResponseWriter, *http.Request, Caller) error { return err }
}

// The request structs check shape only: which fields are required, and
// which values an enumerated one takes. What makes an IBAN or a text field
// valid is psd2's rule, checked by the service.
type createRequest struct {
	IBAN    string `json:"iban" validate:"required"`
	TPPName string `json:"tpp_name" validate:"required"`
	TPPID   string `json:"tpp_id"`
	Scope   string `json:"scope"`
}

type patchRequest struct {
	PersonID string `json:"person_id" validate:"required"`
}

type secondFactorRequest struct {
	Result string `json:"result" validate:"required,oneof=success failure"`
}

// PassesTags implements httpkit.TagChecker.
func (req *createRequest) PassesTags() bool { return req.IBAN != "" && req.TPPName != "" }

// PassesTags implements httpkit.TagChecker.
func (req *patchRequest) PassesTags() bool { return req.PersonID != "" }

// PassesTags implements httpkit.TagChecker.
func (req *secondFactorRequest) PassesTags() bool {
	return req.Result == "success" || req.Result == "failure"
}

// wireChallenge is the challenge object on the wire.
type wireChallenge struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	IBAN        string  `json:"iban"`
	TPPName     string  `json:"tpp_name"`
	TPPID       string  `json:"tpp_id,omitempty"`
	Scope       string  `json:"scope,omitempty"`
	PersonID    *string `json:"person_id"`
	RedirectURL *string `json:"redirect_url"`
	CreatedAt   string  `json:"created_at"`
	ExpiresAt   string  `json:"expires_at"`
}

// patchResponse is the PATCH answer: the two fields of the original.
type patchResponse struct {
	PersonID    string `json:"person_id"`
	RedirectURL string `json:"redirect_url"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, caller Caller) error {
	var req createRequest
	if err := httpkit.DecodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.Create(r.Context(), psd2.CreateRequest{IBAN: req.IBAN, TPPName: req.TPPName, TPPID: req.TPPID, Scope: req.Scope,
		Caller: caller.Name})
	if err != nil {
		return err
	}
	w.Header().Set("Location", collectionPath+"/"+c.ID)
	return httpkit.WriteJSON(w, http.StatusCreated, view(c))
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, caller Caller) error {
	id, err := httpkit.PathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var c *psd2.Challenge
	if caller.Role == RoleBank {
		c, err = h.svc.Get(r.Context(), id)
	} else {
		c, err = h.svc.GetForPartner(r.Context(), caller.Name, id)
	}
	if err != nil {
		return err
	}
	return httpkit.WriteJSON(w, http.StatusOK, view(c))
}

func (h *Handler) patch(w http.ResponseWriter, r *http.Request, caller Caller) error {
	id, err := httpkit.PathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var req patchRequest
	if err := httpkit.DecodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.EnterCredentials(r.Context(), caller.Name, id, req.PersonID)
	if err != nil {
		return err
	}
	return httpkit.WriteJSON(w, http.StatusOK, patchResponse{PersonID: c.PersonID, RedirectURL: c.RedirectURL})
}

func (h *Handler) secondFactor(w http.ResponseWriter, r *http.Request, _ Caller) error {
	id, err := httpkit.PathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var req secondFactorRequest
	if err := httpkit.DecodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.CompleteSecondFactor(r.Context(), id, req.Result == "success")
	if err != nil {
		return err
	}
	return httpkit.WriteJSON(w, http.StatusOK, view(c))
}

func view(c *psd2.Challenge) wireChallenge {
	// Both times in one string, each field a part of it: one allocation.
	var buf [64]byte
	b := c.CreatedAt.UTC().AppendFormat(buf[:0], time.RFC3339)
	n := len(b)
	times := string(c.ExpiresAt.UTC().AppendFormat(b, time.RFC3339))
	v := wireChallenge{
		ID: c.ID, Status: string(c.Status), IBAN: c.IBAN, TPPName: c.TPPName, TPPID: c.TPPID, Scope: c.Scope,
		CreatedAt: times[:n], ExpiresAt: times[n:],
	}
	if c.PersonID != "" {
		v.PersonID = &c.PersonID
	}
	if c.RedirectURL != "" {
		v.RedirectURL = &c.RedirectURL
	}
	return v
}
