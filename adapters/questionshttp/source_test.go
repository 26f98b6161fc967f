package questionshttp_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

func TestClientAddressTrustsTheHeaderOnlyFromItsProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	xff := questionshttp.ClientAddress{Header: "X-Forwarded-For", TrustedProxies: proxies}
	realIP := questionshttp.ClientAddress{Header: "X-Real-IP", TrustedProxies: proxies}
	for _, tc := range []struct {
		name   string
		by     questionshttp.ClientAddress
		remote string
		header []string // X-Forwarded-For or X-Real-IP values
		want   string
	}{
		{"no header configured: the connection", questionshttp.ClientAddress{}, "198.51.100.7:4000", []string{"203.0.113.1"}, "198.51.100.7"},
		{"a header from a stranger is ignored", xff, "198.51.100.7:4000", []string{"203.0.113.1"}, "198.51.100.7"},
		{"from a trusted proxy: the client it names", xff, "10.1.2.3:4000", []string{"203.0.113.1"}, "203.0.113.1"},
		{"a client's own entries before the proxy's are not believed", xff, "10.1.2.3:4000", []string{"192.0.2.66, 203.0.113.1"}, "203.0.113.1"},
		{"through two trusted proxies", xff, "10.1.2.3:4000", []string{"203.0.113.1, 10.9.9.9"}, "203.0.113.1"},
		{"over several header lines", xff, "10.1.2.3:4000", []string{"203.0.113.1", "10.9.9.9"}, "203.0.113.1"},
		{"all trusted: the farthest", xff, "10.1.2.3:4000", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"garbage stops at the last proxy", xff, "10.1.2.3:4000", []string{"not-an-address, 10.9.9.9"}, "10.9.9.9"},
		{"IPv6 proxies, mapped IPv4 clients", xff, "[2001:db8:ffff::1]:4000", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"a one-address header", realIP, "10.1.2.3:4000", []string{"203.0.113.1"}, "203.0.113.1"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.remote
		name := tc.by.Header
		if name == "" {
			name = "X-Forwarded-For" // sent, but not read
		}
		for _, v := range tc.header {
			req.Header.Add(name, v)
		}
		if got := tc.by.Of(req); got.String() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}

// TestAnswerPutsAreBudgetedPerAddress: PUTs of answers (each spends
// argon2id hashes) are charged to the logged-in user and to the address,
// which behind a trusted proxy is the one it names.
func TestAnswerPutsAreBudgetedPerAddress(t *testing.T) {
	limiter, err := challenge.NewMemoryLimiter(challenge.Limits{SourceStarts: challenge.Rate{Events: 2, Per: time.Hour}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newAkanaEnvFull(t, questions.Options{Params: questions.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, Engine: challenge.EngineOptions{Limiter: limiter}},
		questionshttp.Options{ClientAddress: questionshttp.ClientAddress{Header: "X-Forwarded-For", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	put := func(from string) akanaReply {
		return e.send("PUT", "/api/users/"+akanaBob+"/challenges", "bob", `{"UserIdentificationChallenge":[
			{"ChallengeCode":"com.soa.challenge.question.school","Answer":"Lincoln High"},
			{"ChallengeCode":"com.soa.challenge.question.color","Answer":"Green"},
			{"ChallengeCode":"com.soa.challenge.question.mothers.name","Answer":"Okafor"}]}`,
			"Content-Type", "application/json", "X-Forwarded-For", from)
	}
	for i := range 2 {
		if r := put("198.51.100.7"); r.status != 200 {
			t.Fatalf("PUT %d from one address: %d %s", i+1, r.status, r.raw)
		}
	}
	if r := put("198.51.100.7"); r.status != 429 {
		t.Fatalf("a third PUT from that address: %d %s; want 429", r.status, r.raw)
	}
	if r := put("203.0.113.9"); r.status != 200 {
		t.Fatalf("a PUT from another address: %d %s", r.status, r.raw)
	}
}
