package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/internal/bareserver"
)

// The demo server's data; the bare server accepts anything.
const (
	partnerToken   = "demo-partner-token"
	bankToken      = "demo-bank-token"
	agentID        = "demo-agent"
	agentSecret    = "demo-agent-secret"
	totpSecret     = "JBSWY3DPEHPK3PXP"
	business       = "acmepaymentscorp"
	aliceAkana     = "9e4351af-c642-4992-89e0-262a9bfaf223.acmepaymentscorp"
	aliceCookie    = "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo"
	adminCookie    = "AtmoAuthToken_acmepaymentscorp=TokenID=admin-demo"
	adminCSRF      = "csrf-admin-demo"
	csrfHeaderName = "X-Csrf-Token_acmepaymentscorp"
)

// agentAuthorization is the demo agent's HTTP Basic credential.
var agentAuthorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(agentID+":"+agentSecret))

// scenario is one realistic flow of requests. The client does the same work
// whichever server answers, so that the ratio measures the servers.
type scenario struct {
	name  string
	about string
	flow  func(ctx context.Context, c *client) error
}

var scenarios = []scenario{
	{"psd2", "POST create, GET, PATCH person, POST second_factor (4 requests)", psd2Flow},
	{"authn", "POST begin, PUT Init TOTP, PUT Validate code, PUT Finalize (4 requests)", authnFlow},
	{"email", "POST begin, PUT Init ChallengeEmail (a code to the outbox), PUT Validate the code, PUT Finalize (4 requests)", emailFlow},
	{"kba", "POST begin, PUT Init ChallengeKBA, PUT Validate two answers (argon2id each), PUT Finalize (5 requests)", kbaFlow},
	{"questions", "GET the business's catalog, GET alice's questions (2 requests)", questionsFlow},
	{"questions-put", "PUT three answers for a new user as site admin (argon2id, default parameters)", questionsPutFlow},
}

func scenarioNamed(name string) (scenario, bool) {
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return scenario{}, false
	}
	return scenarios[i], true
}

// client sends one flow's requests to one server and records each
// request's latency. A client belongs to one worker goroutine.
type client struct {
	http      *http.Client
	base      string
	seq       *atomic.Uint64 // numbers new users across workers
	users     int            // how many load-N (and mail-N) authn users the server has
	kbaUsers  int            // how many kba-N authn users the server has
	outbox    *outbox        // the codes the server sends, if it sends any
	latencies []time.Duration
	buf       bytes.Buffer
	shapes    *shapes // if set, records each step's response fields
	// stepHeader sends each request's step name (bareserver.StepHeader),
	// for a bare server that pays each step's Redis round trips.
	stepHeader bool
	// mark, if set, is called around each request ("begin" and "end",
	// with the step's name), for countTrips's markers.
	mark func(what, step string) error
}

// call sends one request and decodes the JSON answer into out. Any status
// other than want is an error, with the start of the body.
func (c *client) call(ctx context.Context, step, method, path string, body any, want int, out any, headers ...string) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c.stepHeader {
		req.Header.Set(bareserver.StepHeader, step)
	}
	if c.mark != nil {
		if err := c.mark("begin", step); err != nil {
			return err
		}
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	c.latencies = append(c.latencies, time.Since(start))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", step, err)
	}
	if c.mark != nil {
		if err := c.mark("end", step); err != nil {
			return err
		}
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s: status %d, want %d: %.200s", step, resp.StatusCode, want, c.buf.Bytes())
	}
	if c.shapes != nil {
		c.shapes.record(step, c.buf.Bytes())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(c.buf.Bytes(), out); err != nil {
		return fmt.Errorf("%s: answer is not the expected JSON: %w", step, err)
	}
	return nil
}

