package server

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := func(n ...int) []time.Duration {
		d := make([]time.Duration, len(n))
		for i, v := range n {
			d[i] = time.Duration(v) * time.Second
		}
		return d
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{s(7), 50, 7 * time.Second},
		{s(7), 90, 7 * time.Second},
		{s(1, 2), 50, 1 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 6: 10, 11: 20, 21: 50, 51: 100, 999: 1000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestLocalNext(t *testing.T) {
	for next, want := range map[string]string{
		"/inbox/leads/x?a=1":    "/inbox/leads/x?a=1",
		"":                      "/inbox/",
		"https://evil.example":  "/inbox/",
		"//evil.example/inbox/": "/inbox/",
		"/inbox//evil.example":  "/inbox/",
		"/inbox/\\evil":         "/inbox/",
		"/api/me":               "/inbox/",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// FuzzLocalNext: whatever next a link carries, signing in goes on to a
// page of the inbox on this server.
func FuzzLocalNext(f *testing.F) {
	for _, seed := range []string{"/inbox/", "/inbox/leads/x?q=1", "//evil.example", "/inbox//evil", "/inbox/\\evil", "https://x", "/inbox/\r\nLocation: x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/inbox/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Errorf("localNext(%q) = %q, which may leave the inbox", next, got)
		}
	})
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		400 * time.Millisecond: "0.4 s", 9 * time.Second: "9.0 s", 45 * time.Second: "45 s",
		12*time.Minute + 30*time.Second: "12 min", 3 * time.Hour: "3 h", 47 * time.Hour: "47 h", 5 * 24 * time.Hour: "5 d",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
