package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// The tests in this file drive every write endpoint through a store that
// applies a write and then reports a timeout, as a store client does when
// its deadline passes after the server acted: the endpoint answers 503
// with the code that says the outcome is unknown and the request is safe
// to repeat, and the repeat answers the true outcome.

var (
	bankAuth    = []string{"Authorization", "Bearer " + demoBankToken}
	partnerAuth = []string{"Authorization", "Bearer " + demoPartnerToken}
	agentAuth   = []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="} // demo-agent:demo-agent-secret
	aliceAuth   = []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
)

// unknownThenRepeat sends a request whose write times out after it was
// applied, checks the 503 answer, then repeats the request and returns
// the repeat's answer.
func (e *faultEnv) unknownThenRepeat(kind, method, path, body string, headers ...string) (int, map[string]any) {
	e.t.Helper()
	e.store.timeoutNextWrite(kind)
	status, out := e.do(method, path, body, headers...)
	if e.store.armed() {
		e.t.Fatalf("%s %s wrote no %s record", method, path, kind)
	}
	var code any
	switch {
	case out["code"] != nil:
		code = out["code"]
	case out["statusInfo"] != nil:
		code = out["statusInfo"].(map[string]any)["code"]
	default:
		code = out["Message"]
	}
	if status != 503 || (code != "outcome_unknown" && code != "OUTCOME_UNKNOWN" && code != "Outcome unknown: the change may or may not have been saved. The request is safe to repeat.") {
		e.t.Fatalf("%s %s whose write timed out: %d %v; want 503 saying the outcome is unknown", method, path, status, out)
	}
	return e.do(method, path, body, headers...)
}

func TestPSD2WritesAreSafeToRepeatAfterAnUnknownOutcome(t *testing.T) {
	e := newFaultEnv(t)
	create := `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`
	status, c := e.unknownThenRepeat("psd2", "POST", "/v1/psd2/challenges", create, bankAuth...)
	if status != 201 || c["status"] != "pending" {
		t.Fatalf("create repeated: %d %v; want a challenge", status, c)
	}
	id := c["id"].(string)

	status, first := e.unknownThenRepeat("psd2", "PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-bob"}`, partnerAuth...)
	if status != 400 || first["details"] != "The IBAN requested by the TPP does not belong to the specified person." {
		t.Fatalf("a mismatch repeated: %d %v; want its 400", status, first)
	}
	if r := e.record("psd2", id); r.Attempts != 1 {
		t.Fatalf("a mismatch and its repeat counted %d attempts; want 1", r.Attempts)
	}

	status, patched := e.unknownThenRepeat("psd2", "PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, partnerAuth...)
	if status != 200 || patched["redirect_url"] == nil {
		t.Fatalf("PATCH repeated: %d %v; want the redirect", status, patched)
	}
	if r := e.record("psd2", id); r.State != "redirected" || r.Subject != "p-alice" {
		t.Fatalf("after the repeat: %+v", r)
	}
	if status, again := e.do("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, partnerAuth...); status != 200 || again["redirect_url"] != patched["redirect_url"] {
		t.Fatalf("PATCH once more: %d %v; want the same redirect_url %v", status, again, patched["redirect_url"])
	}

	status, done := e.unknownThenRepeat("psd2", "POST", "/v1/psd2/challenges/"+id+"/second_factor", `{"result":"success"}`, bankAuth...)
	if status != 200 || done["status"] != "authorized" {
		t.Fatalf("second_factor repeated: %d %v; want authorized", status, done)
	}
}

func TestAuthnStepsAreSafeToRepeatAfterAnUnknownOutcome(t *testing.T) {
	e := newFaultEnv(t)
	status, begun := e.unknownThenRepeat("authn", "POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agentAuth...)
	if status != 200 || begun["nonce"] == nil {
		t.Fatalf("Begin repeated: %d %v", status, begun)
	}
	tx := begun["correlationId"].(string)
	put := func(nonce, fields string) string {
		return fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields)
	}
	status, inited := e.unknownThenRepeat("authn", "PUT", "/authn/v1", put(begun["nonce"].(string), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`), agentAuth...)
	if status != 200 || inited["statusInfo"].(map[string]any)["status"] != "pending verification" {
		t.Fatalf("Init repeated: %d %v", status, inited)
	}
	nonce := inited["nonce"].(string)

	status, wrong := e.unknownThenRepeat("authn", "PUT", "/authn/v1", put(nonce, `"challengeop":"Validate","challengeAnswer":"000000"`), agentAuth...)
	if status != 200 || wrong["statusInfo"].(map[string]any)["message"] != "The answer is not correct. 2 attempts left." {
		t.Fatalf("a wrong answer repeated: %d %v; want its answer", status, wrong)
	}
	if r := e.record("authn", tx); r.Attempts != 1 {
		t.Fatalf("a wrong answer and its repeat counted %d attempts; want 1", r.Attempts)
	}
	nonce = wrong["nonce"].(string)

	code, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	validate := put(nonce, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	status, right := e.unknownThenRepeat("authn", "PUT", "/authn/v1", validate, agentAuth...)
	if status != 200 || right["statusInfo"].(map[string]any)["message"] != "Waiting for the user to complete a factor." {
		t.Fatalf("the right code, repeated: %d %v", status, right)
	}
	if status, again := e.do("PUT", "/authn/v1", validate, agentAuth...); status != 200 || again["nonce"] != right["nonce"] {
		t.Fatalf("the right code, repeated once more: %d %v; want the answer %v", status, again, right)
	}
	nonce = right["nonce"].(string)

	status, done := e.unknownThenRepeat("authn", "PUT", "/authn/v1", put(nonce, `"challengeop":"Finalize","challengeResult":"Success"`), agentAuth...)
	if status != 200 || done["statusInfo"].(map[string]any)["status"] != "authenticated" {
		t.Fatalf("Finalize repeated: %d %v; want authenticated", status, done)
	}
}

