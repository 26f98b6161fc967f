package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// startServer runs the server in-process on a free port and stops it when
// the test ends, checking that it shut down cleanly.
func startServer(t *testing.T, args []string, env map[string]string) (base string, stdout, stderr *challengetest.LogBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &challengetest.LogBuffer{}, &challengetest.LogBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] },
			stdout, stderr, func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, stderr)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server shut down with %v", err)
		}
		if !strings.Contains(stderr.String(), `"message":"shutting down"`) {
			t.Errorf("no shutdown log line:\n%s", stderr)
		}
	})
	return base, stdout, stderr
}

func TestServerRunsThePSD2FlowWithTheDemoData(t *testing.T) {
	base, stdout, stderr := startServer(t, []string{"-psd2-ttl", "2m", "-log-level", "debug"}, nil)
	for _, want := range []string{"Bearer demo-partner-token", "Bearer demo-bank-token", "p-alice owns DE02120300000000202051", "p-bob   owns DE02500105170137075030"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the start banner lacks %q:\n%s", want, stdout)
		}
	}
	status, c := psd2Call(t, "POST", base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02 5001 0517 0137 0750 30","tpp_name":"Acme"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, c)
	}
	created, _ := time.Parse(time.RFC3339, c["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339, c["expires_at"].(string))
	if expires.Sub(created) != 2*time.Minute {
		t.Errorf("-psd2-ttl 2m gave a lifetime of %v", expires.Sub(created))
	}
	id := c["id"].(string)
	if status, r := psd2Call(t, "PATCH", base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-alice"}`); status != 400 {
		t.Fatalf("alice on bob's account: %d %v", status, r)
	}
	status, r := psd2Call(t, "PATCH", base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-bob"}`)
	if status != 200 || !strings.HasPrefix(r["redirect_url"].(string), "https://bank.example/consent?consent_challenge=") {
		t.Fatalf("bob: %d %v", status, r)
	}
	if status, r := psd2Call(t, "POST", base+"/v1/psd2/challenges/"+id+"/second_factor", demoBankToken, `{"result":"success"}`); status != 200 || r["status"] != "authorized" {
		t.Fatalf("second factor: %d %v", status, r)
	}
	if status, r := psd2Call(t, "GET", base+"/healthz", "", ""); status != 200 || r["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, r)
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"event":"authorize"`) || strings.Contains(logs, "consent_challenge=") {
		t.Errorf("want JSON transition logs without the redirect token:\n%s", logs)
	}
}

func TestConfigLayersFlagsOverEnvironmentOverDefaults(t *testing.T) {
	env := map[string]string{"CHALLENGEKIT_PSD2_TTL": "90s", "CHALLENGEKIT_LOG_LEVEL": "warn", "CHALLENGEKIT_ADDR": "127.0.0.1:9999"}
	c, err := parseConfig([]string{"-addr", "127.0.0.1:7777"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.psd2TTL != 90*time.Second || c.logLevel.String() != "warn" || c.addr != "127.0.0.1:7777" || c.authnTTL != 5*time.Minute || c.store != "memory" {
		t.Fatalf("config %+v", c)
	}
}

func TestRedisAutoPipelineIsOptIn(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{[]string{"-store", "redis"}, "", false},
		{[]string{"-store", "redis", "-redis-autopipeline"}, "", true},
		{[]string{"-store", "redis"}, "true", true},
		{[]string{"-store", "redis", "-redis-autopipeline=false"}, "true", false},
	} {
		c, err := parseConfig(tc.args, func(k string) string {
			if k == "CHALLENGEKIT_REDIS_AUTOPIPELINE" {
				return tc.env
			}
			return ""
		})
		if err != nil || c.redisAutoPipeline != tc.want {
			t.Errorf("%q, CHALLENGEKIT_REDIS_AUTOPIPELINE=%q: %v, %v; want %v", tc.args, tc.env, c.redisAutoPipeline, err, tc.want)
		}
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-psd2-ttl", "soon"}, `-psd2-ttl: "soon" is not a positive duration`},
		{[]string{"-authn-ttl", "-1m"}, `-authn-ttl: "-1m" is not a positive duration`},
		{[]string{"-log-level", "loud"}, `-log-level: unknown level "loud"`},
		{[]string{"-otp-key", "abcd"}, "-otp-key: want at least 64 hex digits"},
		{[]string{"-read-header-timeout", "0"}, `-read-header-timeout: "0" is not a positive duration`},
		{[]string{"-store", "floppy"}, `-store: unknown store "floppy"`},
		{[]string{"-demo-load-users", "many"}, `-demo-load-users: "many" is not a number`},
		{[]string{"-demo-load-users", "-3"}, `-demo-load-users: "-3" is not a number`},
		{[]string{"-demo-load-kba", "10001"}, `-demo-load-kba: "10001" is not a number from 0 to 10000`},
		{[]string{"-demo-held", "lots"}, `-demo-held: "lots" is not a number`},
		{[]string{"-store", "redis", "-redis-autopipeline=sometimes"}, `-redis-autopipeline: "sometimes" is not true or false`},
		{[]string{"-redis-autopipeline"}, "-redis-autopipeline: only with -store redis (not memory)"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseConfig(tc.args, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q) = %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
	err := run(context.Background(), []string{"-addr", "not an address"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if err == nil {
		t.Error("run accepted an address it cannot listen on")
	}
}

// TestReadmeWalkthroughsWorkWhenPasted runs each of README.md's curl
// walkthroughs, as written, against the server.
func TestReadmeWalkthroughsWorkWhenPasted(t *testing.T) {
	for name, wants := range map[string][]string{
		"psd2": {`"status":"pending"`, `"redirect_url":"https://bank.example/consent?consent_challenge=`,
			`"code":"unauthorized_action"`, `"status":"authorized"`},
		"questions": {`"ChallengeCode":"com.soa.challenge.question.pet"`, `"Answer":"Lincoln High"`,
			`<ChallengeQuestion>What was the name of your first school?</ChallengeQuestion>`,
			`"Field":"UserIdentificationChallenge[0].Answer","Message":"must be at least 3 characters"`},
		"authn": {`"factorKey":"ChallengeOMATOTP"`, `"prompts":[{"key":"otp"`, `"code":"INVALID_NONCE"`,
			`"status":"authenticated"`},
	} {
		t.Run(name, func(t *testing.T) { runWalkthrough(t, name, wants) })
	}
}

func runWalkthrough(t *testing.T, name string, wants []string) {
	requireCurl(t, "the README walkthroughs")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- walkthrough:" + name + " -->\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no ```sh block after <!-- walkthrough:%s -->", name)
	}
	script := string(m[1])
	const defaultBase = "BASE=http://127.0.0.1:8080\n"
	if !strings.HasPrefix(script, defaultBase) {
		t.Fatalf("the walkthrough must start with %q", defaultBase)
	}
	base, _, _ := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // go run builds a program
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", "BASE="+base+"\n"+strings.TrimPrefix(script, defaultBase))
	cmd.Dir = "../.." // the repository's root, where a reader runs it
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %s:\n%s", want, out)
		}
	}
}

func TestServerServesTheSecurityQuestionDemo(t *testing.T) {
	base, stdout, stderr := startServer(t, nil, nil)
	if !strings.Contains(stdout.String(), "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo") {
		t.Errorf("the banner lacks alice's session:\n%s", stdout)
	}
	req, _ := http.NewRequest("GET", base+"/api/users/"+demoAlice+"/challenges", nil)
	req.AddCookie(&http.Cookie{Name: "AtmoAuthToken_acmepaymentscorp", Value: "TokenID=alice-demo"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		UserIdentificationChallenge []struct{ ChallengeCode, Answer string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != 200 || len(set.UserIdentificationChallenge) != 3 {
		t.Fatalf("alice's demo questions: %d %+v %v", resp.StatusCode, set, err)
	}
	for _, e := range set.UserIdentificationChallenge {
		if e.Answer != "" {
			t.Fatalf("GET returned an answer: %+v", set)
		}
	}
	for _, answer := range []string{"Dubai", "Bucktastic"} {
		if strings.Contains(stderr.String(), answer) {
			t.Errorf("the server logged the demo answer %q", answer)
		}
	}
}

func TestServerServesTheFactorTransactionDemo(t *testing.T) {
	outbox := t.TempDir() + "/outbox"
	base, _, stderr := startServer(t, []string{"-demo-outbox", outbox, "-authn-ttl", "90s"}, nil)
	send := func(method, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/authn/v1", strings.NewReader(body))
		req.SetBasicAuth(demoAgentID, demoAgentSecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", method, body, resp.StatusCode, err)
		}
		return out
	}
	r := send("POST", `{"userInfo":{"userId":"bob"}}`)
	r = send("PUT", `{"correlationId":"`+r["correlationId"].(string)+`","nonce":"`+r["nonce"].(string)+`","challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}}`)
	line, err := os.ReadFile(outbox)
	if err != nil {
		t.Fatalf("the outbox: %v", err)
	}
	fields := strings.Fields(string(line))
	if len(fields) != 3 || fields[1] != "bob@example.com" || len(fields[2]) != 6 {
		t.Fatalf("outbox line %q", line)
	}
	r = send("PUT", `{"correlationId":"`+r["correlationId"].(string)+`","nonce":"`+r["nonce"].(string)+`","challengeop":"Validate","challengeAnswer":"`+fields[2]+`"}`)
	r = send("PUT", `{"correlationId":"`+r["correlationId"].(string)+`","nonce":"`+r["nonce"].(string)+`","challengeop":"Finalize","challengeResult":"Success"}`)
	if r["statusInfo"].(map[string]any)["status"] != "authenticated" {
		t.Fatalf("bob: %v", r)
	}
	if logs := stderr.String(); !strings.Contains(logs, `"message":"code sent"`) || strings.Contains(logs, fields[2]) || strings.Contains(logs, "bob@example.com") {
		t.Errorf("want a 'code sent' line without the code or address:\n%s", logs)
	}
	// carol is known but has no factor; dave has push alone, whose outcome
	// the agent reports.
	if c := send("POST", `{"userInfo":{"userId":"carol"}}`); c["statusInfo"].(map[string]any)["status"] != "missing registration" {
		t.Errorf("carol: %v; want missing registration", c)
	}
	d := send("POST", `{"userInfo":{"userId":"dave"}}`)
	if ci := d["challengeInfo"].([]any); len(ci) != 1 || ci[0].(map[string]any)["factorContext"].(map[string]any)["factorKey"] != "ChallengeOMAPUSH" {
		t.Fatalf("dave: %v; want ChallengeOMAPUSH alone", d)
	}
	attrs := d["challengeInfo"].([]any)[0].(map[string]any)["factorContext"].(map[string]any)["factorAttributes"]
	if got, _ := json.Marshal(attrs); string(got) != `[{"name":"deviceName","value":"Phone"},{"name":"device","value":{"app":"Oracle Mobile Authenticator","platform":"android"}}]` {
		t.Errorf("dave's factorAttributes: %s", got)
	}
	d = send("PUT", `{"correlationId":"`+d["correlationId"].(string)+`","nonce":"`+d["nonce"].(string)+`","challengeop":"Init","challengedata":{"factorKey":"ChallengeOMAPUSH"}}`)
	if ic, _ := json.Marshal(d["initContext"]); string(ic) != `{"factorKey":"ChallengeOMAPUSH","passive":false}` {
		t.Errorf("after Init, initContext = %s", ic)
	}
	d = send("PUT", `{"correlationId":"`+d["correlationId"].(string)+`","nonce":"`+d["nonce"].(string)+`","challengeop":"Finalize","challengeResult":"Success"}`)
	if d["statusInfo"].(map[string]any)["status"] != "authenticated" || !strings.Contains(stderr.String(), `"message":"push sent"`) {
		t.Errorf("dave's push login: %v", d)
	}
}

func TestDemoLoadUsersAreComputedWithinTheirCount(t *testing.T) {
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := passkey.NewRecordCredentials(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := recovery.New(mem, make([]byte, 32), recovery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := demoRegistry(&config{demoLoadUsers: 10, demoLoadKBA: 2}, creds, codes)
	ctx := context.Background()
	for user, want := range map[string]bool{"load-0": true, "load-9": true, "load-10": false, "load-05": false,
		"load--1": false, "load-": false, "alice": true, "mallory": false,
		"mail-0": true, "mail-9": true, "mail-10": false, "kba-1": true, "kba-2": false} {
		regs, known, err := reg.Registrations(ctx, user)
		if err != nil || known != want {
			t.Errorf("%s: known %v (%v); want %v", user, known, err, want)
		}
		if !known || user == "alice" {
			continue
		}
		wantReg := map[string]authn.Registration{
			"load": {FactorKey: totp.Key, Secret: demoTOTPSecret},
			"mail": {FactorKey: otpcode.EmailKey, Destination: user + "@example.com"},
			"kba":  {FactorKey: kba.Key, Subject: user + "." + demoBusiness},
		}[user[:strings.Index(user, "-")]]
		if len(regs) != 1 || regs[0].FactorKey != wantReg.FactorKey || regs[0].Secret != wantReg.Secret ||
			regs[0].Destination != wantReg.Destination || regs[0].Subject != wantReg.Subject {
			t.Errorf("%s: registrations %+v, want %+v", user, regs, wantReg)
		}
	}
}
