package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"
)

// TestServerExportsMetricsOnItsOwnListener runs a PSD2 consent and a TOTP
// login against a server started with -metrics-addr, scrapes /metrics on
// the metrics listener, and finds the flows' transitions, attempts,
// refusals, store operations and requests there, labelled by kind, state,
// route and status, never by an ID, a user or an address.
func TestServerExportsMetricsOnItsOwnListener(t *testing.T) {
	var metricsBase string
	t.Cleanup(func() { // after the server's own cleanup has stopped it
		if metricsBase == "" {
			return
		}
		if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(metricsBase, "http://"), time.Second); err == nil {
			conn.Close()
			t.Error("the metrics listener outlived the server")
		}
	})
	base, _, stderr := startServer(t, []string{"-metrics-addr", "127.0.0.1:0", "-source-starts", "1/1h"}, nil)
	m := regexp.MustCompile(`"metrics_addr":"([^"]+)"`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no log line with the metrics address:\n%s", stderr)
	}
	metricsBase = "http://" + m[1]
	if resp, err := http.Get(base + "/metrics"); err != nil || resp.StatusCode == 200 {
		t.Fatalf("the API's listener serves /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A PSD2 consent, with one mistaken identification.
	status, c := psd2Call(t, "POST", base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02500105170137075030","tpp_name":"Acme"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, c)
	}
	psd2ID := c["id"].(string)
	if status, _ := psd2Call(t, "PATCH", base+"/v1/psd2/challenges/"+psd2ID, demoPartnerToken, `{"person_id":"p-alice"}`); status != 400 {
		t.Fatalf("alice on bob's account: %d", status)
	}
	psd2Call(t, "PATCH", base+"/v1/psd2/challenges/"+psd2ID, demoPartnerToken, `{"person_id":"p-bob"}`)
	if status, r := psd2Call(t, "POST", base+"/v1/psd2/challenges/"+psd2ID+"/second_factor", demoBankToken, `{"result":"success"}`); status != 200 || r["status"] != "authorized" {
		t.Fatalf("second factor: %d %v", status, r)
	}

	// A TOTP login for alice with one wrong code; a second start from one
	// address is refused (-source-starts 1/1h).
	const ip = "198.51.100.23"
	step := func(body string) map[string]any {
		t.Helper()
		status, r, err := authnDo("PUT", base+"/authn/v1", body)
		if err != nil || status != 200 {
			t.Fatalf("%s: %d %v %v", body, status, r, err)
		}
		return r
	}
	status, r, err := authnDo("POST", base+"/authn/v1", `{"userInfo":{"userId":"alice"},"context":{"ipAddress":"`+ip+`"}}`)
	if err != nil || status != 200 {
		t.Fatalf("begin: %d %v %v", status, r, err)
	}
	tx := r["correlationId"].(string)
	put := func(nonce any, fields string) string {
		return fmt.Sprintf(`{"correlationId":%q,"nonce":%q,%s}`, tx, nonce, fields)
	}
	r = step(put(r["nonce"], `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`))
	wrong := "000000" // unless it is accepted now (one step of skew either way)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		if code, _ := totp.GenerateCode(demoTOTPSecret, time.Now().Add(d)); code == wrong {
			wrong = "000001"
		}
	}
	r = step(put(r["nonce"], `"challengeop":"Validate","challengeAnswer":"`+wrong+`"`))
	code, _ := totp.GenerateCode(demoTOTPSecret, time.Now())
	r = step(put(r["nonce"], `"challengeop":"Validate","challengeAnswer":"`+code+`"`))
	if r = step(put(r["nonce"], `"challengeop":"Finalize","challengeResult":"Success"`)); r["statusInfo"].(map[string]any)["status"] != "authenticated" {
		t.Fatalf("alice: %v", r)
	}
	if status, _, _ := authnDo("POST", base+"/authn/v1", `{"userInfo":{"userId":"alice"},"context":{"ipAddress":"`+ip+`"}}`); status != 429 {
		t.Fatalf("a second start from %s: %d; want 429", ip, status)
	}

	// Requests to paths of a stranger's choosing.
	for _, p := range []string{"/no-such-path-7f3a", "/v1/psd2/challenges/" + psd2ID + "/nonsense", "/V1/PSD2/challenges"} {
		if resp, err := http.Get(base + p); err == nil {
			resp.Body.Close()
		}
	}

	fams := scrape(t, metricsBase+"/metrics")
	for _, want := range []struct {
		name, labels string
		min, max     float64
	}{
		{"challengekit_transitions_total", `event=none,from=none,kind=psd2,to=pending`, 1, 1},
		{"challengekit_transitions_total", `event=authorize,from=redirected,kind=psd2,to=authorized`, 1, 1},
		{"challengekit_transitions_total", `event=authenticate,from=validated,kind=authn,to=authenticated`, 1, 1},
		{"challengekit_failed_attempts_total", `kind=authn`, 1, 1},
		{"challengekit_failed_attempts_total", `kind=psd2`, 1, 1},
		{"challengekit_step_duration_seconds", `kind=psd2`, 5, 5},
		{"challengekit_step_duration_seconds", `kind=authn`, 5, 5},
		{"challengekit_limiter_throttled_total", `kind=none,op=start`, 1, 1},
		{"challengekit_store_operation_duration_seconds", `backend=memory,op=create`, 2, 50},
		{"challengekit_store_operation_duration_seconds", `backend=memory,op=update`, 7, 50},
		{"challengekit_store_operation_duration_seconds", `backend=memory,op=get`, 7, 50},
		{"challengekit_http_requests_total", `code=201,route=POST /v1/psd2/challenges`, 1, 1},
		{"challengekit_http_requests_total", `code=400,route=PATCH /v1/psd2/challenges/{psd2_challenge_id}`, 1, 1},
		{"challengekit_http_requests_total", `code=200,route=PUT /authn/v1`, 4, 4},
		{"challengekit_http_requests_total", `code=429,route=POST /authn/v1`, 1, 1},
		{"challengekit_http_request_duration_seconds", `route=PUT /authn/v1`, 4, 4},
	} {
		got, ok := value(fams, want.name, want.labels)
		if !ok || got < want.min || got > want.max {
			t.Errorf("%s{%s} = %v (found: %v); want %v to %v", want.name, want.labels, got, ok, want.min, want.max)
		}
	}
	if f := fams["challengekit_store_errors_total"]; f != nil && len(f.GetMetric()) > 0 {
		t.Errorf("store errors on a memory store: %v", f)
	}
	// /metrics on the API's listener, the unknown path and the API's path
	// spelled otherwise match no pattern; the unknown path under the API
	// matches its catch-all.
	if got, _ := value(fams, "challengekit_http_requests_total", "code=404,route=other"); got != 3 {
		t.Errorf("requests to unknown paths counted as route other, 404: %v; want 3", got)
	}

	// No label names a record, a user, an address or a path.
	code3 := regexp.MustCompile(`^[1-5][0-9][0-9]$`)
	routePattern := regexp.MustCompile(`^([A-Z]+ )?/[a-z0-9_/{}]*$`)
	for name, f := range fams {
		if !strings.HasPrefix(name, "challengekit_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				for _, secret := range []string{psd2ID, tx, "alice", "p-bob", ip, "127.0.0.1", "no-such-path", "nonsense", "V1"} {
					if strings.Contains(v, secret) {
						t.Errorf("%s{%s} has a label value containing %q", name, labelsOf(m), secret)
					}
				}
				switch l.GetName() {
				case "code":
					if !code3.MatchString(v) {
						t.Errorf("%s: code %q", name, v)
					}
				case "route":
					if v != "other" && !routePattern.MatchString(v) {
						t.Errorf("%s: route %q is neither a pattern nor other", name, v)
					}
				}
			}
		}
	}
}

