package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/psd2"
)

// PSD2Options tunes a [PSD2] handler. The zero value is ready to use.
type PSD2Options struct {
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

// PSD2 serves the PSD2 consent challenge endpoints (api/openapi.yaml). It is
// safe for concurrent use.
type PSD2 struct {
	svc      *psd2.Service
	auth     PSD2Authenticator
	log      zerolog.Logger
	maxBody  int64
	wrapped  bool
	validate *validator.Validate
}

// NewPSD2 returns the PSD2 handlers for svc, authenticating callers with
// auth.
func NewPSD2(svc *psd2.Service, auth PSD2Authenticator, opts PSD2Options) (*PSD2, error) {
	if svc == nil || auth == nil {
		return nil, errors.New("httpapi: NewPSD2 needs a service and an authenticator")
	}
	maxBody, err := bodyLimit(opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	v := newValidator()
	if err := v.RegisterValidation("iban", func(fl validator.FieldLevel) bool {
		_, ok := psd2.NormalizeIBAN(fl.Field().String())
		return ok
	}); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	return &PSD2{svc: svc, auth: auth, log: opts.Logger, maxBody: maxBody, wrapped: opts.WrappedErrors, validate: v}, nil
}

const (
	psd2Collection = "/v1/psd2/challenges"
	psd2Item       = psd2Collection + "/{psd2_challenge_id}"
	psd2Factor     = psd2Item + "/second_factor"
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
func (h *PSD2) Register(mux *http.ServeMux) {
	mux.Handle("POST "+psd2Collection, h.endpoint(h.create, PSD2Bank))
	mux.Handle("GET "+psd2Item, h.endpoint(h.get, PSD2Partner, PSD2Bank))
	mux.Handle("PATCH "+psd2Item, h.endpoint(h.patch, PSD2Partner))
	mux.Handle("POST "+psd2Factor, h.endpoint(h.secondFactor, PSD2Bank))
	for _, p := range []string{psd2Collection, psd2Item, psd2Factor} {
		mux.Handle(p, h.endpoint(h.refuse(errMethodNotAllowed)))
	}
	mux.Handle(psd2Prefix, h.endpoint(h.refuse(errNoSuchPath)))
	mux.Handle(psd2Prefix+"/", h.endpoint(h.refuse(errNoSuchPath)))
}

const psd2Prefix = "/v1/psd2"

func (h *PSD2) apiPath(p string) (owned, canonical bool) { return underPrefix(p, psd2Prefix) }

func (h *PSD2) notFound(w http.ResponseWriter, r *http.Request) { h.fail(w, r, errNoSuchPath) }

func allowedMethods(pattern string) string {
	switch pattern {
	case psd2Collection:
		return "POST"
	case psd2Item:
		return "GET, HEAD, PATCH"
	case psd2Factor:
		return "POST"
	}
	return ""
}

// endpoint serves serve through guard and, when roles are given, lets
// only callers of those roles use it.
func (h *PSD2) endpoint(serve func(http.ResponseWriter, *http.Request, PSD2Caller) error, roles ...PSD2Role) http.Handler {
	return guard(&h.log, h.fail, func(w http.ResponseWriter, r *http.Request) error {
		var caller PSD2Caller
		if len(roles) > 0 {
			var err error
			if caller, err = h.authorize(r, roles); err != nil {
				return err
			}
		}
		return serve(w, r, caller)
	})
}

func (h *PSD2) authorize(r *http.Request, roles []PSD2Role) (PSD2Caller, error) {
	caller, err := h.auth.AuthenticatePSD2(r)
	if err != nil {
		return PSD2Caller{}, err
	}
	for _, role := range roles {
		if role == caller.Role {
			return caller, nil
		}
	}
	return PSD2Caller{}, errWrongCaller
}

func (h *PSD2) refuse(err error) func(http.ResponseWriter, *http.Request, PSD2Caller) error {
	return func(http.ResponseWriter, *http.Request, PSD2Caller) error { return err }
}

type psd2CreateRequest struct {
	IBAN    string `json:"iban" validate:"required,iban"`
	TPPName string `json:"tpp_name" validate:"required,max=255"`
	TPPID   string `json:"tpp_id" validate:"max=255"`
	Scope   string `json:"scope" validate:"max=255"`
}

type psd2PatchRequest struct {
	PersonID string `json:"person_id" validate:"required,max=255"`
}

type psd2SecondFactorRequest struct {
	Result string `json:"result" validate:"required,oneof=success failure"`
}

// psd2Challenge is the challenge object on the wire.
type psd2Challenge struct {
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

// psd2PatchResponse is the PATCH answer: the two fields of the original.
type psd2PatchResponse struct {
	PersonID    string `json:"person_id"`
	RedirectURL string `json:"redirect_url"`
}

func (h *PSD2) create(w http.ResponseWriter, r *http.Request, caller PSD2Caller) error {
	var req psd2CreateRequest
	if err := decodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.Create(r.Context(), psd2.CreateRequest{IBAN: req.IBAN, TPPName: req.TPPName, TPPID: req.TPPID, Scope: req.Scope,
		Caller: caller.Name})
	if err != nil {
		return err
	}
	w.Header().Set("Location", psd2Collection+"/"+c.ID)
	return writeJSON(w, http.StatusCreated, psd2View(c))
}

func (h *PSD2) get(w http.ResponseWriter, r *http.Request, caller PSD2Caller) error {
	id, err := pathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var c *psd2.Challenge
	if caller.Role == PSD2Bank {
		c, err = h.svc.Get(r.Context(), id)
	} else {
		c, err = h.svc.GetForPartner(r.Context(), caller.Name, id)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, psd2View(c))
}

func (h *PSD2) patch(w http.ResponseWriter, r *http.Request, caller PSD2Caller) error {
	id, err := pathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var req psd2PatchRequest
	if err := decodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.EnterCredentials(r.Context(), caller.Name, id, req.PersonID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, psd2PatchResponse{PersonID: c.PersonID, RedirectURL: c.RedirectURL})
}

func (h *PSD2) secondFactor(w http.ResponseWriter, r *http.Request, _ PSD2Caller) error {
	id, err := pathID(r, "psd2_challenge_id")
	if err != nil {
		return err
	}
	var req psd2SecondFactorRequest
	if err := decodeJSON(w, r, h.maxBody, h.validate, &req); err != nil {
		return err
	}
	c, err := h.svc.CompleteSecondFactor(r.Context(), id, req.Result == "success")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, psd2View(c))
}

func psd2View(c *psd2.Challenge) psd2Challenge {
	v := psd2Challenge{
		ID: c.ID, Status: string(c.Status), IBAN: c.IBAN, TPPName: c.TPPName, TPPID: c.TPPID, Scope: c.Scope,
		CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: c.ExpiresAt.UTC().Format(time.RFC3339),
	}
	if c.PersonID != "" {
		v.PersonID = &c.PersonID
	}
	if c.RedirectURL != "" {
		v.RedirectURL = &c.RedirectURL
	}
	return v
}
