package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// The tests in this file attack the demo server as a patient stranger
// would, with its default limits, on a fake clock.

const (
	attackerIP = "198.51.100.7"
	victimIP   = "203.0.113.9"
)

// begin starts a transaction for user, reported from ip; it returns the
// status, the decoded body and Retry-After.
func (e *faultEnv) begin(user, ip string) (int, map[string]any, string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"userInfo":{"userId":%q},"context":{"ipAddress":%q}}`, user, ip)
	rec := e.exchange("POST", "/authn/v1", body, agentAuth...)
	status, out := e.decode(rec)
	return status, out, rec.Header().Get("Retry-After")
}

// step sends a PUT /authn/v1 and returns the status, body and Retry-After.
func (e *faultEnv) step(tx, nonce, fields string) (int, map[string]any, string) {
	e.t.Helper()
	rec := e.exchange("PUT", "/authn/v1", fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields), agentAuth...)
	status, out := e.decode(rec)
	return status, out, rec.Header().Get("Retry-After")
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}

// wrongCode is a six-digit code that is not alice's current one.
func (e *faultEnv) wrongCode() string {
	right, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	if right == "000000" {
		return "000001"
	}
	return "000000"
}

// login runs a whole TOTP login for alice from ip and reports whether she
// ended authenticated.
func (e *faultEnv) login(ip string) error {
	status, r, _ := e.begin("alice", ip)
	if status != 200 {
		return fmt.Errorf("begin: %d %v", status, r)
	}
	tx := str(r, "correlationId")
	status, r, _ = e.step(tx, str(r, "nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	if status != 200 {
		return fmt.Errorf("init: %d %v", status, r)
	}
	code, _ := totp.GenerateCode(demoTOTPSecret, e.clock.Now())
	status, r, _ = e.step(tx, str(r, "nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, code))
	if status != 200 || strings.Contains(str(r, "statusInfo", "message"), "not correct") {
		return fmt.Errorf("validate: %d %v", status, r)
	}
	status, r, _ = e.step(tx, str(r, "nonce"), `"challengeop":"Finalize","challengeResult":"Success"`)
	if status != 200 || str(r, "statusInfo", "status") != "authenticated" {
		return fmt.Errorf("finalize: %d %v", status, r)
	}
	return nil
}

// TestAStrangerCannotLockAVictimOut floods the server with logins for
// alice from one address, one every 50 ms for a minute, guessing a wrong
// code whenever it holds a transaction and is let to; alice, from her own
// address, starts a login every five seconds and finishes one. Every one
// of her requests is answered, and the stranger is throttled.
func TestAStrangerCannotLockAVictimOut(t *testing.T) {
	e := newFaultEnv(t)
	var attackerStarts, attackerThrottled, guesses, victimBegins int
	var open []map[string]any
	for tick := range 1200 {
		status, r, retry := e.begin("alice", attackerIP)
		switch status {
		case 200:
			attackerStarts++
			open = append(open, r)
		case 429:
			if retry == "" {
				t.Fatalf("a 429 without Retry-After: %v", r)
			}
			attackerThrottled++
		default:
			t.Fatalf("the attacker's begin %d: %d %v", tick, status, r)
		}
		if len(open) > 0 && tick%4 == 0 {
			tx := open[0]
			open = open[1:]
			if status, r, _ := e.step(str(tx, "correlationId"), str(tx, "nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`); status == 200 {
				if status, _, _ := e.step(str(tx, "correlationId"), str(r, "nonce"),
					fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, e.wrongCode())); status == 200 {
					guesses++
				}
			}
		}
		if tick%100 == 0 {
			status, r, _ := e.begin("alice", victimIP)
			if status != 200 {
				t.Fatalf("at %v alice's own begin got %d %v", time.Duration(tick)*50*time.Millisecond, status, r)
			}
			victimBegins++
		}
		if tick == 600 {
			if err := e.login(victimIP); err != nil {
				t.Fatalf("alice's login during the flood: %v", err)
			}
		}
		e.clock.Advance(50 * time.Millisecond)
	}
	t.Logf("in 60 s the stranger started %d logins (%d refused) and had %d wrong guesses evaluated; alice began %d of %d and logged in",
		attackerStarts, attackerThrottled, guesses, victimBegins, victimBegins)
	if attackerStarts > 30+30+1 || attackerThrottled == 0 {
		t.Fatalf("the stranger started %d logins in a minute (%d refused); the default is a burst of 30 and 30 a minute", attackerStarts, attackerThrottled)
	}
	if guesses > 10 {
		t.Fatalf("the stranger had %d guesses evaluated in a minute; 5 are free, then holds of 1, 2, 4, 8, 16 s", guesses)
	}
}