func psd2Flow(ctx context.Context, c *client) error {
	bank, partner := []string{"Authorization", "Bearer " + bankToken}, []string{"Authorization", "Bearer " + partnerToken}
	var ch struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		RedirectURL string `json:"redirect_url"`
	}
	if err := c.call(ctx, "psd2 create", "POST", "/v1/psd2/challenges", map[string]string{
		"iban": "DE02120300000000202051", "tpp_name": "Load Test TPP", "tpp_id": "tpp-load", "scope": "accounts",
	}, http.StatusCreated, &ch, bank...); err != nil {
		return err
	}
	path := "/v1/psd2/challenges/" + ch.ID
	if err := c.call(ctx, "psd2 get", "GET", path, nil, http.StatusOK, &ch, partner...); err != nil {
		return err
	}
	if err := c.call(ctx, "psd2 patch", "PATCH", path, map[string]string{"person_id": "p-alice"}, http.StatusOK, &ch, partner...); err != nil {
		return err
	}
	if ch.RedirectURL == "" {
		return fmt.Errorf("psd2 patch: no redirect_url")
	}
	if err := c.call(ctx, "psd2 second_factor", "POST", path+"/second_factor", map[string]string{"result": "success"}, http.StatusOK, &ch, bank...); err != nil {
		return err
	}
	if ch.Status != "authorized" {
		return fmt.Errorf("psd2 second_factor: status %q, want authorized", ch.Status)
	}
	return nil
}

type authnAnswer struct {
	CorrelationID string `json:"correlationId"`
	Nonce         string `json:"nonce"`
	StatusInfo    struct {
		Status string `json:"status"`
	} `json:"statusInfo"`
	ChallengeInfo []struct {
		Prompts []struct {
			Key string `json:"key"`
		} `json:"prompts"`
	} `json:"challengeInfo"`
}

// prompt is the key of the answer's first prompt, or "".
func (a *authnAnswer) prompt() string {
	if len(a.ChallengeInfo) == 0 || len(a.ChallengeInfo[0].Prompts) == 0 {
		return ""
	}
	return a.ChallengeInfo[0].Prompts[0].Key
}

// login runs one factor transaction as the demo agent: POST for user, PUT
// Init factor, one PUT Validate per answer (answer(a) reads the answer
// to send from the latest response a), PUT Finalize Success. Steps are
// named after the scenario.
func login(ctx context.Context, c *client, name, user, factor string, answers int, answer func(a *authnAnswer) (string, error)) error {
	basic := []string{"Authorization", agentAuthorization}
	var a authnAnswer
	if err := c.call(ctx, name+" begin", "POST", "/authn/v1", map[string]any{"userInfo": map[string]string{"userId": user}},
		http.StatusOK, &a, basic...); err != nil {
		return err
	}
	put := func(step string, body map[string]any) error {
		body["correlationId"], body["nonce"] = a.CorrelationID, a.Nonce
		return c.call(ctx, step, "PUT", "/authn/v1", body, http.StatusOK, &a, basic...)
	}
	if err := put(name+" init", map[string]any{"challengeop": "Init", "challengedata": map[string]string{"factorKey": factor}}); err != nil {
		return err
	}
	for i := range answers {
		text, err := answer(&a)
		if err != nil {
			return fmt.Errorf("%s validate: %w", name, err)
		}
		step := name + " validate"
		if i > 0 {
			step += " " + strconv.Itoa(i+1)
		}
		if err := put(step, map[string]any{"challengeop": "Validate", "challengeAnswer": text}); err != nil {
			return err
		}
	}
	if err := put(name+" finalize", map[string]any{"challengeop": "Finalize", "challengeResult": "Success"}); err != nil {
		return err
	}
	if a.StatusInfo.Status != "authenticated" {
		return fmt.Errorf("%s finalize: status %q, want authenticated", name, a.StatusInfo.Status)
	}
	return nil
}

// loadUser takes the next of n load users named prefix-0 … in turn, so
// that no user logs in twice within a TOTP step (a code passes once), has
// two logins at once, or spends its budgets (starts, deliveries) early.
func (c *client) loadUser(prefix string, n int) string {
	return prefix + strconv.FormatUint(c.seq.Add(1)%uint64(n), 10)
}

// authnFlow logs in one of the server's load users with TOTP.
func authnFlow(ctx context.Context, c *client) error {
	if c.users <= 0 {
		return fmt.Errorf("authn: the server has no load users (-users)")
	}
	return login(ctx, c, "authn", c.loadUser("load-", c.users), "ChallengeOMATOTP", 1, func(*authnAnswer) (string, error) {
		return codes.now(), nil
	})
}

