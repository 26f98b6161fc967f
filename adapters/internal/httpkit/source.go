package httpkit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddress finds the end user's network address for a request, the
// source the Limiter budgets. By default it is the connection's remote
// address. Behind a reverse proxy, name the header the proxy sets and the
// proxies' networks: the header is read only on requests that come from
// one of them, so a client cannot name its own address.
//
// The zero value reads the remote address only. A ClientAddress is safe
// for concurrent use.
type ClientAddress struct {
	// Header is the header a trusted proxy puts the client's address in:
	// "X-Forwarded-For" (a list: the rightmost address that is not itself
	// a trusted proxy is taken) or a one-address header such as
	// "X-Real-IP". Empty: no header is read.
	Header string
	// TrustedProxies are the networks whose requests may carry Header.
	TrustedProxies []netip.Prefix
}

// Of returns the address r comes from, or the zero Addr when it cannot be
// told (a RemoteAddr that is not an IP address).
func (c ClientAddress) Of(r *http.Request) netip.Addr {
	addr := remoteAddr(r)
	if c.Header == "" || !c.trusted(addr) {
		return addr
	}
	values := r.Header.Values(c.Header)
	// Walk the hops from the nearest: each trusted proxy vouches for the
	// one before it; the first hop it cannot vouch for is the client.
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return addr // garbage where an address should be: stop at the last proxy
			}
			hop = hop.Unmap()
			if !c.trusted(hop) {
				return hop
			}
			addr = hop
		}
	}
	return addr
}

func (c ClientAddress) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
