package deliver

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

func TestBackoffDoublesWithJitterAndHonoursRetryAfter(t *testing.T) {
	first, limit := 10*time.Second, time.Hour
	for attempt := 1; attempt <= 20; attempt++ {
		want := min(first<<(attempt-1), limit)
		for range 50 {
			d := Backoff(attempt, 0, first, limit)
			if d < want/2 || d > want {
				t.Fatalf("retry %d: %s, want between %s and %s", attempt, d, want/2, want)
			}
		}
	}
	if d := Backoff(1, time.Minute, first, limit); d != time.Minute {
		t.Errorf("with Retry-After of a minute: %s", d)
	}
}

func TestOutcome(t *testing.T) {
	d := New(Config{})
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fresh := &leadwire.Delivery{ID: "d", Attempts: 2, GiveUpAt: start.Add(leadwire.DeliveryGiveUp)}
	for _, c := range []struct {
		name   string
		del    *leadwire.Delivery
		res    Result
		status string
	}{
		{"2xx", fresh, Result{StatusCode: 204}, leadwire.DeliveryDelivered},
		{"500", fresh, Result{StatusCode: 500}, leadwire.DeliveryPending},
		{"408", fresh, Result{StatusCode: 408}, leadwire.DeliveryPending},
		{"429", fresh, Result{StatusCode: 429}, leadwire.DeliveryPending},
		{"3xx", fresh, Result{StatusCode: 302}, leadwire.DeliveryPending},
		{"404", fresh, Result{StatusCode: 404}, leadwire.DeliveryFailed},
		{"no answer", fresh, Result{Err: errors.New("connection refused")}, leadwire.DeliveryPending},
		{"permanent", fresh, Result{Err: errors.New("no such address"), Permanent: true}, leadwire.DeliveryFailed},
		{"allowance over", &leadwire.Delivery{GiveUpAt: start}, Result{StatusCode: 503}, leadwire.DeliveryFailed},
	} {
		got := d.outcome(c.del, c.res, start, time.Second)
		if got.Status != c.status {
			t.Errorf("%s: %s, want %s", c.name, got.Status, c.status)
		}
		if got.Status == leadwire.DeliveryPending {
			wait := got.NextAttemptAt.Sub(start.Add(time.Second))
			if wait < 20*time.Second || wait > 40*time.Second { // the third attempt: 40 s with jitter
				t.Errorf("%s: next attempt in %s", c.name, wait)
			}
		}
	}
	// The last retry is at the end of the allowance, not after it.
	late := &leadwire.Delivery{Attempts: 12, GiveUpAt: start.Add(time.Minute)}
	if got := d.outcome(late, Result{StatusCode: 500}, start, 0); !got.NextAttemptAt.Equal(late.GiveUpAt) {
		t.Errorf("late retry at %s, want %s", got.NextAttemptAt, late.GiveUpAt)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                     0,
		"120":                  2 * time.Minute,
		" 7 ":                  7 * time.Second,
		"-5":                   0,
		"soon":                 0,
		"1e9":                  0,
		"99999999999999999999": 0,
		"999999999":            leadwire.DeliveryGiveUp,
		now.Add(time.Hour).Format(http.TimeFormat):  time.Hour,
		now.Add(-time.Hour).Format(http.TimeFormat): 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "9223372036854775807", "1.5"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, v string) {
		if d := ParseRetryAfter(v, now); d < 0 || d > leadwire.DeliveryGiveUp {
			t.Errorf("ParseRetryAfter(%q) = %s", v, d)
		}
	})
}