// TestARightCodeSurvivesItsReplayGuardTimingOut: the TOTP factor claims
// the code's time step in a record of its own before the transaction is
// saved. When that write times out after it was applied, the repeat finds
// the step claimed by this very transaction, and the code still passes.
func TestARightCodeSurvivesItsReplayGuardTimingOut(t *testing.T) {
	e := newFaultEnv(t)
	_, begun := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agentAuth...)
	tx := begun["correlationId"].(string)
	_, inited := e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}}`, tx), agentAuth...)
	code, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	validate := fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`, tx, inited["nonce"], code)
	status, right := e.unknownThenRepeat("authn_totp_used", "PUT", "/authn/v1", validate, agentAuth...)
	if status != 200 || right["statusInfo"].(map[string]any)["message"] != "Waiting for the user to complete a factor." {
		t.Fatalf("the right code, repeated after the replay guard's write timed out: %d %v", status, right)
	}
	// Another transaction cannot use the claimed code.
	_, other := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agentAuth...)
	_, otherInit := e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}}`, other["correlationId"]), agentAuth...)
	_, replayed := e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`,
		other["correlationId"], otherInit["nonce"], code), agentAuth...)
	if replayed["statusInfo"].(map[string]any)["message"] != "The answer is not correct. 2 attempts left." {
		t.Fatalf("the claimed code in another transaction: %v; want it refused", replayed)
	}
}

func TestQuestionsPutIsSafeToRepeatAfterAnUnknownOutcome(t *testing.T) {
	e := newFaultEnv(t)
	path := "/api/users/" + demoAlice + "/challenges"
	set := `{"UserIdentificationChallenge":[{"ChallengeCode":"com.soa.challenge.question.school","Answer":"Lincoln"},
		{"ChallengeCode":"com.soa.challenge.question.color","Answer":"Green"},{"ChallengeCode":"com.soa.challenge.question.mothers.name","Answer":"Okafor"}]}`
	before := e.record("questions_enrollment", demoAlice)
	// Three answers added to or updated in alice's three: five in all,
	// however many times the PUT runs.
	status, out := e.unknownThenRepeat("questions_enrollment", "PUT", path, set, aliceAuth...)
	if status != 200 || len(out["UserIdentificationChallenge"].([]any)) != 5 {
		t.Fatalf("PUT repeated: %d %v", status, out)
	}
	if after := e.record("questions_enrollment", demoAlice); after.Version != before.Version+2 {
		t.Fatalf("enrollment version %d → %d; want the write and its repeat", before.Version, after.Version)
	}
	status, got := e.do("GET", path, "", aliceAuth...)
	if status != 200 || fmt.Sprint(got) == "" || len(got["UserIdentificationChallenge"].([]any)) != 5 {
		t.Fatalf("GET after: %d %v", status, got)
	}
}

// TestARightSecurityAnswerSurvivesItsSaveTimingOut: ChallengeKBA keeps
// which question it asks in the transaction. When the transaction's write
// times out after it was applied, the repeat is answered as the applied
// request was: the question answered, the next one asked.
func TestARightSecurityAnswerSurvivesItsSaveTimingOut(t *testing.T) {
	e := newFaultEnv(t)
	answers := map[string]string{
		"com.soa.challenge.question.city.birth": "Dubai",
		"com.soa.challenge.question.color":      "Blue",
		"com.soa.challenge.question.pet":        "Bucktastic",
	}
	_, begun := e.do("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agentAuth...)
	tx := begun["correlationId"].(string)
	_, r := e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"challengeop":"Init","challengedata":{"factorKey":"ChallengeKBA"}}`, tx), agentAuth...)
	prompt := func(r map[string]any) string {
		ps := r["challengeInfo"].([]any)[0].(map[string]any)["prompts"].([]any)
		if len(ps) == 0 {
			return ""
		}
		return ps[0].(map[string]any)["key"].(string)
	}
	first := prompt(r)
	validate := fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`, tx, r["nonce"], answers[first])
	status, next := e.unknownThenRepeat("authn", "PUT", "/authn/v1", validate, agentAuth...)
	if status != 200 || strings.Contains(fmt.Sprint(next["statusInfo"]), "not correct") {
		t.Fatalf("the first right answer, repeated after the transaction's write timed out: %d %v", status, next)
	}
	second := prompt(next)
	if second == "" || second == first {
		t.Fatalf("after the first question %s the prompt is %q; want the next question", first, second)
	}
	_, done := e.do("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`,
		tx, next["nonce"], answers[second]), agentAuth...)
	if prompt(done) != "" || strings.Contains(fmt.Sprint(done["statusInfo"]), "not correct") {
		t.Fatalf("the second right answer: %v; want the factor satisfied", done)
	}
}
