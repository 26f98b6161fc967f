package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The API reference (docs/api/*.md) is checked against the server: every
// ```sh block after a "<!-- run -->" line is run, in order, in one bash
// shell per file, against a freshly started demo server, and the ```http
// block after it, if any, is the response the reader gets. The status
// line must be the same, every header the block lists must be there with
// its value (headers it leaves out are not checked), and the body must be
// the same: JSON compared as JSON (so the docs may indent it), XML with the
// white space between tags ignored. Placeholders (<ID>, <NONCE>, ...)
// stand for what differs on every run. A run block without a response
// block must print nothing.

// referenceDoc is one page of the reference and the endpoints its examples
// must exercise ("METHOD /path", {} standing for one path segment).
type referenceDoc struct {
	name      string
	endpoints []string
}

var referenceDocs = []referenceDoc{
	{"psd2", []string{"POST /v1/psd2/challenges", "GET /v1/psd2/challenges/{}", "PATCH /v1/psd2/challenges/{}",
		"POST /v1/psd2/challenges/{}/second_factor"}},
	{"authn", []string{"POST /authn/v1", "PUT /authn/v1"}},
	{"questions", []string{"GET /api/businesses/{}/challenges", "PUT /api/businesses/{}/challenges",
		"GET /api/users/{}/challenges", "PUT /api/users/{}/challenges"}},
}

// placeholders are what a documented response may show instead of a value
// that differs on every run, and what each stands for.
var placeholders = map[string]string{
	"ID":            `[A-Za-z0-9_-]{22}`, // a challenge ID, a correlationId
	"NONCE":         `[A-Za-z0-9_-]{22}`,
	"TOKEN":         `[A-Za-z0-9_-]{22}`, // a one-time redirect token
	"ERROR_ID":      `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`,
	"TIME":          `[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z`,
	"SECONDS":       `[1-9][0-9]*`,
	"QUESTION_CODE": `com\.soa\.challenge\.question\.[a-z.]+`, // a question picked at random
	"QUESTION":      `[^"<>]+`,
}

var placeholderToken = regexp.MustCompile(`<([A-Z][A-Z_]*)>`)

// TestAPIReferenceExamplesAnswerAsDocumented runs the examples of
// docs/api/*.md and checks that the server answers each as documented.
func TestAPIReferenceExamplesAnswerAsDocumented(t *testing.T) {
	requireCurl(t, "the API reference's examples")
	for _, doc := range referenceDocs {
		t.Run(doc.name, func(t *testing.T) {
			t.Parallel()
			runReference(t, doc)
		})
	}
}

func requireCurl(t *testing.T, what string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CHALLENGEKIT_REQUIRE_SERVICES") == "1" {
			t.Fatalf("curl is required to check %s", what)
		}
		t.Skipf("curl is not installed; %s need it (CI installs it)", what)
	}
}

// example is one run block of a page, and the response it documents.
type example struct {
	line     int    // of the ```sh line, for messages
	script   string // the block's text
	response string // the ```http block's text; "" for none
}

var (
	runMarker = regexp.MustCompile(`^<!-- run -->\s*$`)
	fence     = regexp.MustCompile("^```([a-z]*)\\s*$")
)

// parseReference returns the run blocks of a page, in order. Every ```sh
// block that calls curl must be one.
func parseReference(page string) ([]example, error) {
	lines := strings.Split(page, "\n")
	var out []example
	// block reads the fenced block opening at lines[i] and returns its
	// info string, its text, and the index after its closing fence.
	block := func(i int) (info, text string, next int, err error) {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			return "", "", i, fmt.Errorf("line %d: want a fenced block", i+1)
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				return m[1], strings.Join(lines[i+1:j], "\n") + "\n", j + 1, nil
			}
		}
		return "", "", i, fmt.Errorf("line %d: the block is not closed", i+1)
	}
	skipBlank := func(i int) int {
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		return i
	}
	for i := 0; i < len(lines); i++ {
		switch {
		case runMarker.MatchString(lines[i]):
			j := skipBlank(i + 1)
			if j == len(lines) {
				return nil, fmt.Errorf("line %d: <!-- run --> is not followed by a block", i+1)
			}
			info, script, next, err := block(j)
			if err != nil {
				return nil, err
			}
			if info != "sh" {
				return nil, fmt.Errorf("line %d: <!-- run --> must be followed by a ```sh block", i+1)
			}
			ex := example{line: j + 1, script: script}
			if k := skipBlank(next); k < len(lines) && lines[k] == "```http" {
				if _, ex.response, next, err = block(k); err != nil {
					return nil, err
				}
			}
			out = append(out, ex)
			i = next - 1
		case lines[i] == "```sh":
			_, text, next, err := block(i)
			if err != nil {
				return nil, err
			}
			if strings.Contains(text, "curl ") {
				return nil, fmt.Errorf("line %d: a ```sh block calling curl must follow <!-- run -->, so that a test runs it", i+1)
			}
			i = next - 1
		}
	}
	return out, nil
}

func runReference(t *testing.T, doc referenceDoc) {
	path := "../../docs/api/" + doc.name + ".md"
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := parseReference(string(page))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(examples) == 0 {
		t.Fatalf("%s has no <!-- run --> examples", path)
	}
	const defaultBase = "BASE=http://127.0.0.1:8080\n"
	if !strings.HasPrefix(examples[0].script, defaultBase) {
		t.Fatalf("%s: the first example must start with %q", path, defaultBase)
	}
	checkCoverage(t, path, examples, doc.endpoints)

	base, _, _ := startServer(t, nil, nil)
	var script strings.Builder
	script.WriteString("BASE=" + base + "\n")
	for i, ex := range examples {
		fmt.Fprintf(&script, "printf '\\n@@example %d@@\\n'\n", i)
		if i == 0 {
			script.WriteString(strings.TrimPrefix(ex.script, defaultBase))
		} else {
			script.WriteString(ex.script)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // go run builds a program
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script.String())
	cmd.Dir = "../.." // the repository's root, where a reader runs them
	out, err := cmd.CombinedOutput()
	outputs := splitOutputs(string(out))
	if err != nil {
		last := len(outputs) - 1
		t.Fatalf("%s: the examples stopped with %v in the one at line %d:\n%s\noutput:\n%s",
			path, err, examples[last].line, examples[last].script, outputs[last])
	}
	for i, ex := range examples {
		got := outputs[i]
		if ex.response == "" {
			if strings.TrimSpace(got) != "" {
				t.Errorf("%s:%d: the example prints output but documents no response:\n%s", path, ex.line, got)
			}
			continue
		}
		for _, problem := range compareResponse(ex.response, got) {
			t.Errorf("%s:%d: %s\ncommand:\n%sdocumented:\n%s\ngot:\n%s", path, ex.line, problem, ex.script, ex.response, got)
		}
	}
}

// exampleMarker is what the script prints before each example's output.
var exampleMarker = regexp.MustCompile(`\n@@example [0-9]+@@\n`)

// splitOutputs splits the shell's output at the markers printed before
// each example; it returns one output per example that started.
func splitOutputs(out string) []string {
	parts := exampleMarker.Split(out, -1)
	if len(parts) == 1 {
		return parts
	}
	return parts[1:]
}

// checkCoverage checks that the examples call every endpoint and show, among
// them, a 400, a 401, a 403 or 404, and a 429.
func checkCoverage(t *testing.T, path string, examples []example, endpoints []string) {
	t.Helper()
	called := map[string]bool{}
	statuses := map[int]bool{}
	curlMethod := regexp.MustCompile(`\s-X\s*([A-Z]+)`)
	curlPath := regexp.MustCompile(`"\$BASE(/[^"?]*)`)
	for _, ex := range examples {
		if ex.response == "" {
			continue
		}
		if resp, err := parseResponse(ex.response); err == nil {
			statuses[resp.code] = true
		}
		script := strings.ReplaceAll(ex.script, "\\\n", " ")
		for _, line := range strings.Split(script, "\n") {
			if !strings.Contains(line, "curl ") {
				continue
			}
			m := curlPath.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			method := "GET"
			if mm := curlMethod.FindStringSubmatch(line); mm != nil {
				method = mm[1]
			} else if strings.Contains(line, " -d ") || strings.Contains(line, " --data") {
				method = "POST"
			}
			for _, e := range endpoints {
				em, ep, _ := strings.Cut(e, " ")
				re := "^" + strings.ReplaceAll(regexp.QuoteMeta(ep), `\{\}`, `[^/]+`) + "$"
				if em == method && regexp.MustCompile(re).MatchString(m[1]) {
					called[e] = true
				}
			}
		}
	}
	for _, e := range endpoints {
		if !called[e] {
			t.Errorf("%s: no example with a documented response calls %s", path, e)
		}
	}
	if !statuses[400] || !statuses[401] || !statuses[403] && !statuses[404] || !statuses[429] {
		t.Errorf("%s: the examples show statuses %v; want at least a 400, a 401, a 403 or 404, and a 429", path, slices.Sorted(maps.Keys(statuses)))
	}
}

type httpResponse struct {
	status  string // the status line
	code    int
	headers [][2]string
	body    string
}

// parseResponse reads curl -i's output (or a documented response): the
// status line, headers, a blank line and the body. Interim (1xx) responses
// are skipped.
func parseResponse(s string) (httpResponse, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	for {
		if !strings.HasPrefix(s, "HTTP/") {
			return httpResponse{}, fmt.Errorf("not an HTTP response (run curl with -i)")
		}
		head, body, _ := strings.Cut(s, "\n\n")
		lines := strings.Split(head, "\n")
		fields := strings.Fields(lines[0])
		if len(fields) < 2 {
			return httpResponse{}, fmt.Errorf("bad status line %q", lines[0])
		}
		code, err := strconv.Atoi(fields[1])
		if err != nil {
			return httpResponse{}, fmt.Errorf("bad status line %q", lines[0])
		}
		if code < 200 {
			s = strings.TrimSpace(body)
			continue
		}
		r := httpResponse{status: lines[0], code: code, body: strings.TrimSpace(body)}
		for _, l := range lines[1:] {
			name, value, ok := strings.Cut(l, ":")
			if !ok {
				return httpResponse{}, fmt.Errorf("bad header line %q", l)
			}
			r.headers = append(r.headers, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
		}
		return r, nil
	}
}

// compareResponse returns what differs between a documented response and
// curl's output.
func compareResponse(documented, output string) []string {
	want, err := parseResponse(documented)
	if err != nil {
		return []string{"the documented response: " + err.Error()}
	}
	got, err := parseResponse(output)
	if err != nil {
		return []string{"the output: " + err.Error()}
	}
	var problems []string
	if got.status != want.status {
		problems = append(problems, fmt.Sprintf("status line %q, documented %q", got.status, want.status))
	}
	for _, h := range want.headers {
		re := pattern(h[1])
		found := false
		for _, g := range got.headers {
			found = found || strings.EqualFold(g[0], h[0]) && re.MatchString(g[1])
		}
		if !found {
			problems = append(problems, fmt.Sprintf("no header %s: %s", h[0], h[1]))
		}
	}
	return append(problems, compareBody(want.body, got.body)...)
}

var betweenTags = regexp.MustCompile(`>\s+<`)

func compareBody(want, got string) []string {
	switch {
	case strings.HasPrefix(want, "{") || strings.HasPrefix(want, "["):
		var w, g any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			return []string{"the documented body is not JSON: " + err.Error()}
		}
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			return []string{"the body is not JSON: " + err.Error()}
		}
		return matchJSON(w, g, "body")
	case strings.HasPrefix(want, "<"):
		want, got = betweenTags.ReplaceAllString(want, "><"), betweenTags.ReplaceAllString(got, "><")
	}
	if !pattern(want).MatchString(got) {
		return []string{"the body differs"}
	}
	return nil
}

// matchJSON compares a documented JSON value with the one received; a
// documented string may hold placeholders.
func matchJSON(want, got any, at string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, documented an object", at, compact(got))}
		}
		var problems []string
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if _, ok := g[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s: no member %q", at, k))
				continue
			}
			problems = append(problems, matchJSON(w[k], g[k], at+"."+k)...)
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s: member %q is not documented", at, k))
			}
		}
		return problems
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %s, documented %s", at, compact(got), compact(want))}
		}
		var problems []string
		for i := range w {
			problems = append(problems, matchJSON(w[i], g[i], fmt.Sprintf("%s[%d]", at, i))...)
		}
		return problems
	case string:
		if g, ok := got.(string); !ok || !pattern(w).MatchString(g) {
			return []string{fmt.Sprintf("%s: got %s, documented %q", at, compact(got), w)}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: got %s, documented %s", at, compact(got), compact(want))}
	}
	return nil
}

func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// pattern turns documented text into a regular expression matching it
// whole, each placeholder standing for its pattern; anything else in
// angle brackets stands for itself.
func pattern(documented string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString(`^`)
	rest := documented
	for {
		loc := placeholderToken.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		p, ok := placeholders[rest[loc[2]:loc[3]]]
		if !ok { // not a placeholder: an element of XML, say
			re.WriteString(regexp.QuoteMeta(rest[:loc[1]]))
			rest = rest[loc[1]:]
			continue
		}
		re.WriteString(regexp.QuoteMeta(rest[:loc[0]]) + "(?:" + p + ")")
		rest = rest[loc[1]:]
	}
	re.WriteString(regexp.QuoteMeta(rest) + `$`)
	return regexp.MustCompile(re.String()) // every part is quoted or a pattern above
}

// TestReferenceComparisonCatchesDrift: a documented response that no
// longer matches the server's fails, whatever drifted; headers the page
// leaves out, the indentation of JSON and XML, and placeholders do not.
func TestReferenceComparisonCatchesDrift(t *testing.T) {
	const output = "HTTP/1.1 201 Created\r\nCache-Control: no-store\r\nContent-Type: application/json\r\n" +
		"Location: /v1/psd2/challenges/r9-ZE2flBToU-Wv2SRYDYA\r\nDate: Thu, 03 Dec 2026 12:24:46 GMT\r\n\r\n" +
		`{"id":"r9-ZE2flBToU-Wv2SRYDYA","status":"pending","person_id":null,"created_at":"2026-12-03T12:24:46Z"}`
	const xmlOutput = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n" +
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R><nonce>ZuONC7B7LXLyK-T6CLHnpw</nonce><n>1</n></R>"
	for _, tc := range []struct {
		name, documented, output string
		drifted                  bool
	}{
		{"the same, indented, with placeholders", "HTTP/1.1 201 Created\nLocation: /v1/psd2/challenges/<ID>\n\n" +
			"{\n  \"id\": \"<ID>\",\n  \"status\": \"pending\",\n  \"person_id\": null,\n  \"created_at\": \"<TIME>\"\n}", output, false},
		{"another status line", "HTTP/1.1 200 OK\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null,"created_at":"<TIME>"}`, output, true},
		{"a header missing", "HTTP/1.1 201 Created\nRetry-After: <SECONDS>\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null,"created_at":"<TIME>"}`, output, true},
		{"another header value", "HTTP/1.1 201 Created\nContent-Type: application/xml\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null,"created_at":"<TIME>"}`, output, true},
		{"another value", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<ID>","status":"authorized","person_id":null,"created_at":"<TIME>"}`, output, true},
		{"a member the server no longer sends", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null,"created_at":"<TIME>","scope":"accounts"}`, output, true},
		{"a member the page does not show", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null}`, output, true},
		{"null for a string", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<ID>","status":"pending","person_id":"p-alice","created_at":"<TIME>"}`, output, true},
		{"a value the placeholder does not stand for", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<ID>","status":"pending","person_id":null,"created_at":"<ERROR_ID>"}`, output, true},
		{"a name that is no placeholder", "HTTP/1.1 201 Created\n\n" +
			`{"id":"<WHATEVER>","status":"pending","person_id":null,"created_at":"<TIME>"}`, output, true},
		{"XML, indented", "HTTP/1.1 200 OK\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R>\n  <nonce><NONCE></nonce>\n  <n>1</n>\n</R>", xmlOutput, false},
		{"XML with another value", "HTTP/1.1 200 OK\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R><nonce><NONCE></nonce><n>2</n></R>", xmlOutput, true},
		{"no response at all", "HTTP/1.1 200 OK\n\n{}", "curl: (7) Failed to connect", true},
	} {
		problems := compareResponse(tc.documented, tc.output)
		if drifted := len(problems) > 0; drifted != tc.drifted {
			t.Errorf("%s: problems %q; want drift %v", tc.name, problems, tc.drifted)
		}
	}
}
