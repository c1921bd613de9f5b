package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// TestLoginLimiterDoubles: the lock begins at the limit-th failure, each
// failure after it doubles it up to maxLockout, and failures are
// forgotten after a pause of failureWindow once the lock is over.
func TestLoginLimiterDoubles(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	const key = "account:ann@example.com"
	for i := range accountFailures - 1 {
		l.fail(key, accountFailures)
		if d := l.wait(key); d != 0 {
			t.Fatalf("after %d failures the account waits %v", i+1, d)
		}
	}
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		l.fail(key, accountFailures)
		if d := l.wait(key, "address:192.0.2.1"); d != want {
			t.Fatalf("lock = %v, want %v", d, want)
		}
		now = now.Add(want)
		if d := l.wait(key); d != 0 {
			t.Fatalf("after the lock ends the account still waits %v", d)
		}
	}
	for range 10 {
		l.fail(key, accountFailures)
	}
	if d := l.wait(key); d != maxLockout {
		t.Errorf("lock after many failures = %v, want the cap %v", d, maxLockout)
	}
	now = now.Add(maxLockout + failureWindow + time.Second)
	l.fail(key, accountFailures)
	if d := l.wait(key); d != 0 {
		t.Errorf("a failure after a long pause locks for %v; the count should start again", d)
	}
	l.succeed(key)
	if len(l.keys) != 0 {
		t.Errorf("success left %d keys", len(l.keys))
	}
}

// TestLoginLimiterMemory: keys idle past the window are dropped once the
// table is full, so failures for made-up emails cannot grow it for ever.
func TestLoginLimiterMemory(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	for i := range maxLoginKeys {
		l.fail("account:"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+time.Duration(i).String(), accountFailures)
	}
	now = now.Add(failureWindow + time.Second)
	l.fail("account:new@example.com", accountFailures)
	if len(l.keys) != 1 {
		t.Errorf("%d keys kept, want only the new one", len(l.keys))
	}
}

func TestAddressKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5555":                      "address:192.0.2.7",
		"[::ffff:192.0.2.7]:5555":             "address:192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443":          "address:2001:db8:1:2::",
		"[2001:db8:1:2:ffff:ffff:ffff:1]:443": "address:2001:db8:1:2::",
		"@":                                   "address:@",
	} {
		r := httptest.NewRequest("POST", "/api/session", nil)
		r.RemoteAddr = addr
		if got := addressKey(r); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

// FuzzReadJSON: whatever body a client sends to sign in or set up, the
// answer is a client error naming it, never an internal one.
func FuzzReadJSON(f *testing.F) {
	for _, seed := range []string{`{"email":"a@example.com","password":"x"}`, `{"email":1}`, `[`, `null`, `"x"`, `{"email":"\ud800"}`, ""} {
		f.Add(seed, "application/json")
	}
	f.Add(`{}`, "text/plain")
	s := New(Config{})
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := httptest.NewRequest("POST", "/api/session", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var c credentials
		err := s.readJSON(httptest.NewRecorder(), r, &c)
		if err == nil {
			return
		}
		if code := leadwire.ErrorCode(err); statusOf[code] >= http.StatusInternalServerError || leadwire.ErrorMessage(err) == "" {
			t.Fatalf("readJSON(%q, %q) = %v (code %q), want a client error", body, contentType, err, code)
		}
	})
}
