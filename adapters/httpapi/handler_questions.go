package httpapi

import (
	"encoding/xml"
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// QuestionsOptions tunes a [Questions] handler. The zero value is ready to
// use.
type QuestionsOptions struct {
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

// Questions serves the security-question endpoints (api/openapi.yaml) in JSON,
// XML and the original platform's versioned media types. It is safe for
// concurrent use.
type Questions struct {
	svc     *questions.Service
	auth    QuestionsAuthenticator
	log     zerolog.Logger
	maxBody int64
	addr    ClientAddress
}

// NewQuestions returns the security-question handlers for svc,
// authenticating callers with auth.
func NewQuestions(svc *questions.Service, auth QuestionsAuthenticator, opts QuestionsOptions) (*Questions, error) {
	if svc == nil || auth == nil {
		return nil, errors.New("httpapi: NewQuestions needs a service and an authenticator")
	}
	maxBody, err := bodyLimit(opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return &Questions{svc: svc, auth: auth, log: opts.Logger, maxBody: maxBody, addr: opts.ClientAddress}, nil
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
// Other methods on these paths are answered 405 in the error body.
func (h *Questions) Register(mux *http.ServeMux) {
	mux.Handle("GET "+businessQuestions, h.endpoint(h.getCatalog))
	mux.Handle("PUT "+businessQuestions, h.endpoint(h.putCatalog))
	mux.Handle("GET "+userQuestions, h.endpoint(h.getUser))
	mux.Handle("PUT "+userQuestions, h.endpoint(h.putUser))
	for _, p := range []string{businessQuestions, userQuestions} {
		mux.Handle(p, h.endpoint(func(http.ResponseWriter, *http.Request) error { return errMethodNotAllowed }))
		mux.Handle(p+"/", h.endpoint(func(http.ResponseWriter, *http.Request) error { return errNoSuchPath }))
	}
}

// apiPath owns /api/users/{UserID}/challenges and
// /api/businesses/{BusinessID}/challenges, and what lies below them.
func (h *Questions) apiPath(p string) (owned, canonical bool) {
	parts := strings.SplitN(strings.TrimPrefix(strings.ToLower(path.Clean("/"+p)), "/"), "/", 5)
	if len(parts) < 4 || parts[0] != "api" || parts[1] != "users" && parts[1] != "businesses" || parts[3] != "challenges" {
		return false, false
	}
	exact := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	return true, p == path.Clean(p) && len(exact) >= 4 && exact[0] == "api" && exact[1] == parts[1] && exact[3] == "challenges"
}

func (h *Questions) notFound(w http.ResponseWriter, r *http.Request) { h.fail(w, r, errNoSuchPath) }

// endpoint serves through guard after settling the response's media type,
// so a client that accepts nothing we write learns so before any work.
func (h *Questions) endpoint(serve func(http.ResponseWriter, *http.Request) error) http.Handler {
	return guard(&h.log, h.fail, func(w http.ResponseWriter, r *http.Request) error {
		if _, err := responseMediaType(r, akanaMediaTypes); err != nil {
			return err
		}
		return serve(w, r)
	})
}

// questionsChallenge is a catalog entry on the wire. Its fields are those
// of questions.Question, in the same order, so the two convert directly.
type questionsChallenge struct {
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
	IsCaseSensitive              *bool   `json:"IsCaseSensitive,omitempty" xml:"IsCaseSensitive,omitempty"`
	Active                       *bool   `json:"Active,omitempty" xml:"Active,omitempty"`
}

// questionsCatalog is a business's catalog on the wire. RequiredAnswerCount
// is our addition: how many questions a user must answer.
type questionsCatalog struct {
	XMLName             xml.Name             `json:"-" xml:"Challenges"`
	Challenge           []questionsChallenge `json:"Challenge" xml:"Challenge"`
	RequiredAnswerCount *int                 `json:"RequiredAnswerCount,omitempty" xml:"RequiredAnswerCount,omitempty"`
}

// questionsUserSet is a user's questions (and, on PUT, answers) on the wire.
type questionsUserSet struct {
	XMLName                     xml.Name             `json:"-" xml:"UserIdentificationChallenges"`
	UserIdentificationChallenge []questionsUserEntry `json:"UserIdentificationChallenge" xml:"UserIdentificationChallenge"`
}

type questionsUserEntry struct {
	UserID            string `json:"UserID,omitempty" xml:"UserID,omitempty"`
	ChallengeCode     string `json:"ChallengeCode" xml:"ChallengeCode"`
	ChallengeQuestion string `json:"ChallengeQuestion,omitempty" xml:"ChallengeQuestion,omitempty"`
	Answer            string `json:"Answer,omitempty" xml:"Answer,omitempty"`
}

func (h *Questions) getCatalog(w http.ResponseWriter, r *http.Request) error {
	business, err := pathID(r, "BusinessID")
	if err != nil {
		return err
	}
	cat, err := h.svc.Catalog(r.Context(), business)
	if err != nil {
		return err
	}
	list := cat.Questions
	if r.URL.Query().Get("IncludeInactive") != "true" {
		list = cat.Active()
	}
	return h.write(w, r, http.StatusOK, catalogWire(list, cat.RequiredAnswers))
}

func (h *Questions) putCatalog(w http.ResponseWriter, r *http.Request) error {
	caller, err := h.auth.AuthenticateQuestions(r)
	if err != nil {
		return err
	}
	if !caller.SiteAdmin || caller.Business != r.PathValue("BusinessID") {
		return errWrongCaller
	}
	var in questionsCatalog
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
	return h.write(w, r, http.StatusOK, catalogWire(stored.Questions, stored.RequiredAnswers))
}

func catalogWire(list []questions.Question, required int) questionsCatalog {
	out := questionsCatalog{Challenge: make([]questionsChallenge, len(list))}
	for i, q := range list {
		out.Challenge[i] = questionsChallenge(q)
	}
	if required != 0 {
		out.RequiredAnswerCount = &required
	}
	return out
}

// authorizeUser lets the user act for themself, and a site admin for the
// users of their own business.
func (h *Questions) authorizeUser(r *http.Request) (string, QuestionsCaller, error) {
	caller, err := h.auth.AuthenticateQuestions(r)
	if err != nil {
		return "", caller, err
	}
	user, err := pathID(r, "UserID")
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

func (h *Questions) getUser(w http.ResponseWriter, r *http.Request) error {
	user, _, err := h.authorizeUser(r)
	if err != nil {
		return err
	}
	enrolled, err := h.svc.Enrolled(r.Context(), user)
	if err != nil {
		return err
	}
	out := questionsUserSet{UserIdentificationChallenge: make([]questionsUserEntry, len(enrolled))}
	for i, q := range enrolled {
		out.UserIdentificationChallenge[i] = questionsUserEntry{UserID: q.UserID, ChallengeCode: q.ChallengeCode, ChallengeQuestion: q.ChallengeQuestion}
	}
	return h.write(w, r, http.StatusOK, out)
}

func (h *Questions) putUser(w http.ResponseWriter, r *http.Request) error {
	user, caller, err := h.authorizeUser(r)
	if err != nil {
		return err
	}
	var in questionsUserSet
	if err := h.read(w, r, &in); err != nil {
		return err
	}
	answers := make([]questions.Answer, len(in.UserIdentificationChallenge))
	for i, e := range in.UserIdentificationChallenge {
		answers[i] = questions.Answer{UserID: e.UserID, ChallengeCode: e.ChallengeCode, Answer: e.Answer}
	}
	origin := challenge.Origin{Caller: "session:" + caller.UserID, Source: sourceOf(h.addr.Of(r))}
	stored, err := h.svc.EnrollFrom(r.Context(), origin, user, answers)
	if err != nil {
		return err
	}
	out := questionsUserSet{UserIdentificationChallenge: make([]questionsUserEntry, len(stored))}
	for i, a := range stored {
		out.UserIdentificationChallenge[i] = questionsUserEntry{UserID: a.UserID, ChallengeCode: a.ChallengeCode, Answer: a.Answer}
	}
	return h.write(w, r, http.StatusOK, out)
}

func (h *Questions) read(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, err := requestMediaType(r, akanaMediaTypes)
	if err != nil {
		return err
	}
	return decodeBody(w, r, mt, h.maxBody, dst)
}

func (h *Questions) write(w http.ResponseWriter, r *http.Request, status int, v any) error {
	mt, err := responseMediaType(r, akanaMediaTypes)
	if err != nil {
		return err
	}
	return writeAs(w, mt, status, v)
}
