package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// TestNoSecretInLogsOrErrorBodies drives every flow through the demo server
// with logging at debug level, right and wrong, and then looks for every
// secret that crossed the wire in the logs and in every error body.
func TestNoSecretInLogsOrErrorBodies(t *testing.T) {
	e := newFaultEnv(t)
	var secrets []string
	var errorBodies []string
	send := func(method, path, body string, headers ...string) map[string]any {
		t.Helper()
		rec := e.exchange(method, path, body, headers...)
		if rec.Code >= 400 {
			errorBodies = append(errorBodies, rec.Body.String())
		}
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if n, ok := out["nonce"].(string); ok && n != "" {
			secrets = append(secrets, n)
		}
		return out
	}
	basic := func(id, secret string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}
	}
	bank, partner := []string{"Authorization", "Bearer " + demoBankToken}, []string{"Authorization", "Bearer " + demoPartnerToken}
	secrets = append(secrets, demoBankToken, demoPartnerToken, demoAgentSecret, "wrong-agent-secret", demoTOTPSecret,
		"alice-demo", "csrf-alice-demo", "csrf-forged-token", "Dubai", "Bucktastic", "Lincoln-High", "Secret-Okafor", "Q!")

	// PSD2: the redirect token is a secret too.
	c := send("POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`, bank...)
	id := c["id"].(string)
	send("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-bob"}`, partner...)
	p := send("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, partner...)
	_, token, _ := strings.Cut(p["redirect_url"].(string), "consent_challenge=")
	secrets = append(secrets, token)
	send("PATCH", "/v1/psd2/challenges/"+id, `{"person_id":"p-alice"}`, "Authorization", "Bearer not-"+demoPartnerToken)
	send("POST", "/v1/psd2/challenges/"+id+"/second_factor", `{"result":"success"}`, bank...)

	// Security questions: right, refused, forged CSRF.
	alice := []string{"Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-alice-demo"}
	path := "/api/users/" + demoAlice + "/challenges"
	answers := `{"UserIdentificationChallenge":[{"ChallengeCode":"com.soa.challenge.question.city.birth","Answer":"Dubai"},
		{"ChallengeCode":"com.soa.challenge.question.school","Answer":"Lincoln-High"},{"ChallengeCode":"com.soa.challenge.question.mothers.name","Answer":"Secret-Okafor"}]}`
	send("PUT", path, answers, alice...)
	send("PUT", path, strings.Replace(answers, "Secret-Okafor", "Q!", 1), alice...)
	send("PUT", path, answers, "Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo", "X-Csrf-Token_acmepaymentscorp", "csrf-forged-token")
	send("GET", path, "", alice...)

	// Factor transactions: TOTP right and wrong, a replay, e-mail, security
	// questions, a bad agent secret.
	agent := basic(demoAgentID, demoAgentSecret)
	r := send("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agent...)
	put := func(r map[string]any, fields string) map[string]any {
		return send("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, r["correlationId"], r["nonce"], fields), agent...)
	}
	first := r
	r = put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	code, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	secrets = append(secrets, code, "135792")
	r = put(r, `"challengeop":"Validate","challengeAnswer":"135792"`)
	r = put(r, fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	put(first, `"challengeop":"Finalize","challengeResult":"Success"`) // replayed nonce
	put(r, `"challengeop":"Finalize","challengeResult":"Success"`)
	k := send("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, agent...)
	k = put(k, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeKBA"}`)
	put(k, `"challengeop":"Validate","challengeAnswer":"Dubai"`)
	b := send("POST", "/authn/v1", `{"userInfo":{"userId":"bob"}}`, agent...)
	b = put(b, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
	put(b, `"challengeop":"Validate","challengeAnswer":"000000"`)
	send("POST", "/authn/v1", `{"userInfo":{"userId":"alice"}}`, basic(demoAgentID, "wrong-agent-secret")...)

	logs := e.logs.String()
	if !strings.Contains(logs, `"kind":"authn"`) || !strings.Contains(logs, `"kind":"psd2"`) || len(errorBodies) < 6 {
		t.Fatalf("too little was logged or refused (%d error bodies); the test would prove nothing", len(errorBodies))
	}
	for _, secret := range secrets {
		if len(secret) < 2 {
			continue
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the secret %q", secret)
		}
		for _, body := range errorBodies {
			if strings.Contains(body, secret) {
				t.Errorf("an error body contains the secret %q: %s", secret, body)
			}
		}
	}
}
