package questionshttp_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/internal/httpkittest"
	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
	"github.com/challengekit/challengekit/questions"
)

const (
	fed        = "acmepaymentscorp"
	akanaAlice = "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp"
	akanaBob   = "eceffbe3-3386-495b-80d3-7526f0eb0edc.acmepaymentscorp"
	akanaAdmin = "admin.acmepaymentscorp"
	v72json    = "application/vnd.soa.v72+json"
	v72xml     = "application/vnd.soa.v72+xml"
)

// akanaSample is the original platform's sample request body (Akana's documentation).
const akanaSample = `{
  "UserIdentificationChallenge" : [ {
    "UserID" : "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp",
    "ChallengeCode" : "com.soa.challenge.question.city.birth",
    "Answer" : "Dubai"
  }, {
    "UserID" : "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp",
    "ChallengeCode" : "com.soa.challenge.question.color",
    "Answer" : "Blue"
  }, {
    "UserID" : "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp",
    "ChallengeCode" : "com.soa.challenge.question.pet",
    "Answer" : "Bucktastic"
  } ]
}`

const akanaSampleXML = `<UserIdentificationChallenges>
  <UserIdentificationChallenge><UserID>9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp</UserID><ChallengeCode>com.soa.challenge.question.city.birth</ChallengeCode><Answer>Dubai</Answer></UserIdentificationChallenge>
  <UserIdentificationChallenge><UserID>9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp</UserID><ChallengeCode>com.soa.challenge.question.color</ChallengeCode><Answer>Blue</Answer></UserIdentificationChallenge>
  <UserIdentificationChallenge><UserID>9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp</UserID><ChallengeCode>com.soa.challenge.question.pet</ChallengeCode><Answer>Bucktastic</Answer></UserIdentificationChallenge>
</UserIdentificationChallenges>`

// demoRules are the demo server's three rules on every active question.
const demoRules = `"CanContainQuestionWords":false,"CanContainUserID":false,"CanEqualOtherAnswers":false`

// demoCatalogJSON is the demo server's catalog, with one inactive question.
const demoCatalogJSON = `{"Challenge":[
 {"ChallengeCode":"com.soa.challenge.question.city.birth","ChallengeQuestion":"What is the city of your birth?","MinimumLength":3,"MaximumLength":64,` + demoRules + `,"IsCaseSensitive":false},
 {"ChallengeCode":"com.soa.challenge.question.color","ChallengeQuestion":"What is your favorite color?","MinimumLength":3,"MaximumLength":64,` + demoRules + `,"IsCaseSensitive":false},
 {"ChallengeCode":"com.soa.challenge.question.pet","ChallengeQuestion":"What is the name of your pet?","MinimumLength":3,"MaximumLength":64,` + demoRules + `,"IsCaseSensitive":false},
 {"ChallengeCode":"com.soa.challenge.question.mothers.name","ChallengeQuestion":"What is your mother's maiden name?","MinimumLength":3,"MaximumLength":64,` + demoRules + `,"IsCaseSensitive":false},
 {"ChallengeCode":"com.soa.challenge.question.school","ChallengeQuestion":"What was the name of your first school?","MinimumLength":3,"MaximumLength":64,` + demoRules + `,"IsCaseSensitive":false},
 {"ChallengeCode":"com.soa.challenge.question.retired","ChallengeQuestion":"An old question?","Active":false}
],"RequiredAnswerCount":3}`

type akanaEnv struct {
	t     testing.TB
	srv   *httptest.Server
	logs  *challengetest.LogBuffer
	store challenge.Store
}