// emailFlow logs in one of the server's mail-N users with a code the
// server sends to mail-N@example.com, read from the outbox.
func emailFlow(ctx context.Context, c *client) error {
	if c.users <= 0 || c.outbox == nil {
		return fmt.Errorf("email: the server has no load users (-users) or no outbox")
	}
	user := c.loadUser("mail-", c.users)
	code := c.outbox.expect(user + "@example.com")
	defer code.cancel()
	return login(ctx, c, "email", user, "ChallengeEmail", 1, func(*authnAnswer) (string, error) {
		return code.wait(ctx, codeWait)
	})
}

// codeWait bounds the wait for a code: the server writes it before it
// answers Init, so only a lost code takes long.
const codeWait = 10 * time.Second

// kbaAnswers are the kba-N users' answers (alice's), by question code.
var kbaAnswers = map[string]string{
	"com.soa.challenge.question.city.birth": "Dubai",
	"com.soa.challenge.question.color":      "Blue",
	"com.soa.challenge.question.pet":        "Bucktastic",
}

// kbaQuestions is how many questions the demo's ChallengeKBA asks
// (questions.Options.QuestionsPerVerification's default).
const kbaQuestions = 2

// kbaFlow logs in one of the server's kba-N users with their security
// questions: two right answers, each checked against an argon2id hash.
func kbaFlow(ctx context.Context, c *client) error {
	if c.kbaUsers <= 0 {
		return fmt.Errorf("kba: the server has no KBA load users (-kba-users)")
	}
	return login(ctx, c, "kba", c.loadUser("kba-", c.kbaUsers), "ChallengeKBA", kbaQuestions, func(a *authnAnswer) (string, error) {
		q := a.prompt()
		answer, ok := kbaAnswers[q]
		if !ok {
			return "", fmt.Errorf("asked %q, which the load users did not answer", q)
		}
		return answer, nil
	})
}

func questionsFlow(ctx context.Context, c *client) error {
	var cat struct{ Challenge []json.RawMessage }
	if err := c.call(ctx, "questions catalog", "GET", "/api/businesses/"+business+"/challenges", nil, http.StatusOK, &cat); err != nil {
		return err
	}
	var mine struct{ UserIdentificationChallenge []json.RawMessage }
	if err := c.call(ctx, "questions mine", "GET", "/api/users/"+aliceAkana+"/challenges", nil, http.StatusOK, &mine,
		"Cookie", aliceCookie); err != nil {
		return err
	}
	if len(cat.Challenge) == 0 || len(mine.UserIdentificationChallenge) == 0 {
		return fmt.Errorf("questions: empty catalog or enrollment")
	}
	return nil
}

func questionsPutFlow(ctx context.Context, c *client) error {
	user := "load-put-" + strconv.FormatUint(c.seq.Add(1), 10) + "." + business
	answers := map[string]any{"UserIdentificationChallenge": []map[string]string{
		{"ChallengeCode": "com.soa.challenge.question.city.birth", "Answer": "Paris"},
		{"ChallengeCode": "com.soa.challenge.question.color", "Answer": "Green"},
		{"ChallengeCode": "com.soa.challenge.question.pet", "Answer": "Rex the dog"},
	}}
	var echo struct{ UserIdentificationChallenge []json.RawMessage }
	if err := c.call(ctx, "questions put", "PUT", "/api/users/"+user+"/challenges", answers, http.StatusOK, &echo,
		"Cookie", adminCookie, csrfHeaderName, adminCSRF); err != nil {
		return err
	}
	if len(echo.UserIdentificationChallenge) != 3 {
		return fmt.Errorf("questions put: echoed %d answers, want 3", len(echo.UserIdentificationChallenge))
	}
	return nil
}

// codes is the demo secret's current TOTP code, computed once per step
// rather than once per login: an authenticator app's work, not the server's.
var codes codeCache

type codeCache struct {
	mu   sync.Mutex
	step int64
	code string
}

func (c *codeCache) now() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if step := now.Unix() / 30; step != c.step || c.code == "" {
		code, err := totp.GenerateCode(totpSecret, now)
		if err != nil {
			panic("challengeload: the demo TOTP secret is not base32: " + err.Error())
		}
		c.step, c.code = step, code
	}
	return c.code
}

// shapes records the top-level fields of each step's answers, so a test can
// check that the bare server answers in the same shape as the real one.
type shapes struct {
	mu     sync.Mutex
	fields map[string][]string
}

func (s *shapes) record(step string, body []byte) {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fields == nil {
		s.fields = map[string][]string{}
	}
	s.fields[step] = keys
}
