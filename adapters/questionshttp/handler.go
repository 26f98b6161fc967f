package questionshttp

import (
	"encoding/xml"
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// DefaultMaxBodyBytes bounds request bodies when Options leaves
// MaxBodyBytes zero. Challenge requests are a few hundred bytes.
const DefaultMaxBodyBytes = httpkit.DefaultMaxBodyBytes

// Options tunes a [Handler]. The zero value is ready to use.
type Options struct {
	// Logger receives one line per refused request, with its cause. The
	// zero value logs nothing. Answers are never logged.
	Logger zerolog.Logger
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ClientAddress finds the end user's address, the source whose
	// budget (with the logged-in user's) a PUT of answers is charged to
	// when the service has a Limiter. The zero value takes the
	// connection's remote address.
	ClientAddress ClientAddress
}

// ClientAddress finds a request's end-user address: the connection's
// remote address, or, behind a reverse proxy, the address a trusted proxy
// names in a configured header (read only from the configured proxy
// networks).
type ClientAddress = httpkit.ClientAddress

// Handler serves the security-question endpoints (api/openapi.yaml) in JSON,
// XML and the original platform's versioned media types. It is safe for
// concurrent use.
type Handler struct {
	svc     *questions.Service
	auth    Authenticator
	log     zerolog.Logger
	maxBody int64
	addr    httpkit.ClientAddress
}

// New returns the security-question handlers for svc,
// authenticating callers with auth.
func New(svc *questions.Service, auth Authenticator, opts Options) (*Handler, error) {
	if svc == nil || auth == nil {
		return nil, errors.New("questionshttp: New needs a service and an authenticator")
	}
	maxBody, err := httpkit.BodyLimit(opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, auth: auth, log: opts.Logger, maxBody: maxBody, addr: opts.ClientAddress}, nil
}

// mediaTypes are the media types the endpoints read and write, in order
// of preference: plain JSON and XML, and the original platform's
// versioned types.
var mediaTypes = []string{
	"application/json", "application/xml",
	"application/vnd.soa.v72+json", "application/vnd.soa.v72+xml",
	"application/vnd.soa.v80+json", "application/vnd.soa.v80+xml",
	"application/vnd.soa.v81+json", "application/vnd.soa.v81+xml",
}

const (
	businessQuestions = "/api/businesses/{BusinessID}/challenges"
	userQuestions     = "/api/users/{UserID}/challenges"
)

// Register mounts the endpoints on mux:
//
//	GET /api/businesses/{BusinessID}/challenges[?IncludeInactive=true]  (anyone)
//	PUT /api/businesses/{BusinessID}/challenges                        (site admin)
//	GET /api/users/{UserID}/challenges                                 (the user, site admin)
//	PUT /api/users/{UserID}/challenges                                 (the user, site admin)
//
// A PUT of a user's answers adds or updates the entries it sends and keeps
// the user's other answers, all or nothing (questions.Service.Enroll); it
// answers the user's whole set after the change.
//
// Other methods on these paths are answered 405 in the error body.
func (h *Handler) Register(mux *http.ServeMux) {
	rt := httpkit.NewRoutes(mux)
	rt.Handle(http.MethodGet, businessQuestions, h.endpoint(h.getCatalog))
	rt.Handle(http.MethodPut, businessQuestions, h.endpoint(h.putCatalog))
	rt.Handle(http.MethodGet, userQuestions, h.endpoint(h.getUser))
	rt.Handle(http.MethodPut, userQuestions, h.endpoint(h.putUser))
	rt.RefuseOtherMethods(h.refuse)
	for _, p := range []string{businessQuestions, userQuestions} {
		mux.Handle(p+"/", h.refuse(httpkit.ErrNoSuchPath))
	}
}

// Strict wraps next, a server's root handler, so that a path under
// /api/users/{UserID}/challenges or /api/businesses/{BusinessID}/challenges
// spelled otherwise than the API spells it ("/API/users/…", a trailing
// slash, "//", "/./") answers the API's own 404 in its envelope, where
// net/http's ServeMux would redirect or answer in plain text.
func (h *Handler) Strict(next http.Handler) http.Handler {
	return httpkit.StrictPaths(next, owns, h.refuse(httpkit.ErrNoSuchPath))
}

// owns reports whether p is, in any case and spelling, under
// /api/users/{UserID}/challenges or /api/businesses/{BusinessID}/challenges,
// and whether it is spelled as the API spells them.
func owns(p string) (owned, canonical bool) {
	// The usual request, a clean path spelled as the API spells it or
	// not under /api/ at all, is told without allocating.
	if httpkit.IsCleanPath(p) {
		if len(p) < len("/api/") || !strings.EqualFold(p[:len("/api/")], "/api/") {
			return false, false
		}
		if rest, ok := strings.CutPrefix(p, "/api/"); ok {
			kind, rest, _ := strings.Cut(rest, "/")
			id, rest, _ := strings.Cut(rest, "/")
			leaf, _, _ := strings.Cut(rest, "/")
			if (kind == "users" || kind == "businesses") && id != "" && leaf == "challenges" {
				return true, true
			}
		}
	}
	return ownsAnyPath(p)
}

// ownsAnyPath is owns for any path.
func ownsAnyPath(p string) (owned, canonical bool) {
	parts := strings.SplitN(strings.TrimPrefix(strings.ToLower(path.Clean("/"+p)), "/"), "/", 5)
	if len(parts) < 4 || parts[0] != "api" || parts[1] != "users" && parts[1] != "businesses" || parts[3] != "challenges" {
		return false, false
	}
	exact := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	return true, p == path.Clean(p) && len(exact) >= 4 && exact[0] == "api" && exact[1] == parts[1] && exact[3] == "challenges"
}

// refuse answers every request with err.
func (h *Handler) refuse(err error) http.Handler {
	return h.endpoint(func(http.ResponseWriter, *http.Request) error { return err })
}

// endpoint serves through httpkit.Guard after settling the response's media type,
// so a client that accepts nothing we write learns so before any work.
func (h *Handler) endpoint(serve func(http.ResponseWriter, *http.Request) error) http.Handler {
	return httpkit.Guard(&h.log, h.fail, func(w http.ResponseWriter, r *http.Request) error {
		if _, err := httpkit.ResponseMediaType(r, mediaTypes); err != nil {
			return err
		}
		return serve(w, r)
	})
}

// wireQuestion is a catalog entry on the wire. Its fields are those
// of questions.Question, in the same order, so the two convert directly.
// An absent field is no constraint: CanContainQuestionWords,
// CanContainUserID and CanEqualOtherAnswers, our additions, are rules
// only where a catalog sets them false.
type wireQuestion struct {
	ChallengeCode                string  `json:"ChallengeCode" xml:"ChallengeCode"`
	ChallengeQuestion            string  `json:"ChallengeQuestion" xml:"ChallengeQuestion"`
	MinimumLength                *int    `json:"MinimumLength,omitempty" xml:"MinimumLength,omitempty"`
	MaximumLength                *int    `json:"MaximumLength,omitempty" xml:"MaximumLength,omitempty"`
	MinimumAlphaCount            *int    `json:"MinimumAlphaCount,omitempty" xml:"MinimumAlphaCount,omitempty"`
	MaximumAlphaCount            *int    `json:"MaximumAlphaCount,omitempty" xml:"MaximumAlphaCount,omitempty"`
	MinimumNumberCount           *int    `json:"MinimumNumberCount,omitempty" xml:"MinimumNumberCount,omitempty"`
	MaximumNumberCount           *int    `json:"MaximumNumberCount,omitempty" xml:"MaximumNumberCount,omitempty"`
	MinimumUpperCaseLetterCount  *int    `json:"MinimumUpperCaseLetterCount,omitempty" xml:"MinimumUpperCaseLetterCount,omitempty"`
	MinimumSpecialCharacterCount *int    `json:"MinimumSpecialCharacterCount,omitempty" xml:"MinimumSpecialCharacterCount,omitempty"`
	AllowedSpecialCharacters     *string `json:"AllowedSpecialCharacters,omitempty" xml:"AllowedSpecialCharacters,omitempty"`
	CanContainSpaces             *bool   `json:"CanContainSpaces,omitempty" xml:"CanContainSpaces,omitempty"`
	CanContainQuestionWords      *bool   `json:"CanContainQuestionWords,omitempty" xml:"CanContainQuestionWords,omitempty"`
	CanContainUserID             *bool   `json:"CanContainUserID,omitempty" xml:"CanContainUserID,omitempty"`
	CanEqualOtherAnswers         *bool   `json:"CanEqualOtherAnswers,omitempty" xml:"CanEqualOtherAnswers,omitempty"`
	IsCaseSensitive              *bool   `json:"IsCaseSensitive,omitempty" xml:"IsCaseSensitive,omitempty"`
	Active                       *bool   `json:"Active,omitempty" xml:"Active,omitempty"`
}

// wireCatalog is a business's catalog on the wire. RequiredAnswerCount
// is our addition: how many questions a user must answer.
type wireCatalog struct {
	XMLName             xml.Name       `json:"-" xml:"Challenges"`
	Challenge           []wireQuestion `json:"Challenge" xml:"Challenge"`
	RequiredAnswerCount *int           `json:"RequiredAnswerCount,omitempty" xml:"RequiredAnswerCount,omitempty"`
}

// wireUserSet is a user's questions (and, on PUT, answers) on the wire.
// A PUT's answer is the user's whole set after the change, with the
// answers of the entries sent (the original platform echoes them) and no
// other.
type wireUserSet struct {
	XMLName                     xml.Name        `json:"-" xml:"UserIdentificationChallenges"`
	UserIdentificationChallenge []wireUserEntry `json:"UserIdentificationChallenge" xml:"UserIdentificationChallenge"`
}

type wireUserEntry struct {
	UserID            string `json:"UserID,omitempty" xml:"UserID,omitempty"`
	ChallengeCode     string `json:"ChallengeCode" xml:"ChallengeCode"`
	ChallengeQuestion string `json:"ChallengeQuestion,omitempty" xml:"ChallengeQuestion,omitempty"`
	Answer            string `json:"Answer,omitempty" xml:"Answer,omitempty"`
}

func (h *Handler) getCatalog(w http.ResponseWriter, r *http.Request) error {
	business, err := httpkit.PathID(r, "BusinessID")
	if err != nil {
		return err
	}
	// Most requests have no query: skip parsing one into a map.
	includeInactive := r.URL.RawQuery != "" && r.URL.Query().Get("IncludeInactive") == "true"
	return h.svc.ViewCatalog(r.Context(), business, func(cat *questions.Catalog) error {
		return h.write(w, r, http.StatusOK, catalogWire(cat.Questions, includeInactive, cat.RequiredAnswers))
	})
}

func (h *Handler) putCatalog(w http.ResponseWriter, r *http.Request) error {
	caller, err := h.auth.Authenticate(r)
	if err != nil {
		return err
	}
	if !caller.SiteAdmin || caller.Business != r.PathValue("BusinessID") {
		return errWrongCaller
	}
	var in wireCatalog
	if err := h.read(w, r, &in); err != nil {
		return err
	}
	cat := questions.Catalog{Questions: make([]questions.Question, len(in.Challenge))}
	for i, c := range in.Challenge {
		cat.Questions[i] = questions.Question(c)
	}
	if in.RequiredAnswerCount != nil {
		cat.RequiredAnswers = *in.RequiredAnswerCount
		if cat.RequiredAnswers == 0 {
			return &questions.RuleError{Violations: []questions.Violation{{Entry: -1, Field: "RequiredAnswerCount", Message: "must be at least 1"}}}
		}
	}
	stored, err := h.svc.PutCatalog(r.Context(), r.PathValue("BusinessID"), cat)
	if err != nil {
		return err
	}
	return h.write(w, r, http.StatusOK, catalogWire(stored.Questions, true, stored.RequiredAnswers))
}

// catalogWire is a catalog's questions (the inactive ones too, or not) as
// the wire shows them. Its questions share their rules' pointers with
// list: it is for encoding.
func catalogWire(list []questions.Question, includeInactive bool, required int) wireCatalog {
	n := len(list)
	if !includeInactive {
		n = 0
		for i := range list {
			if list[i].IsActive() {
				n++
			}
		}
	}
	out := wireCatalog{Challenge: make([]wireQuestion, 0, n)}
	for i := range list {
		if includeInactive || list[i].IsActive() {
			out.Challenge = append(out.Challenge, wireQuestion(list[i]))
		}
	}
	if required != 0 {
		out.RequiredAnswerCount = &required
	}
	return out
}

// authorizeUser lets the user act for themself, and a site admin for the
// users of their own business.
func (h *Handler) authorizeUser(r *http.Request) (string, Caller, error) {
	caller, err := h.auth.Authenticate(r)
	if err != nil {
		return "", caller, err
	}
	user, err := httpkit.PathID(r, "UserID")
	if err != nil {
		return "", caller, err
	}
	if caller.UserID == user {
		return user, caller, nil
	}
	if !caller.SiteAdmin || caller.Business == "" {
		return "", caller, errWrongCaller
	}
	business, err := h.svc.BusinessOf(user)
	if err != nil {
		return "", caller, err
	}
	if business != caller.Business {
		return "", caller, errWrongCaller
	}
	return user, caller, nil
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	user, _, err := h.authorizeUser(r)
	if err != nil {
		return err
	}
	enrolled, err := h.svc.Enrolled(r.Context(), user)
	if err != nil {
		return err
	}
	out := wireUserSet{UserIdentificationChallenge: make([]wireUserEntry, len(enrolled))}
	for i, q := range enrolled {
		out.UserIdentificationChallenge[i] = wireUserEntry{UserID: q.UserID, ChallengeCode: q.ChallengeCode, ChallengeQuestion: q.ChallengeQuestion}
	}
	return h.write(w, r, http.StatusOK, out)
}

func (h *Handler) putUser(w http.ResponseWriter, r *http.Request) error {
	user, caller, err := h.authorizeUser(r)
	if err != nil {
		return err
	}
	var in wireUserSet
	if err := h.read(w, r, &in); err != nil {
		return err
	}
	answers := make([]questions.Answer, len(in.UserIdentificationChallenge))
	for i, e := range in.UserIdentificationChallenge {
		answers[i] = questions.Answer{UserID: e.UserID, ChallengeCode: e.ChallengeCode, Answer: e.Answer}
	}
	origin := challenge.Origin{Caller: "session:" + caller.UserID, Source: challenge.AddrSource(h.addr.Of(r))}
	stored, err := h.svc.EnrollFrom(r.Context(), origin, user, answers)
	if err != nil {
		return err
	}
	out := wireUserSet{UserIdentificationChallenge: make([]wireUserEntry, len(stored))}
	for i, a := range stored {
		out.UserIdentificationChallenge[i] = wireUserEntry{UserID: a.UserID, ChallengeCode: a.ChallengeCode, Answer: a.Answer}
	}
	return h.write(w, r, http.StatusOK, out)
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, err := httpkit.RequestMediaType(r, mediaTypes)
	if err != nil {
		return err
	}
	return httpkit.DecodeBody(w, r, mt, h.maxBody, dst)
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, status int, v any) error {
	mt, err := httpkit.ResponseMediaType(r, mediaTypes)
	if err != nil {
		return err
	}
	return httpkit.WriteAs(w, mt, status, v)
}
