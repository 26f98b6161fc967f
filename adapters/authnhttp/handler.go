package authnhttp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// DefaultMaxBodyBytes bounds request bodies when Options leaves
// MaxBodyBytes zero. Challenge requests are a few hundred bytes.
const DefaultMaxBodyBytes = httpkit.DefaultMaxBodyBytes

// Options tunes a [Handler]. The zero value is ready to use.
type Options struct {
	// Logger receives one line per refused request, with its cause. The
	// zero value logs nothing. Nonces, answers and secrets are never logged.
	Logger zerolog.Logger
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Handler serves the factor-transaction endpoints (api/openapi.yaml) in JSON and
// XML. It is safe for concurrent use.
type Handler struct {
	svc      *authn.Service
	agents   Agents
	log      zerolog.Logger
	maxBody  int64
	validate *validator.Validate
}

// New returns the factor-transaction handlers for svc, authenticating
// agents with agents.
func New(svc *authn.Service, agents Agents, opts Options) (*Handler, error) {
	if svc == nil || agents == nil {
		return nil, errors.New("authnhttp: New needs a service and an agent authenticator")
	}
	maxBody, err := httpkit.BodyLimit(opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, agents: agents, log: opts.Logger, maxBody: maxBody, validate: httpkit.NewValidator()}, nil
}

const pathPrefix = "/authn/v1"

// mediaTypes are the media types the endpoints read and write.
var mediaTypes = []string{"application/json", "application/xml"}

// Register mounts the endpoints on mux:
//
//	POST /authn/v1   begin a transaction
//	PUT  /authn/v1   Init, Validate or Finalize it
//
// Both take HTTP Basic agent credentials (POST also clientInfo); other
// methods are answered 405 in the error body.
func (h *Handler) Register(mux *http.ServeMux) {
	rt := httpkit.NewRoutes(mux)
	rt.Handle(http.MethodPost, pathPrefix, httpkit.Guard(&h.log, h.fail, h.begin))
	rt.Handle(http.MethodPut, pathPrefix, httpkit.Guard(&h.log, h.fail, h.update))
	rt.RefuseOtherMethods(h.refuse)
	mux.Handle(pathPrefix+"/", h.refuse(httpkit.ErrNoSuchPath))
}

// Strict wraps next, a server's root handler, so that a path under
// /authn/v1 spelled otherwise than the API spells it ("/AUTHN/v1", a
// trailing slash, "//") answers the API's own 404 in its envelope, where
// net/http's ServeMux would redirect or answer in plain text.
func (h *Handler) Strict(next http.Handler) http.Handler {
	return httpkit.StrictPaths(next, func(p string) (bool, bool) { return httpkit.UnderPrefix(p, pathPrefix) },
		h.refuse(httpkit.ErrNoSuchPath))
}

// refuse answers every request with err.
func (h *Handler) refuse(err error) http.Handler {
	return httpkit.Guard(&h.log, h.fail, func(http.ResponseWriter, *http.Request) error { return err })
}

type clientInfo struct {
	ClientID     string `json:"clientId" xml:"clientId"`
	ClientSecret string `json:"clientSecret" xml:"clientSecret"`
	Ctype        string `json:"ctype" xml:"ctype"`
}

type postRequest struct {
	ClientInfo *clientInfo `json:"clientInfo" xml:"clientInfo"`
	UserInfo   *struct {
		UserID  string `json:"userId" xml:"userId" validate:"maxbytes=256"`
		GroupID string `json:"groupId" xml:"groupId" validate:"maxbytes=256"`
	} `json:"userInfo" xml:"userInfo"`
	// Context is the original's UserContext; of it, only the end user's
	// address is read (the source the Limiter budgets).
	Context *struct {
		IPAddress string `json:"ipAddress" xml:"ipAddress" validate:"maxbytes=64"`
	} `json:"context" xml:"context"`
	TimeToLiveInSec *int64 `json:"timeToLiveInSec" xml:"timeToLiveInSec"`
}

type putRequest struct {
	CorrelationID string `json:"correlationId" xml:"correlationId" validate:"required,maxbytes=128"`
	ChallengeOp   string `json:"challengeop" xml:"challengeop" validate:"required,oneof=Init Validate Finalize"`
	Nonce         string `json:"nonce" xml:"nonce" validate:"required_unless=ChallengeOp Init,maxbytes=128"`
	ChallengeData *struct {
		FactorKey        string            `json:"factorKey" xml:"factorKey" validate:"required,maxbytes=64"`
		FactorAttributes []factorAttribute `json:"factorAttributes" xml:"factorAttributes" validate:"max=32"`
	} `json:"challengedata" xml:"challengedata" validate:"required_if=ChallengeOp Init"`
	ChallengeAnswer       string `json:"challengeAnswer" xml:"challengeAnswer" validate:"required_if=ChallengeOp Validate,maxbytes=1024"`
	ChallengeResult       string `json:"challengeResult" xml:"challengeResult" validate:"required_if=ChallengeOp Finalize,omitempty,oneof=Success Error Failure"`
	ChallengeResultReason string `json:"challengeResultReason" xml:"challengeResultReason" validate:"maxbytes=64"`
}

// PassesTags implements httpkit.TagChecker.
func (req *postRequest) PassesTags() bool {
	return (req.UserInfo == nil || len(req.UserInfo.UserID) <= 256 && len(req.UserInfo.GroupID) <= 256) &&
		(req.Context == nil || len(req.Context.IPAddress) <= 64)
}

// PassesTags implements httpkit.TagChecker.
func (req *putRequest) PassesTags() bool {
	op := req.ChallengeOp
	if op != "Init" && op != "Validate" && op != "Finalize" {
		return false
	}
	if d := req.ChallengeData; d != nil && (d.FactorKey == "" || len(d.FactorKey) > 64 || len(d.FactorAttributes) > 32) {
		return false
	}
	switch req.ChallengeResult {
	case "", "Success", "Error", "Failure":
	default:
		return false
	}
	return req.CorrelationID != "" && len(req.CorrelationID) <= 128 &&
		(req.Nonce != "" || op == "Init") && len(req.Nonce) <= 128 &&
		(req.ChallengeData != nil || op != "Init") &&
		(req.ChallengeAnswer != "" || op != "Validate") && len(req.ChallengeAnswer) <= 1024 &&
		(req.ChallengeResult != "" || op != "Finalize") &&
		len(req.ChallengeResultReason) <= 64
}

// wireResponse is UpdateAuthnResponse on the wire.
type wireResponse struct {
	XMLName       xml.Name   `json:"-" xml:"UpdateAuthnResponse"`
	CorrelationID string     `json:"correlationId" xml:"correlationId"`
	Nonce         string     `json:"nonce" xml:"nonce"`
	StatusInfo    statusInfo `json:"statusInfo" xml:"statusInfo"`
	// InitContext names the factor the transaction runs, once Init has
	// started one; absent before.
	InitContext   *factorContext  `json:"initContext,omitempty" xml:"initContext,omitempty"`
	ChallengeInfo []challengeInfo `json:"challengeInfo" xml:"challengeInfo"`
	Cookies       []keyValue      `json:"cookies" xml:"cookies"`
	RequestParams []keyValue      `json:"requestParams" xml:"requestParams"`
}

// factorContext names a factor; in challengeInfo it also carries the
// user's attributes of the factor as UserFactorAttribute entries.
type factorContext struct {
	FactorKey        string            `json:"factorKey" xml:"factorKey"`
	Passive          bool              `json:"passive" xml:"passive"`
	FactorAttributes []factorAttribute `json:"factorAttributes,omitempty" xml:"factorAttributes,omitempty"`
}

type challengeInfo struct {
	FactorContext    factorContext `json:"factorContext" xml:"factorContext"`
	ChallengeAttrMap []keyValue    `json:"challengeAttrMap" xml:"challengeAttrMap"`
	Prompts          []keyValue    `json:"prompts" xml:"prompts"`
}

// The seven statuses of statusInfo.status.
const (
	statusAuthenticated         = "authenticated"
	statusPendingVerification   = "pending verification"
	statusPendingIdentification = "pending identification"
	statusFailed                = "failed"
	statusError                 = "error"
	statusMissingRegistration   = "missing registration"
	statusChallengeBlocked      = "challenge blocked"
)

// wireStatus is the one place that words a transaction for the wire:
// statusInfo's status, code and message.
func wireStatus(r *authn.Response) (status, code, message string) {
	switch r.State {
	case authn.StateCreated:
		switch {
		case !r.Known:
			status, code = statusPendingIdentification, "AUTHN_UNKNOWN_USER"
		case !r.Registered:
			status, code = statusMissingRegistration, "AUTHN_NOT_REGISTERED"
		default:
			status, code = statusPendingVerification, "AUTHN_PENDING"
		}
	case authn.StateInitiated, authn.StateValidated:
		status, code = statusPendingVerification, "AUTHN_PENDING"
	case authn.StateAuthenticated:
		status, code = statusAuthenticated, "AUTHN_SUCCESS"
	case authn.StateFailed:
		status, code = statusFailed, "AUTHN_FAILED"
	case authn.StateBlocked:
		status, code = statusChallengeBlocked, "AUTHN_BLOCKED"
	case authn.StateExpired:
		status, code = statusFailed, "expired"
	default: // StateError, and anything a newer version may store
		status, code = statusError, "AUTHN_ERROR"
	}
	switch {
	case r.State == authn.StateBlocked:
		message = messages[status]
	case r.Wrong:
		message = fmt.Sprintf("The answer is not correct. %d attempts left.", r.Remaining)
	case r.Reason != "":
		message = string(r.Reason)
	default:
		message = messages[status]
	}
	return status, code, message
}

var messages = map[string]string{
	statusAuthenticated:         "The user is authenticated.",
	statusPendingVerification:   "Waiting for the user to complete a factor.",
	statusPendingIdentification: "The user is not known.",
	statusFailed:                "The authentication failed.",
	statusError:                 "The authentication ended in error.",
	statusMissingRegistration:   "The user has no registered factor.",
	statusChallengeBlocked:      "Too many wrong answers; the transaction is blocked.",
}

func wire(r *authn.Response) wireResponse {
	status, code, message := wireStatus(r)
	out := wireResponse{CorrelationID: r.CorrelationID, Nonce: r.Nonce,
		StatusInfo:    statusInfo{Code: code, Message: message, Status: status},
		ChallengeInfo: make([]challengeInfo, 0, len(r.Challenges)), Cookies: []keyValue{}, RequestParams: []keyValue{}}
	if r.Factor != "" {
		out.InitContext = &factorContext{FactorKey: r.Factor, Passive: r.FactorPassive}
	}
	for _, c := range r.Challenges {
		attrs := nest(c.Attributes)
		out.ChallengeInfo = append(out.ChallengeInfo, challengeInfo{
			FactorContext:    factorContext{FactorKey: c.FactorKey, Passive: c.Passive, FactorAttributes: userFactorAttributes(attrs)},
			ChallengeAttrMap: attrs,
			Prompts:          plain(c.Prompts),
		})
	}
	return out
}

// agent returns the agent's client ID after checking its credentials:
// HTTP Basic, or (POST only) clientInfo.
func (h *Handler) agent(r *http.Request, info *clientInfo) (string, error) {
	id, secret, ok := r.BasicAuth()
	if !ok && info != nil && info.ClientID != "" {
		id, secret, ok = info.ClientID, info.ClientSecret, true
	}
	switch {
	case !ok && r.Header.Get("Authorization") != "":
		return "", ErrBadCredentials
	case !ok:
		return "", ErrNoCredentials
	case !h.agents.AuthenticateAgent(id, secret):
		return "", ErrBadCredentials
	}
	return id, nil
}

// read decodes and validates r's body into dst, after checking that the
// client accepts a media type the answer can be written in, which it
// returns for write.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, dst httpkit.TagChecker) (answerType string, err error) {
	answerType, err = httpkit.ResponseMediaType(r, mediaTypes)
	if err != nil {
		return "", err
	}
	mt, err := httpkit.RequestMediaType(r, mediaTypes)
	if err != nil {
		return "", err
	}
	if err := httpkit.DecodeBody(w, r, mt, h.maxBody, dst); err != nil {
		return "", err
	}
	if dst.PassesTags() {
		return answerType, nil
	}
	if err := h.validate.Struct(dst); err != nil {
		return "", httpkit.ValidationError(err)
	}
	return answerType, nil
}

