package authnhttp_test

import (
	"strings"
	"testing"
)

// TestResponsesCarryTheOriginalsContextFields checks the response fields
// beyond the basic ones: the user's factor attributes as
// UserFactorAttribute entries, attribute values that are objects (in JSON
// and in XML), and initContext once Init has started a factor.
func TestResponsesCarryTheOriginalsContextFields(t *testing.T) {
	e := newAuthnEnv(t)
	raw := func(method, body string, headers ...string) (int, string) {
		t.Helper()
		r := e.sendRaw(method, body, headers...)
		return r.status, r.raw
	}
	status, begun := raw("POST", `{"userInfo":{"userId":"erin"}}`)
	for _, want := range []string{
		`"factorContext":{"factorKey":"ChallengeOMAPUSH","passive":false,"factorAttributes":[{"name":"deviceName","value":"Tablet"},{"name":"device","value":{"platform":"ios","app":"Authenticator"}}]}`,
		`"challengeAttrMap":[{"key":"deviceName","value":"Tablet"},{"key":"device","value":{"platform":"ios","app":"Authenticator"}}]`,
	} {
		if status != 200 || !strings.Contains(begun, want) {
			t.Fatalf("POST: %d %s; want %s", status, begun, want)
		}
	}
	if strings.Contains(begun, "initContext") {
		t.Errorf("POST has an initContext before any Init: %s", begun)
	}
	_, xmlBegun := raw("POST", `<AuthnRequest><userInfo><userId>erin</userId></userInfo></AuthnRequest>`, "Content-Type", "application/xml")
	if want := `<factorAttributes><name>device</name><value><platform>ios</platform><app>Authenticator</app></value></factorAttributes>`; !strings.Contains(xmlBegun, want) {
		t.Errorf("XML POST: %s; want %s", xmlBegun, want)
	}

	r := e.begin("alice")
	r = e.put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP","factorAttributes":[{"name":"locale","value":{"language":"en","region":"GB"}},{"name":"channel","value":"web"}]}`)
	e.want(r, 200, "pending verification", "AUTHN_PENDING")
	if !strings.Contains(r.raw, `"initContext":{"factorKey":"ChallengeOMATOTP","passive":true}`) {
		t.Errorf("Init: %s; want initContext naming the factor", r.raw)
	}
}

// TestFactorAttributesAreStrictlyRead checks that an agent's per-call
// factor attributes may carry object values, in JSON and XML, and that
// anything else is a 400 naming the attribute.
func TestFactorAttributesAreStrictlyRead(t *testing.T) {
	e := newAuthnEnv(t)
	init := func(attrs string) authnReply {
		t.Helper()
		r := e.begin("alice")
		return e.put(r, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP","factorAttributes":`+attrs+`}`)
	}
	for _, tc := range []struct{ attrs, message string }{
		{`[{"name":"a","value":{"x":1}}]`, "challengedata.factorAttributes[0].value: must be a string or an object whose members are strings"},
		{`[{"name":"a","value":["x"]}]`, "challengedata.factorAttributes[0].value: must be a string or an object whose members are strings"},
		{`[{"name":"a","value":{"x":"1","x":"2"}}]`, "challengedata.factorAttributes[0].value.x: is given more than once"},
		{`[{"name":"a.b","value":"x"}]`, "challengedata.factorAttributes[0].name: must be a name without dots"},
		{`[{"name":"a","value":{"x y":"1"}}]`, "challengedata.factorAttributes[0].value: must name its members with letters, digits, '_' and '-'"},
		{`[{"name":"a","value":{}}]`, "challengedata.factorAttributes[0].value: must be a string or an object whose members are strings"},
	} {
		r := init(tc.attrs)
		if r.status != 400 || r.StatusInfo.Message != tc.message {
			t.Errorf("%s: %d %q; want 400 %q", tc.attrs, r.status, r.StatusInfo.Message, tc.message)
		}
	}
	begun := e.begin("alice")
	r := e.sendRaw("PUT", `<UpdateAuthnRequest><correlationId>`+begun.CorrelationID+`</correlationId><nonce>`+begun.Nonce+
		`</nonce><challengeop>Init</challengeop><challengedata><factorKey>ChallengeOMATOTP</factorKey><factorAttributes><name>locale</name><value><language>en</language><region>GB</region></value></factorAttributes></challengedata></UpdateAuthnRequest>`,
		"Content-Type", "application/xml")
	if r.status != 200 || !strings.Contains(r.raw, "<initContext><factorKey>ChallengeOMATOTP</factorKey><passive>true</passive></initContext>") {
		t.Errorf("XML Init with an object value: %d %s", r.status, r.raw)
	}
	// A member holding an element is a nested object, refused as in JSON.
	begun = e.begin("alice")
	r = e.send("PUT", `<UpdateAuthnRequest><correlationId>`+begun.CorrelationID+`</correlationId><nonce>`+begun.Nonce+
		`</nonce><challengeop>Init</challengeop><challengedata><factorKey>ChallengeOMATOTP</factorKey><factorAttributes><name>locale</name><value><language><code>en</code></language></value></factorAttributes></challengedata></UpdateAuthnRequest>`,
		"Content-Type", "application/xml")
	if r.status != 400 {
		t.Errorf("XML Init with a nested object value: %d %s; want 400", r.status, r.raw)
	}
}
