package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// TestLoginLimiterDoubles: the limit-th failure locks the key for
// lockout, each failure after the lock doubles it up to maxLockout, and
// failures are forgotten after a pause of failureWindow once the lock is
// over.
func TestLoginLimiterDoubles(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	key := accountKey("Ann@example.com")
	address := loginKey{"address:192.0.2.1", addressFailures}
	for i := range accountFailures {
		if d := l.try(key, address); d != 0 {
			t.Fatalf("attempt %d waits %v", i+1, d)
		}
	}
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		if d := l.try(key); d != want {
			t.Fatalf("lock = %v, want %v", d, want)
		}
		now = now.Add(want)
		if d := l.try(key); d != 0 { // a new guess, which doubles the lock
			t.Fatalf("after the lock ends the account still waits %v", d)
		}
	}
	for range 10 { // each lock waited out, then one more guess
		now = now.Add(l.try(key))
		l.try(key)
	}
	if d := l.try(key); d != maxLockout {
		t.Errorf("lock after many failures = %v, want the cap %v", d, maxLockout)
	}
	now = now.Add(maxLockout + failureWindow + time.Second) // the lock and a pause
	if d := l.try(key); d != 0 {
		t.Errorf("an attempt after a long pause waits %v", d)
	}
	if d := l.try(key); d != 0 {
		t.Errorf("the second attempt after a long pause waits %v; the count should start again", d)
	}
	l.forgive(key, true)
	if d := l.try(key); d != 0 || l.keys[key.key].count != 1 {
		t.Errorf("a right password did not clear the account's failures")
	}
	if n := l.keys[address.key].count; n != accountFailures {
		t.Errorf("the address counts %d failures, want %d", n, accountFailures)
	}
	// A sign-in that did not fail takes its own count back, and the
	// lock with it.
	for range addressFailures - accountFailures {
		l.try(address)
	}
	l.forgive(address, false)
	if d := l.try(address); d != 0 {
		t.Errorf("the address waits %v after its last attempt was forgiven", d)
	}
}

// TestLoginLimiterMemory: keys idle past the window are dropped once the
// table is full, so failures for made-up emails cannot grow it for ever.
func TestLoginLimiterMemory(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	for i := range maxLoginKeys {
		l.try(accountKey(strconv.Itoa(i) + "@example.com"))
	}
	now = now.Add(failureWindow + time.Second)
	l.try(accountKey("new@example.com"))
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
		if got := addressKey(r.RemoteAddr).key; got != want {
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
