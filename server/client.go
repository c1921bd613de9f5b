package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/leadwire/leadwire"
)

// maxForwardedHops bounds how many addresses of X-Forwarded-For are read.
const maxForwardedHops = 32

// source returns where a request came from: the client's address, its
// User-Agent and the page's Origin.
func (s *Server) source(r *http.Request) leadwire.Source {
	return leadwire.Source{Address: s.clientAddress(r), UserAgent: r.Header.Get("User-Agent"), Origin: r.Header.Get("Origin")}
}

// clientAddress is the address of the client: the connection's peer, or,
// when the peer is a trusted proxy, the address X-Forwarded-For names
// before the trusted proxies, read from the right (the part a client
// wrote itself, on the left, is not believed).
func (s *Server) clientAddress(r *http.Request) string {
	peer := peerAddress(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := ParseForwardedFor(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		client = hops[i]
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddress reads the connection's address, host:port, without its
// port; the zero Addr when it is not an IP address.
func peerAddress(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParseForwardedFor reads the addresses of X-Forwarded-For headers, in
// order: comma-separated IPv4 or IPv6 addresses, which proxies may write
// with a port or IPv6 in brackets. It stops at the first entry that is
// none of these, keeping those after it out: what a proxy appended last
// is what counts, and an entry it did not write cannot be read past. It
// reads at most maxForwardedHops entries from the right.
func ParseForwardedFor(headers []string) []netip.Addr {
	var entries []string
	for _, h := range headers {
		entries = append(entries, strings.Split(h, ",")...)
	}
	if len(entries) > maxForwardedHops {
		entries = entries[len(entries)-maxForwardedHops:]
	}
	var addrs []netip.Addr
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		a, err := netip.ParseAddr(e)
		if err != nil {
			if ap, err2 := netip.ParseAddrPort(e); err2 == nil {
				a, err = ap.Addr(), nil
			} else if strings.HasPrefix(e, "[") && strings.HasSuffix(e, "]") {
				a, err = netip.ParseAddr(e[1 : len(e)-1])
			}
		}
		if err != nil || a.Zone() != "" {
			break
		}
		addrs = append(addrs, a.Unmap())
	}
	// Read from the right; give them back in header order.
	for i, j := 0, len(addrs)-1; i < j; i, j = i+1, j-1 {
		addrs[i], addrs[j] = addrs[j], addrs[i]
	}
	return addrs
}
