package challengetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/rogpeppe/go-internal/testscript"
)

// Scenarios runs plain-text scenario scripts against an http.Handler: the
// library's own server, or a user's. Scripts use the testscript format
// (github.com/rogpeppe/go-internal/testscript): one command a line, `#`
// comments, `$VAR` expansion, `!` to expect failure, and every built-in
// command (stdout, cmp, exists, ...), plus these:
//
//	header NAME [VALUE...]     send this header from now on (no value: stop)
//	basicauth USER PASSWORD    send HTTP Basic credentials from now on
//	request METHOD PATH [BODY] send a request; BODY may be @file from the archive.
//	                           Prints "HTTP <status>", the Content-Type and the body,
//	                           so `stdout` can match them
//	status CODE                the last response's status is CODE
//	json PATH VALUE            the last JSON body has VALUE at PATH
//	                           (dotted: statusInfo.status, challengeInfo.0.prompts.0.key;
//	                           null for JSON null)
//	capture VAR PATH           set $VAR to the value at PATH of the last JSON body
//	advance DURATION           move the script's fake clock (e.g. 5m)
//	totp VAR SECRET            set $VAR to the TOTP code of a base32 secret, now by the fake clock
type Scenarios struct {
	// Dir holds the scripts (*.txtar, *.txt), relative to the test.
	Dir string
	// Handler builds a fresh handler for one script, reading time from
	// clock, so that scripts cannot see each other's state.
	Handler func(clock *FakeClock) (http.Handler, error)
	// Check, if set, is called with every request and its response; an
	// error fails the script (for example, a response that breaks an API
	// description).
	Check func(req *http.Request, status int, header http.Header, body []byte) error
}

type scenarioKey struct{}

// scenario is one script's state.
type scenario struct {
	handler http.Handler
	clock   *FakeClock
	header  http.Header
	status  int
	body    []byte
}

// Run runs every script in s.Dir as a subtest of t.
func (s Scenarios) Run(t *testing.T) {
	t.Helper()
	testscript.Run(t, testscript.Params{
		Dir: s.Dir,
		Setup: func(env *testscript.Env) error {
			clock := NewClock()
			h, err := s.Handler(clock)
			if err != nil {
				return err
			}
			env.Values[scenarioKey{}] = &scenario{handler: h, clock: clock, header: http.Header{}}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"header":    cmdHeader,
			"basicauth": cmdBasicAuth,
			"request":   s.cmdRequest,
			"status":    cmdStatus,
			"json":      cmdJSON,
			"capture":   cmdCapture,
			"advance":   cmdAdvance,
			"totp":      cmdTOTP,
		},
	})
}

func state(ts *testscript.TestScript) *scenario { return ts.Value(scenarioKey{}).(*scenario) }

func usage(ts *testscript.TestScript, neg bool, args []string, n int, form string) {
	if neg {
		ts.Fatalf("%s cannot be negated", form)
	}
	if len(args) < n {
		ts.Fatalf("usage: %s", form)
	}
}

func cmdHeader(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 1, "header NAME [VALUE...]")
	if len(args) == 1 {
		state(ts).header.Del(args[0])
		return
	}
	state(ts).header.Set(args[0], strings.Join(args[1:], " "))
}

func cmdBasicAuth(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 2, "basicauth USER PASSWORD")
	state(ts).header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(args[0]+":"+args[1])))
}

func (s Scenarios) cmdRequest(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 2, "request METHOD PATH [BODY]")
	st := state(ts)
	var body []byte
	if len(args) > 2 {
		text := strings.Join(args[2:], " ")
		if file, ok := strings.CutPrefix(text, "@"); ok {
			var err error
			body, err = os.ReadFile(ts.MkAbs(file))
			ts.Check(err)
		} else {
			body = []byte(text)
		}
	}
	req := httptest.NewRequest(args[0], args[1], bytes.NewReader(body))
	for name, values := range st.header {
		req.Header[name] = values
	}
	rec := httptest.NewRecorder()
	st.handler.ServeHTTP(rec, req)
	st.status, st.body = rec.Code, rec.Body.Bytes()
	if s.Check != nil {
		checkReq := httptest.NewRequest(args[0], args[1], bytes.NewReader(body))
		checkReq.Header = req.Header.Clone()
		if err := s.Check(checkReq, rec.Code, rec.Header(), st.body); err != nil {
			ts.Fatalf("%s %s: %v", args[0], args[1], err)
		}
	}
	fmt.Fprintf(ts.Stdout(), "HTTP %d\n%s\n%s\n", rec.Code, rec.Header().Get("Content-Type"), st.body)
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: status CODE")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := state(ts).status; (got == want) == neg {
		ts.Fatalf("status %d, want %s%d\n%s", got, map[bool]string{true: "not ", false: ""}[neg], want, state(ts).body)
	}
}

// lookup returns the value at a dotted path of the last JSON body, as
// text: strings bare, null as "null", other values as JSON.
func lookup(ts *testscript.TestScript, path string) (string, bool) {
	var v any
	if err := json.Unmarshal(state(ts).body, &v); err != nil {
		ts.Fatalf("the last response is not JSON: %v\n%s", err, state(ts).body)
	}
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[part]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "null", true
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}

func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: json PATH VALUE")
	}
	want := strings.Join(args[1:], " ")
	got, ok := lookup(ts, args[0])
	if (ok && got == want) == neg {
		ts.Fatalf("%s = %q (present: %v), want %s%q\n%s", args[0], got, ok, map[bool]string{true: "not ", false: ""}[neg], want, state(ts).body)
	}
}

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 2, "capture VAR PATH")
	v, ok := lookup(ts, args[1])
	if !ok {
		ts.Fatalf("no %s in the last response\n%s", args[1], state(ts).body)
	}
	ts.Setenv(args[0], v)
}

func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 1, "advance DURATION")
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	state(ts).clock.Advance(d)
}

func cmdTOTP(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, args, 2, "totp VAR SECRET")
	code, err := totp.GenerateCode(args[1], state(ts).clock.Now())
	ts.Check(err)
	ts.Setenv(args[0], code)
}
