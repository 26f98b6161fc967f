package challenge_test

import (
	"net/netip"
	"testing"

	"github.com/challengekit/challengekit/challenge"
)

// TestSourcesOfIPv6AreTheirSlash64: one subscriber holds a /64 and could
// take a new address for every request; the budget follows the /64.
func TestSourcesOfIPv6AreTheirSlash64(t *testing.T) {
	for addr, want := range map[string]string{
		"203.0.113.7":          "ip:203.0.113.7",
		"::ffff:203.0.113.7":   "ip:203.0.113.7",
		"2001:db8:1:2::1":      "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "ip:2001:db8:1:2::/64",
		"fe80::1%eth0":         "ip:fe80::/64",
		"2001:db8:1:3:0:0:0:1": "ip:2001:db8:1:3::/64",
	} {
		if got := challenge.AddrSource(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AddrSource(%s) = %q, want %q", addr, got, want)
		}
	}
	if got := challenge.AddrSource(netip.Addr{}); got != "" {
		t.Errorf("AddrSource(no address) = %q, want none", got)
	}
}
