package rechat_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire/rechat"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-3", 0},
		{"soon", 0},
		{"Fri, 02 Jan 2026 15:04:35 GMT", 30 * time.Second},
		{"Fri, 02 Jan 2026 15:00:00 GMT", 0},
		{"4294967295", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := rechat.ParseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "Fri, 02 Jan 2026 15:04:35 GMT", "Monday, 02-Jan-06 15:04:05 MST", "1e9", "99999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := rechat.ParseRetryAfter(s, now); d < 0 || d > 24*time.Hour {
			t.Errorf("ParseRetryAfter(%q) = %v, outside [0, 24h]", s, d)
		}
	})
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt         int
		retryAfter      time.Duration
		lowest, highest time.Duration
	}{
		{1, 0, 500 * time.Millisecond, time.Second},
		{3, 0, 2 * time.Second, 4 * time.Second},
		{40, 0, 30 * time.Second, time.Minute},
		{1, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			for range 100 {
				d := rechat.Backoff(tt.attempt, tt.retryAfter, time.Second, time.Minute)
				if d < tt.lowest || d > tt.highest {
					t.Fatalf("Backoff(%d, %v) = %v, want in [%v, %v]", tt.attempt, tt.retryAfter, d, tt.lowest, tt.highest)
				}
			}
		})
	}
}

func FuzzDecodeItem(f *testing.F) {
	f.Add([]byte(`{"kind":"lead","queued_at":"2026-01-02T15:04:05Z","path":"/leads/channels/c/webhook","body":{"email":"a@b.c"},"idempotency_key":"k"}`))
	f.Add([]byte(`{"kind":"activity","path":"/leads/l/timeline","body":{"action":"X"},"idempotency_key":"k"}`))
	f.Add([]byte(`{"kind":"lead","path":"http://evil/","idempotency_key":"k"}`))
	f.Add([]byte(`{"kind":"lead","pa`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, err := rechat.DecodeItem(b)
		if err == nil && kind != rechat.KindLead && kind != rechat.KindActivity {
			t.Errorf("decoded an item of kind %q", kind)
		}
	})
}

func FuzzCaptureResultJSON(f *testing.F) {
	f.Add(`{"id":"l","created_at":1752247298.819}`)
	f.Add(`{"created_at":0}`)
	f.Add(`{"created_at":-1.5}`)
	f.Add(`{"created_at":"1752247298"}`)
	f.Add(`{"created_at":1e300}`)
	f.Fuzz(func(t *testing.T, in string) {
		var r rechat.CaptureResult
		if json.Unmarshal([]byte(in), &r) != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal %+v: %v", r, err)
		}
		var back rechat.CaptureResult
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", out, err)
		}
		if back.CreatedAt.UnixMilli() != r.CreatedAt.UnixMilli() || back.ID != r.ID {
			t.Errorf("round trip %s -> %s", in, out)
		}
	})
}

func TestSensitiveField(t *testing.T) {
	tests := []struct {
		name      string
		sensitive bool
	}{
		{"password", true}, {"new-password", true}, {"Password_Confirm", true},
		{"card_number", true}, {"cardNumber", true}, {"cc-number", true}, {"cc_exp", true},
		{"cvc", true}, {"CVV", true}, {"card[cvc]", true}, {"expiry", true}, {"exp-date", true},
		{"email", false}, {"first_name", false}, {"message", false}, {"expected_move", false},
		{"phone_number", false}, {"accent", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rechat.SensitiveField(tt.name); got != tt.sensitive {
				t.Errorf("SensitiveField(%q) = %v, want %v", tt.name, got, tt.sensitive)
			}
		})
	}
}

func FuzzCookieLeadID(f *testing.F) {
	for _, s := range []string{"0193a6f0-0000-7000-8000-000000000000", "%22abc%22", "../x", "a/b", "%2F", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id := rechat.CookieLeadID(v)
		if id != "" && (len(id) > 64 || strings.ContainsAny(id, "/?#%.\"") || url.PathEscape(id) != id) {
			t.Errorf("CookieLeadID(%q) = %q: not safe in a path", v, id)
		}
	})
}
