package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	s := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.5:4000", nil, "203.0.113.5"},
		{"203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"}, // not a trusted proxy: its header is not believed
		{"10.0.0.2:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.2:4000", []string{"6.6.6.6, 198.51.100.1, 10.0.0.3"}, "198.51.100.1"}, // the client wrote 6.6.6.6 itself
		{"10.0.0.2:4000", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.2:4000", []string{"garbage, 198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.2:4000", []string{"198.51.100.1, garbage"}, "10.0.0.2"}, // cannot read past what the proxy wrote
		{"10.0.0.2:4000", nil, "10.0.0.2"},
		{"10.0.0.2:4000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"[::1]:4000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddress(r); got != tc.want {
			t.Errorf("clientAddress(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func FuzzParseForwardedFor(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.2.3.4, 5.6.7.8", "[::1]:80, ::ffff:1.2.3.4", "fe80::1%eth0", ",,,", "x, 1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		for _, a := range ParseForwardedFor([]string{header, header}) {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("ParseForwardedFor(%q) gave %v", header, a)
			}
		}
		if n := len(ParseForwardedFor([]string{header})); n > maxForwardedHops {
			t.Fatalf("%d hops", n)
		}
	})
}
