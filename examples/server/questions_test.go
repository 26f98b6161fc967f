package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestAliceUpdatesOneSecurityAnswerAndKeepsTheOthers, over HTTP against
// the demo server: the catalog shows every rule; a PUT of one updated
// answer answers alice's whole set and keeps her other answers, which
// still verify her (ChallengeKBA), as the new one does.
func TestAliceUpdatesOneSecurityAnswerAndKeepsTheOthers(t *testing.T) {
	base, _, stderr := startServer(t, nil, nil)
	call := func(method, path, body string, headers ...string) (int, string) {
		t.Helper()
		status, _, raw := exchange(t, method, base+path, body, append([]string{"Content-Type", "application/json"}, headers...)...)
		return status, raw
	}
	const (
		city  = "com.soa.challenge.question.city.birth"
		color = "com.soa.challenge.question.color"
		pet   = "com.soa.challenge.question.pet"
	)

	// The catalog shows the rules the demo applies.
	status, raw := call("GET", "/api/businesses/"+demoBusiness+"/challenges", "")
	var cat struct {
		Challenge []map[string]any
	}
	if err := json.Unmarshal([]byte(raw), &cat); err != nil || status != 200 || len(cat.Challenge) != 5 {
		t.Fatalf("catalog: %d %s", status, raw)
	}
	for _, q := range cat.Challenge {
		for _, rule := range []string{"CanContainQuestionWords", "CanContainUserID", "CanEqualOtherAnswers"} {
			if q[rule] != false {
				t.Fatalf("catalog entry %v: %s is %v; want false", q["ChallengeCode"], rule, q[rule])
			}
		}
	}

	// One answer updated: her whole set comes back, only the new answer in it.
	alice := []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
	path := "/api/users/" + demoAlice + "/challenges"
	status, raw = call("PUT", path, `{"UserIdentificationChallenge":[{"ChallengeCode":"`+color+`","Answer":"Green"}]}`, alice...)
	var set struct {
		UserIdentificationChallenge []map[string]string
	}
	if err := json.Unmarshal([]byte(raw), &set); err != nil || status != 200 {
		t.Fatalf("PUT of one answer: %d %s", status, raw)
	}
	want := []map[string]string{{"UserID": demoAlice, "ChallengeCode": city}, {"UserID": demoAlice, "ChallengeCode": color, "Answer": "Green"},
		{"UserID": demoAlice, "ChallengeCode": pet}}
	if fmt.Sprint(set.UserIdentificationChallenge) != fmt.Sprint(want) {
		t.Fatalf("PUT of one answer answered %s\nwant %v", raw, want)
	}
	// An answer equal to one she keeps is refused.
	status, raw = call("PUT", path, `{"UserIdentificationChallenge":[{"ChallengeCode":"`+color+`","Answer":"dubai"}]}`, alice...)
	if status != 400 || !strings.Contains(raw, `"Message":"must differ from the user's other answers"`) {
		t.Fatalf("an answer equal to a kept one: %d %s", status, raw)
	}

	// Her old answers and the new one verify her.
	agent := agentAuth
	answers := map[string]string{city: "Dubai", color: "Green", pet: "Bucktastic"}
	authn := func(body string) map[string]any {
		t.Helper()
		status, raw := call("PUT", "/authn/v1", body, agent...)
		var out map[string]any
		if err := json.Unmarshal([]byte(raw), &out); err != nil || status != 200 {
			t.Fatalf("PUT /authn/v1 %s: %d %s", body, status, raw)
		}
		return out
	}
	_, raw = call("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agent...)
	var r map[string]any
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("POST /authn/v1: %s", raw)
	}
	tx := r["correlationId"].(string)
	r = authn(fmt.Sprintf(`{"correlationId":%q,"challengeop":"Init","challengedata":{"factorKey":"ChallengeKBA"}}`, tx))
	asked := 0
	for {
		prompts := r["challengeInfo"].([]any)[0].(map[string]any)["prompts"].([]any)
		if len(prompts) == 0 {
			break
		}
		code := prompts[0].(map[string]any)["key"].(string)
		asked++
		r = authn(fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Validate","challengeAnswer":%q}`, tx, r["nonce"], answers[code]))
		if strings.Contains(fmt.Sprint(r["statusInfo"]), "not correct") {
			t.Fatalf("alice's answer to %s was refused: %v", code, r)
		}
	}
	r = authn(fmt.Sprintf(`{"correlationId":%q,"nonce":%q,"challengeop":"Finalize","challengeResult":"Success"}`, tx, r["nonce"]))
	if asked != 2 || r["statusInfo"].(map[string]any)["status"] != "authenticated" {
		t.Fatalf("after %d answers: %v; want alice authenticated after 2", asked, r)
	}
	if strings.Contains(stderr.String(), "Green") {
		t.Error("the server logged alice's new answer")
	}
}