// write answers resp in answerType, the media type read chose.
func (h *Handler) write(w http.ResponseWriter, answerType string, resp *authn.Response) error {
	return httpkit.WriteAs(w, answerType, http.StatusOK, wire(resp))
}

func (h *Handler) begin(w http.ResponseWriter, r *http.Request) error {
	var req postRequest
	answerType, err := h.read(w, r, &req)
	if err != nil {
		if _, authErr := h.agent(r, nil); authErr != nil {
			return authErr // unauthenticated callers learn nothing about their body
		}
		return err
	}
	agent, err := h.agent(r, req.ClientInfo)
	if err != nil {
		return err
	}
	in := authn.BeginRequest{ClientID: agent}
	if ttl := req.TimeToLiveInSec; ttl != nil {
		in.TTL = seconds(*ttl)
	}
	if req.UserInfo != nil {
		in.UserID, in.GroupID = req.UserInfo.UserID, req.UserInfo.GroupID
	}
	if req.Context != nil && req.Context.IPAddress != "" {
		addr, err := netip.ParseAddr(req.Context.IPAddress)
		if err != nil {
			return &challenge.FieldError{Field: "context.ipAddress", Message: "is not an IP address"}
		}
		in.Source = challenge.AddrSource(addr)
	}
	resp, err := h.svc.Begin(r.Context(), in)
	if err != nil {
		return err
	}
	return h.write(w, answerType, resp)
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
	agent, err := h.agent(r, nil)
	if err != nil {
		return err
	}
	var req putRequest
	answerType, err := h.read(w, r, &req)
	if err != nil {
		return err
	}
	var resp *authn.Response
	ctx, id := r.Context(), req.CorrelationID
	switch req.ChallengeOp {
	case "Init":
		var attrs []authn.KeyValue
		if attrs, err = flatten(req.ChallengeData.FactorAttributes); err != nil {
			return err
		}
		resp, err = h.svc.Init(ctx, agent, id, req.Nonce, req.ChallengeData.FactorKey, attrs)
	case "Validate":
		resp, err = h.svc.Validate(ctx, agent, id, req.Nonce, req.ChallengeAnswer)
	default:
		resp, err = h.svc.Finalize(ctx, agent, id, req.Nonce, authn.Result(req.ChallengeResult), authn.Reason(req.ChallengeResultReason))
	}
	if errors.Is(err, challenge.ErrExpired) {
		return &expiredError{correlationID: id, err: err}
	}
	if err != nil {
		return err
	}
	return h.write(w, answerType, resp)
}

// seconds converts timeToLiveInSec to a Duration without wrapping: the
// range is authn's rule, which Begin checks, so the conversion only keeps
// every value out of range on its own side. The wire has no zero TTL (an
// absent one is the default), so zero and below become a negative
// Duration, and what would overflow the longest one.
func seconds(n int64) time.Duration {
	switch {
	case n <= 0:
		return -1
	case n > math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}