// scrape fetches url and parses it as Prometheus' text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body.Bytes()))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body.String())
	}
	return fams
}

// labelsOf writes m's labels as "name=value,…", sorted by name as
// Prometheus sorts them.
func labelsOf(m *dto.Metric) string {
	var pairs []string
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(pairs, ",")
}

// value returns the counter's value, or the histogram's count, of the
// series of name with labels.
func value(fams map[string]*dto.MetricFamily, name, labels string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		if labelsOf(m) != labels {
			continue
		}
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount()), true
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

func TestMetricsAreOffUnlessAnAddressIsGiven(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := serveMetrics(cfg, zerolog.Nop())
	if err != nil || cfg.metrics != nil {
		t.Fatalf("with no -metrics-addr: metrics %v, %v", cfg.metrics, err)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CHALLENGEKIT_METRICS_ADDR": "127.0.0.1:9100"}
	if cfg, err := parseConfig(nil, func(k string) string { return env[k] }); err != nil || cfg.metricsAddr != "127.0.0.1:9100" {
		t.Fatalf("CHALLENGEKIT_METRICS_ADDR gave %q, %v", cfg.metricsAddr, err)
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-metrics-addr", "not an address"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}, nil); err == nil {
		t.Error("run accepted a metrics address it cannot listen on")
	}
}