// newAkanaEnv serves the demo business with cheap hashing parameters, so
// tests stay quick.
func newAkanaEnv(t testing.TB) *akanaEnv {
	return newAkanaEnvWith(t, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
}

func newAkanaEnvWith(t testing.TB, opts questions.Options) *akanaEnv {
	t.Helper()
	return newAkanaEnvFull(t, opts, questionshttp.Options{})
}

// newAkanaEnvFull is newAkanaEnvWith with the handler's options too (its
// Logger is the env's).
func newAkanaEnvFull(t testing.TB, opts questions.Options, hopts questionshttp.Options) *akanaEnv {
	t.Helper()
	logs := &challengetest.LogBuffer{}
	return newAkanaEnvLogging(t, opts, hopts, logs, zerolog.New(logs).Level(zerolog.DebugLevel))
}

// newAkanaEnvLogging is newAkanaEnvFull with its own logger; benchmarks log
// at info level to a sink that keeps nothing, as a production server would
// cost.
func newAkanaEnvLogging(t testing.TB, opts questions.Options, hopts questionshttp.Options, logs *challengetest.LogBuffer, logger zerolog.Logger) *akanaEnv {
	t.Helper()
	e := &akanaEnv{t: t, logs: logs}
	store, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.store = store
	opts.Engine.Logger = logger
	svc, err := questions.NewService(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := questionshttp.NewCookieSessions(fed, []questionshttp.Session{
		{Token: "TokenID=alice-demo", CSRFToken: "csrf-alice-demo", Caller: questionshttp.Caller{UserID: akanaAlice}},
		{Token: "TokenID=bob-demo", CSRFToken: "csrf-bob-demo", Caller: questionshttp.Caller{UserID: akanaBob}},
		{Token: "TokenID=admin-demo", CSRFToken: "csrf-admin-demo", Caller: questionshttp.Caller{UserID: akanaAdmin, SiteAdmin: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hopts.Logger = logger
	h, err := questionshttp.New(svc, sessions, hopts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httpkittest.Serve(t, h, nil)
	if r := e.send("PUT", "/api/businesses/acmepaymentscorp/challenges", "admin", demoCatalogJSON, "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("catalog: %d %s", r.status, r.raw)
	}
	return e
}

type akanaReply struct {
	status      int
	contentType string
	raw         string
}

// send makes a request as the demo user who ("alice", "bob", "admin"; ""
// sends no session), with their CSRF header unless headers set it, adding
// header pairs.
func (e *akanaEnv) send(method, path, who, body string, headers ...string) akanaReply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if who != "" {
		req.AddCookie(&http.Cookie{Name: "AtmoAuthToken_" + fed, Value: "TokenID=" + who + "-demo"})
		req.Header.Set("X-Csrf-Token_"+fed, "csrf-"+who+"-demo")
	}
	resp, raw := httpkittest.Exchange(e.t, e.srv, req, headers...)
	return akanaReply{resp.StatusCode, resp.Header.Get("Content-Type"), raw}
}

type userSet struct {
	UserIdentificationChallenge []struct {
		UserID, ChallengeCode, ChallengeQuestion, Answer string
	}
}

func (e *akanaEnv) decode(r akanaReply, v any) {
	e.t.Helper()
	var err error
	if strings.HasSuffix(r.contentType, "xml") {
		err = xml.Unmarshal([]byte(r.raw), v)
	} else {
		err = json.Unmarshal([]byte(r.raw), v)
	}
	if err != nil {
		e.t.Fatalf("%s body %q: %v", r.contentType, r.raw, err)
	}
}

// wantError checks the error body: Code, Message, and the field errors.
func (e *akanaEnv) wantError(r akanaReply, status int, fields ...string) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	var body struct {
		Code    int
		Message string
		Errors  []struct{ Field, Message string }
	}
	e.decode(r, &body)
	if body.Code != status || body.Message == "" {
		e.t.Fatalf("error body %s", r.raw)
	}
	var got []string
	for _, fe := range body.Errors {
		got = append(got, fe.Field+": "+fe.Message)
	}
	if strings.Join(got, "\n") != strings.Join(fields, "\n") {
		e.t.Fatalf("field errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(fields, "\n"))
	}
}

func TestAkanaSampleRoundTripInJSON(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	r := e.send("PUT", path, "alice", akanaSample, "Content-Type", v72json, "Accept", v72json)
	if r.status != 200 || r.contentType != v72json {
		t.Fatalf("PUT: %d %s %s", r.status, r.contentType, r.raw)
	}
	var got, want any
	_ = json.Unmarshal([]byte(akanaSample), &want)
	e.decode(r, &got)
	if g, _ := json.Marshal(got); string(g) != mustCompact(t, akanaSample) {
		t.Fatalf("response %s\nwant the sample back %s", g, mustCompact(t, akanaSample))
	}
	r = e.send("GET", path, "alice", "", "Accept", v72json)
	var set userSet
	e.decode(r, &set)
	if r.status != 200 || len(set.UserIdentificationChallenge) != 3 || strings.Contains(r.raw, "Dubai") || strings.Contains(r.raw, "Answer") ||
		set.UserIdentificationChallenge[0].ChallengeQuestion != "What is the city of your birth?" {
		t.Fatalf("GET: %d %s", r.status, r.raw)
	}
}

func mustCompact(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAkanaSampleRoundTripInXML(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	r := e.send("PUT", path, "alice", akanaSampleXML, "Content-Type", v72xml, "Accept", v72xml)
	if r.status != 200 || r.contentType != v72xml || !strings.HasPrefix(r.raw, "<?xml") {
		t.Fatalf("PUT: %d %s %s", r.status, r.contentType, r.raw)
	}
	var set userSet
	e.decode(r, &set)
	if len(set.UserIdentificationChallenge) != 3 || set.UserIdentificationChallenge[2].Answer != "Bucktastic" ||
		set.UserIdentificationChallenge[1].UserID != akanaAlice || !strings.Contains(r.raw, "<UserIdentificationChallenges><UserIdentificationChallenge><UserID>") {
		t.Fatalf("XML echo: %s", r.raw)
	}
	r = e.send("GET", path, "alice", "", "Accept", "application/xml")
	if r.status != 200 || r.contentType != "application/xml" || strings.Contains(r.raw, "<Answer>") {
		t.Fatalf("GET in XML: %d %s", r.status, r.raw)
	}
}

func TestAkanaRuleViolations(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	if r := e.send("PUT", path, "alice", akanaSample); r.status != 200 {
		t.Fatalf("enroll: %d %s", r.status, r.raw)
	}
	tooShort := strings.Replace(akanaSample, `"Blue"`, `"Bl"`, 1)
	e.wantError(e.send("PUT", path, "alice", tooShort), 400, "UserIdentificationChallenge[1].Answer: must be at least 3 characters")
	several := `{"UserIdentificationChallenge":[
		{"ChallengeCode":"com.soa.challenge.question.city.birth","Answer":"Dubai"},
		{"UserID":"` + akanaBob + `","ChallengeCode":"com.soa.challenge.question.color","Answer":"dubai"},
		{"ChallengeCode":"com.soa.challenge.question.retired","Answer":"whatever"}]}`
	e.wantError(e.send("PUT", path, "alice", several), 400,
		"UserIdentificationChallenge[1].UserID: must be the user the request is for",
		"UserIdentificationChallenge[1].Answer: must differ from the answer to entry 0",
		"UserIdentificationChallenge[2].ChallengeCode: is not an active question of the business")
	// All or nothing: the refused updates left the first set in place.
	var set userSet
	e.decode(e.send("GET", path, "alice", ""), &set)
	if len(set.UserIdentificationChallenge) != 3 || set.UserIdentificationChallenge[1].ChallengeCode != "com.soa.challenge.question.color" {
		t.Fatalf("after refused updates: %+v", set)
	}
	r := e.send("PUT", path, "alice", strings.Replace(akanaSampleXML, "<Answer>Blue</Answer>", "<Answer>B</Answer>", 1),
		"Content-Type", "application/xml", "Accept", "application/xml")
	if r.contentType != "application/xml" || !strings.Contains(r.raw, "<Error><Code>400</Code>") ||
		!strings.Contains(r.raw, "<Errors><Field>UserIdentificationChallenge[1].Answer</Field><Message>must be at least 3 characters</Message></Errors>") {
		t.Fatalf("XML error body: %s %s", r.contentType, r.raw)
	}
}

func TestAkanaWhoMayActForWhom(t *testing.T) {
	e := newAkanaEnv(t)
	alicePath := "/api/users/" + akanaAlice + "/challenges"
	e.wantError(e.send("PUT", alicePath, "bob", akanaSample), 403)
	e.wantError(e.send("GET", alicePath, "bob", ""), 403)
	if r := e.send("PUT", alicePath, "admin", akanaSample); r.status != 200 {
		t.Fatalf("site admin for alice: %d %s", r.status, r.raw)
	}
	if r := e.send("GET", alicePath, "admin", ""); r.status != 200 || !strings.Contains(r.raw, "com.soa.challenge.question.pet") {
		t.Fatalf("site admin reads alice: %d %s", r.status, r.raw)
	}
	e.wantError(e.send("PUT", alicePath, "", akanaSample), 401)
	e.wantError(e.send("GET", alicePath, "", ""), 401)
	e.wantError(e.send("PUT", alicePath, "alice", akanaSample, "X-Csrf-Token_"+fed, ""), 401)
	e.wantError(e.send("PUT", alicePath, "alice", akanaSample, "X-Csrf-Token_"+fed, "csrf-bob-demo"), 401)
	e.wantError(e.send("PUT", alicePath, "alice", akanaSample, "Cookie", "AtmoAuthToken_"+fed+"=TokenID=forged-session"), 401)
	if r := e.send("GET", alicePath, "alice", "", "X-Csrf-Token_"+fed, ""); r.status != 200 {
		t.Fatalf("GET needs no CSRF header: %d %s", r.status, r.raw)
	}
	e.wantError(e.send("PUT", "/api/businesses/acmepaymentscorp/challenges", "alice", demoCatalogJSON), 403)
}

// TestAkanaSiteAdminsAdministerTheirOwnBusinessOnly: a site admin of one
// business may not change another's catalog or act for its users, even
// through the same handler and store.
func TestAkanaSiteAdminsAdministerTheirOwnBusinessOnly(t *testing.T) {
	e := newAkanaEnv(t)
	e.wantError(e.send("PUT", "/api/businesses/othercorp/challenges", "admin", demoCatalogJSON), 403)
	e.wantError(e.send("GET", "/api/businesses/othercorp/challenges", "", ""), 404) // and nothing was stored
	for _, method := range []string{"GET", "PUT"} {
		e.wantError(e.send(method, "/api/users/9e4351af-c642-4992-89e0-262a9bfaf223.othercorp/challenges", "admin", akanaSample), 403)
	}

	// An authenticator that names no business for its admin fails closed.
	if _, err := questionshttp.NewCookieSessions(fed, []questionshttp.Session{{Token: "TokenID=other-admin", CSRFToken: "csrf-other-admin",
		Caller: questionshttp.Caller{UserID: "admin.othercorp", SiteAdmin: true, Business: "othercorp"}}}); err == nil {
		t.Fatal("CookieSessions of acmepaymentscorp accepted a session of othercorp")
	}
	svc, err := questions.NewService(e.store, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	nobody := questionsAuthFunc(func(*http.Request) (questionshttp.Caller, error) {
		return questionshttp.Caller{UserID: "root", SiteAdmin: true}, nil
	})
	h, err := questionshttp.New(svc, nobody, questionshttp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpkittest.Serve(t, h, nil)
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/api/businesses/acmepaymentscorp/challenges", demoCatalogJSON},
		{"GET", "/api/users/" + akanaAlice + "/challenges", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if resp, raw := httpkittest.Exchange(t, srv, req, "Content-Type", "application/json"); resp.StatusCode != 403 {
			t.Errorf("%s %s by an admin of no business: %d %s", tc.method, tc.path, resp.StatusCode, raw)
		}
	}
}

type questionsAuthFunc func(*http.Request) (questionshttp.Caller, error)

func (f questionsAuthFunc) Authenticate(r *http.Request) (questionshttp.Caller, error) {
	return f(r)
}

func TestAkanaCatalog(t *testing.T) {
	e := newAkanaEnv(t)
	r := e.send("GET", "/api/businesses/acmepaymentscorp/challenges", "", "")
	var cat struct {
		Challenge []struct {
			ChallengeCode string
			MinimumLength *int
			Active        *bool
		}
		RequiredAnswerCount int
	}
	e.decode(r, &cat)
	if r.status != 200 || len(cat.Challenge) != 5 || *cat.Challenge[0].MinimumLength != 3 || cat.RequiredAnswerCount != 3 {
		t.Fatalf("catalog without login: %d %s", r.status, r.raw)
	}
	e.decode(e.send("GET", "/api/businesses/acmepaymentscorp/challenges?IncludeInactive=true", "", ""), &cat)
	if len(cat.Challenge) != 6 || *cat.Challenge[5].Active {
		t.Fatalf("IncludeInactive: %+v", cat)
	}
	e.wantError(e.send("GET", "/api/businesses/nobody/challenges", "", ""), 404)
	bad := `{"Challenge":[{"ChallengeCode":"a","ChallengeQuestion":"A?","MinimumLength":9,"MaximumLength":2},{"ChallengeCode":"a"}]}`
	e.wantError(e.send("PUT", "/api/businesses/acmepaymentscorp/challenges", "admin", bad), 400,
		"Challenge[0].MaximumLength: must not be less than MinimumLength",
		"Challenge[1].ChallengeCode: appears more than once",
		"Challenge[1].ChallengeQuestion: is required",
		"RequiredAnswerCount: is 3, but the catalog has 2 active questions")
}

func TestAkanaMediaTypesAndRequestErrors(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	e.wantError(e.send("PUT", path, "alice", akanaSample, "Content-Type", "text/plain"), 415)
	r := e.send("GET", path, "alice", "", "Accept", "text/html")
	e.wantError(r, 406)
	if r.contentType != "application/json" {
		t.Errorf("406 answered in %q", r.contentType)
	}
	for accept, want := range map[string]string{
		"application/vnd.soa.v80+xml":                   "application/vnd.soa.v80+xml",
		"text/html, application/vnd.soa.v81+json;q=0.9": "application/vnd.soa.v81+json",
		"application/xml;q=0.5, application/json":       "application/json",
		"*/*":                                "application/json",
		"application/xml;q=0, application/*": "application/json",
	} {
		if r := e.send("GET", path, "alice", "", "Accept", accept); r.status != 200 || r.contentType != want {
			t.Errorf("Accept %q: %d %q; want %q", accept, r.status, r.contentType, want)
		}
	}
	e.wantError(e.send("DELETE", path, "alice", ""), 405)
	e.wantError(e.send("PUT", path, "alice", `{"UserIdentificationChallenge":`), 400)
	e.wantError(e.send("PUT", path, "alice", `{"UserIdentificationChallenge":"no"}`), 400, "UserIdentificationChallenge: must be a list")
	e.wantError(e.send("PUT", path, "alice", strings.Repeat(" ", questionshttp.DefaultMaxBodyBytes+1)+"{}"), 413)
	billionLaughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<UserIdentificationChallenges><UserIdentificationChallenge><ChallengeCode>&lol2;</ChallengeCode></UserIdentificationChallenge></UserIdentificationChallenges>`
	e.wantError(e.send("PUT", path, "alice", billionLaughs, "Content-Type", "application/xml"), 400)
	e.wantError(e.send("PUT", path, "alice", `<Other/>`, "Content-Type", "application/xml"), 400)
}

func TestAkanaLogsNoAnswer(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	e.send("PUT", path, "alice", akanaSample)
	e.send("PUT", path, "alice", strings.Replace(akanaSample, `"Bucktastic"`, `"Zq"`, 1))
	e.send("PUT", path, "bob", akanaSample)
	e.send("PUT", path, "alice", akanaSample, "X-Csrf-Token_"+fed, "")
	logs := e.logs.String()
	if !strings.Contains(logs, `"status":400`) || !strings.Contains(logs, `"status":403`) {
		t.Fatalf("the refusals were not logged; the test proves nothing:\n%s", logs)
	}
	for _, secret := range []string{"Dubai", "Blue", "Bucktastic", "Zq", "csrf-alice-demo", "alice-demo", "$argon2id$"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestAkanaConcurrentEnrollmentsStayWhole(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	done := make(chan int, 8)
	for range 8 {
		go func() { done <- e.send("PUT", path, "alice", akanaSample).status }()
	}
	for range 8 {
		if s := <-done; s != 200 {
			t.Fatalf("concurrent PUT: %d", s)
		}
	}
}

func TestAkanaNamesTheMethodsItTakes(t *testing.T) {
	e := newAkanaEnv(t)
	for _, path := range []string{"/api/users/" + akanaAlice + "/challenges", "/api/businesses/" + fed + "/challenges"} {
		req, _ := http.NewRequest("POST", e.srv.URL+path, nil)
		if resp, raw := httpkittest.Exchange(t, e.srv, req); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, PUT" {
			t.Errorf("POST %s: %d, Allow %q, %s; want 405 and Allow GET, HEAD, PUT", path, resp.StatusCode, resp.Header.Get("Allow"), raw)
		}
	}
}