// TestGuessesAreBudgetedPerAddressAndPerUser: one address gets five free
// wrong guesses at alice, then waits 1, 2, 4 … seconds; many addresses
// together get at most 100 in a day, after which alice's logins answer 429
// from anywhere until the day is over.
func TestGuessesAreBudgetedPerAddressAndPerUser(t *testing.T) {
	e := newFaultEnv(t)
	guess := func(ip string) (int, string) {
		t.Helper()
		status, r, retry := e.begin("alice", ip)
		if status != 200 {
			return status, retry
		}
		tx := str(r, "correlationId")
		_, r, _ = e.step(tx, str(r, "nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
		status, r, retry = e.step(tx, str(r, "nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, e.wrongCode()))
		if status == 200 && !strings.Contains(str(r, "statusInfo", "message"), "not correct") {
			t.Fatalf("a wrong guess: %v", r)
		}
		return status, retry
	}
	var evaluated []time.Duration
	start := e.clock.Now()
	for e.clock.Now().Sub(start) < time.Minute {
		status, retry := guess(attackerIP)
		switch status {
		case 200:
			evaluated = append(evaluated, e.clock.Now().Sub(start))
		case 429:
			if retry == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		e.clock.Advance(250 * time.Millisecond)
	}
	t.Logf("one address, first minute: %d guesses evaluated, at %v", len(evaluated), evaluated)
	if len(evaluated) != 10 {
		t.Fatalf("%d guesses evaluated from one address in a minute; want 10 (5 free, then after 1, 2, 4, 8 and 16 s)", len(evaluated))
	}
	// A botnet: a fresh address for every guess. The cap (100 a day) holds.
	n := len(evaluated)
	for i := 0; n < 100; i++ {
		if status, _ := guess(fmt.Sprintf("10.%d.%d.1", i/250, i%250)); status == 200 {
			n++
		}
		e.clock.Advance(time.Second)
	}
	status, retry := guess("192.0.2.55")
	if status != 429 || retry == "" {
		t.Fatalf("the 101st guess in a day, from a fresh address: %d; want 429 with Retry-After", status)
	}
	if err := e.login(victimIP); err == nil {
		t.Fatal("alice logged in past her daily cap")
	}
	e.clock.Advance(24 * time.Hour)
	if err := e.login(victimIP); err != nil {
		t.Fatalf("a day later: %v", err)
	}
}

// TestCodesCannotBePumped: a minute of Init calls of ChallengeEmail on one
// transaction, one every two seconds, sends three codes; across
// transactions bob's address gets five an hour.
func TestCodesCannotBePumped(t *testing.T) {
	e := newFaultEnv(t)
	sent := func() int { return strings.Count(e.logs.String(), `"message":"code sent"`) }
	status, r, _ := e.begin("bob", attackerIP)
	if status != 200 {
		t.Fatal(status, r)
	}
	tx, nonce := str(r, "correlationId"), str(r, "nonce")
	var refused int
	for range 31 {
		status, r, retry := e.step(tx, nonce, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
		switch status {
		case 200:
			nonce = str(r, "nonce")
		case 429:
			if retry == "" || str(r, "statusInfo", "code") != "TOO_MANY_REQUESTS" {
				t.Fatalf("a refused send: %v (Retry-After %q)", r, retry)
			}
			refused++
		default:
			t.Fatalf("Init: %d %v", status, r)
		}
		e.clock.Advance(2 * time.Second)
	}
	if got := sent(); got != 3 || refused != 28 {
		t.Fatalf("31 Inits in a minute sent %d codes and refused %d; want 3 sent (at 0, 30 and 60 s)", got, refused)
	}
	for range 3 {
		status, r, _ := e.begin("bob", attackerIP)
		if status != 200 {
			t.Fatal(status, r)
		}
		e.step(str(r, "correlationId"), str(r, "nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
		e.clock.Advance(time.Second)
	}
	if got := sent(); got != 5 {
		t.Fatalf("bob's address got %d codes within the hour; want 5", got)
	}
}

// TestPSD2PartnersAreTenants: a partner sees its own customers'
// challenges, and every other answers 404 exactly as an unknown ID would.
func TestPSD2PartnersAreTenants(t *testing.T) {
	e := newFaultEnv(t)
	globex := []string{"Authorization", "Bearer " + demoPartner2Token}
	_, acme := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02120300000000202051","tpp_name":"T"}`, bankAuth...)
	_, carol := e.do("POST", "/v1/psd2/challenges", `{"iban":"GB33 BUKB 2020 1555 5555 55","tpp_name":"T"}`, bankAuth...)
	_, unknown := e.do("GET", "/v1/psd2/challenges/no-such-challenge", "", globex...)
	strip := func(m map[string]any) string { delete(m, "id"); return fmt.Sprint(m) }
	for _, tc := range []struct {
		method, id, body string
		auth             []string
	}{
		{"GET", acme["id"].(string), "", globex},
		{"PATCH", acme["id"].(string), `{"person_id":"p-carol"}`, globex},
		{"GET", carol["id"].(string), "", partnerAuth},
		{"PATCH", carol["id"].(string), `{"person_id":"p-alice"}`, partnerAuth},
	} {
		status, body := e.do(tc.method, "/v1/psd2/challenges/"+tc.id, tc.body, tc.auth...)
		if status != 404 || strip(body) != strip(unknown) {
			t.Fatalf("%s of another partner's challenge: %d %v; want what an unknown ID gets: %v", tc.method, status, body, unknown)
		}
	}
	if r := e.record("psd2", acme["id"].(string)); r.Version != 1 || r.Attempts != 0 {
		t.Fatalf("another partner's PATCH touched the challenge: %+v", r)
	}
	if status, body := e.do("PATCH", "/v1/psd2/challenges/"+carol["id"].(string), `{"person_id":"p-carol"}`, globex...); status != 200 {
		t.Fatalf("globex for its own customer: %d %v", status, body)
	}
	e.clock.Advance(time.Hour)
	if status, _ := e.do("GET", "/v1/psd2/challenges/"+acme["id"].(string), "", globex...); status != 404 {
		t.Fatalf("another partner's expired challenge: %d; want 404, not 401", status)
	}
}

// TestWrongPersonPatchesAreBudgetedPerPerson: the person a partner names
// on challenges whose account they do not own is held off after five.
func TestWrongPersonPatchesAreBudgetedPerPerson(t *testing.T) {
	e := newFaultEnv(t)
	for i := range 6 {
		_, c := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02500105170137075030","tpp_name":"T"}`, bankAuth...)
		rec := e.exchange("PATCH", "/v1/psd2/challenges/"+c["id"].(string), `{"person_id":"p-mallory"}`, partnerAuth...)
		status, body := e.decode(rec)
		want := 400
		if i == 5 {
			want = 429
		}
		if status != want {
			t.Fatalf("wrong PATCH %d naming p-mallory: %d %v; want %d", i+1, status, body, want)
		}
		if want == 429 && (rec.Header().Get("Retry-After") != "1" || body["code"] != "too_many_requests") {
			t.Fatalf("the held PATCH: %v, Retry-After %q", body, rec.Header().Get("Retry-After"))
		}
	}
	_, c := e.do("POST", "/v1/psd2/challenges", `{"iban":"DE02500105170137075030","tpp_name":"T"}`, bankAuth...)
	if status, body := e.do("PATCH", "/v1/psd2/challenges/"+c["id"].(string), `{"person_id":"p-bob"}`, partnerAuth...); status != 200 {
		t.Fatalf("the owner, meanwhile: %d %v", status, body)
	}
}
