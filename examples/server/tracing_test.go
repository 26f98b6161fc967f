package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// exportedSpan is what the test reads of a span in the trace file.
type exportedSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func TestATraceFileHoldsOnePATCHsSpansAndNoSecret(t *testing.T) {
	file := t.TempDir() + "/spans.json"
	var id, nonce string
	t.Run("serve", func(t *testing.T) {
		// With metrics on as well: both read the route the mux matched.
		base, _, stderr := startServer(t, []string{"-metrics-addr", "127.0.0.1:0"}, map[string]string{"CHALLENGEKIT_TRACE_FILE": file})
		status, c := psd2Call(t, "POST", base+"/v1/psd2/challenges", demoBankToken, `{"iban":"DE02 5001 0517 0137 0750 30","tpp_name":"Acme"}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, c)
		}
		id = c["id"].(string)
		status, r := psd2Call(t, "PATCH", base+"/v1/psd2/challenges/"+id, demoPartnerToken, `{"person_id":"p-bob"}`)
		if status != 200 {
			t.Fatalf("PATCH: %d %v", status, r)
		}
		_, nonce, _ = strings.Cut(r["redirect_url"].(string), "consent_challenge=")
		m := regexp.MustCompile(`"metrics_addr":"([^"]+)"`).FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatal("no metrics address logged")
		}
		fams := scrape(t, "http://"+m[1]+"/metrics")
		if n, _ := value(fams, "challengekit_http_requests_total", "code=200,route=PATCH /v1/psd2/challenges/{psd2_challenge_id}"); n != 1 {
			t.Errorf("with tracing on, the PATCH counted under its route %v times, want 1", n)
		}
	}) // the server has shut down, and flushed its spans

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var spans []exportedSpan
	for dec := json.NewDecoder(bytes.NewReader(raw)); ; {
		var s exportedSpan
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the trace file: %v", err)
		}
		spans = append(spans, s)
	}
	byName := map[string]exportedSpan{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	patch, ok := byName["PATCH /v1/psd2/challenges/{psd2_challenge_id}"]
	step := byName["challenge.step"]
	if !ok || step.Parent.SpanID != patch.SpanContext.SpanID {
		t.Fatalf("no PATCH span with a step span as its child among %d spans", len(spans))
	}
	stores := 0
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "store.") && s.Parent.SpanID == step.SpanContext.SpanID {
			stores++
		}
	}
	if stores != 2 {
		t.Errorf("the step made %d store spans, want a get and an update", stores)
	}
	for _, secret := range []string{id, nonce, demoPartnerToken, demoBankToken, "p-bob", "DE02500105170137075030"} {
		if secret != "" && strings.Contains(string(raw), secret) {
			t.Errorf("the trace file holds %q", secret)
		}
	}
}

func TestAnUnwritableTraceFileStopsTheStart(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-trace-file", t.TempDir() + "/no/such/dir/spans.json"},
		func(string) string { return "" }, io.Discard, &stderr, nil)
	if err == nil || !strings.Contains(err.Error(), "-trace-file") {
		t.Fatalf("run with an unwritable trace file: %v", err)
	}
}
