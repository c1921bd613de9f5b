package leadwire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

func TestTakeControls(t *testing.T) {
	p := leadwire.Payload{Email: "a@example.com", Extra: leadwire.Fields{
		"message": "hi", "_lw_website": "", "_gotcha": "http://spam.example", "_lw_t": json.Number("2500"),
		"cf-turnstile-response": "tok", "g-recaptcha-response": "",
	}}
	c := p.TakeControls()
	if !c.Honeypot || c.FormTime != 2500*time.Millisecond || len(c.CaptchaTokens) != 1 || c.CaptchaTokens[leadwire.CaptchaTurnstile] != "tok" {
		t.Fatalf("TakeControls = %+v", c)
	}
	if len(p.Extra) != 1 || p.Extra["message"] != "hi" {
		t.Fatalf("Extra after TakeControls = %v, want only the message", p.Extra)
	}
	q := leadwire.Payload{Extra: leadwire.Fields{"_lw_website": "  ", "_lw_t": "abc"}}
	if c := q.TakeControls(); c.Honeypot || c.FormTime != 0 || q.Extra != nil {
		t.Fatalf("blank honeypot, unreadable time: %+v, Extra %v", c, q.Extra)
	}
}

func FuzzParseFormTime(f *testing.F) {
	for _, s := range []string{"2500", "0", "-5", "1e3", " 12 ", "18446744073709551615", "99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, json.Number(s)} {
			d := leadwire.ParseFormTime(v)
			if d < 0 || d > 30*24*time.Hour {
				t.Fatalf("ParseFormTime(%q) = %s", s, d)
			}
		}
	})
}
