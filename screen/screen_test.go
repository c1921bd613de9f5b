package screen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/screen"
)

// person is what a person's browser sends through the SDK.
func person(p leadwire.Payload) *leadwire.Capture {
	p.Normalize()
	return &leadwire.Capture{
		ChannelID: "ch",
		Leads:     []*leadwire.Lead{{Payload: p}},
		Source:    leadwire.Source{Address: "198.51.100.4", UserAgent: "Mozilla/5.0 (Macintosh) Safari/605.1.15", Origin: "https://homes.example"},
		Controls:  leadwire.Controls{FormTime: 14 * time.Second},
	}
}

func channel(set leadwire.ScreeningSettings) *leadwire.Channel {
	return &leadwire.Channel{ID: "ch", Name: "Site", Screening: set}
}

func TestSignals(t *testing.T) {
	ann := leadwire.Payload{FirstName: "Ann", LastName: "Lee", Email: "ann.lee@gmail.com", PhoneNumber: "(214) 555-0142",
		Extra: leadwire.Fields{"message": "Is the house on Elm St still available? https://homes.example/listings/12"}}
	for _, tc := range []struct {
		name   string
		change func(c *leadwire.Capture)
		want   leadwire.Verdict
		reason string
	}{
		{"a person", func(*leadwire.Capture) {}, leadwire.VerdictAccept, ""},
		{"honeypot", func(c *leadwire.Capture) { c.Controls.Honeypot = true }, leadwire.VerdictQuarantine, screen.ReasonHoneypot},
		{"too fast", func(c *leadwire.Capture) { c.Controls.FormTime = 900 * time.Millisecond }, leadwire.VerdictQuarantine, screen.ReasonTooFast},
		{"not timed", func(c *leadwire.Capture) { c.Controls.FormTime = 0 }, leadwire.VerdictAccept, ""},
		{"link in name", func(c *leadwire.Capture) { c.Leads[0].Payload.FirstName = "Visit cheap-pills.xyz" }, leadwire.VerdictQuarantine, screen.ReasonLinkInName},
		{"html in name", func(c *leadwire.Capture) { c.Leads[0].Payload.LastName = "<b>WIN</b>" }, leadwire.VerdictQuarantine, screen.ReasonLinkInName},
		{"link markup", func(c *leadwire.Capture) {
			c.Leads[0].Payload.Extra["message"] = `Great offer <a href="https://x.example">here</a>`
		}, leadwire.VerdictQuarantine, screen.ReasonLinksInMessage},
		{"three links", func(c *leadwire.Capture) {
			c.Leads[0].Payload.Note = "http://a.example http://b.example www.c.example"
		}, leadwire.VerdictQuarantine, screen.ReasonLinksInMessage},
		{"disposable", func(c *leadwire.Capture) { c.Leads[0].Payload.Email = "ann@Mailinator.com" }, leadwire.VerdictQuarantine, screen.ReasonDisposableEmail},
		{"disposable subdomain", func(c *leadwire.Capture) { c.Leads[0].Payload.Email = "ann@x.yopmail.com" }, leadwire.VerdictQuarantine, screen.ReasonDisposableEmail},
		{"invalid email", func(c *leadwire.Capture) { c.Leads[0].Payload.Email = "ann@localhost" }, leadwire.VerdictQuarantine, screen.ReasonInvalidEmail},
		{"invalid phone", func(c *leadwire.Capture) {
			c.Leads[0].Payload.PhoneNumber, c.Leads[0].Payload.PhoneNumberOriginal = "1111111111", ""
		}, leadwire.VerdictQuarantine, screen.ReasonInvalidPhone},
		{"short phone", func(c *leadwire.Capture) {
			c.Leads[0].Payload.PhoneNumber, c.Leads[0].Payload.PhoneNumberOriginal = "12345", ""
		}, leadwire.VerdictQuarantine, screen.ReasonInvalidPhone},
		{"script alone", func(c *leadwire.Capture) {
			c.Source = leadwire.Source{Address: "198.51.100.4", UserAgent: "python-requests/2.31.0"}
			c.Leads[0].Payload.Extra["message"] = "Is it still available?"
		}, leadwire.VerdictAccept, ""},
		{"script with a link", func(c *leadwire.Capture) {
			c.Source = leadwire.Source{Address: "198.51.100.4", UserAgent: "curl/8.5.0"}
		}, leadwire.VerdictQuarantine, screen.ReasonScriptedClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := person(ann)
			c.Leads[0].Payload.Extra = leadwire.Fields{"message": ann.Extra["message"]}
			tc.change(c)
			got := screen.New(screen.Config{}).Screen(context.Background(), channel(leadwire.ScreeningSettings{}), c)
			if got.Verdict != tc.want || (tc.reason != "" && !slices.Contains(got.Reasons, tc.reason)) {
				t.Fatalf("Screen = %s %v, want %s with %q", got.Verdict, got.Reasons, tc.want, tc.reason)
			}
			if tc.reason == "" {
				return
			}
			// Each signal can be turned off on a channel, and the whole
			// screening too.
			off := channel(leadwire.ScreeningSettings{Disabled: []string{tc.reason}})
			if got := screen.New(screen.Config{}).Screen(context.Background(), off, c); got.Verdict != leadwire.VerdictAccept {
				t.Errorf("with %s disabled: %s %v, want accept", tc.reason, got.Verdict, got.Reasons)
			}
			if got := screen.New(screen.Config{}).Screen(context.Background(), channel(leadwire.ScreeningSettings{Off: true}), c); got.Verdict != leadwire.VerdictAccept {
				t.Errorf("with screening off: %s, want accept", got.Verdict)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := screen.New(screen.Config{Now: func() time.Time { return now }})
	ch := channel(leadwire.ScreeningSettings{AddressRate: 3, ChannelBurst: 5, ChannelRate: 60})
	send := func(address string) leadwire.Screening {
		c := person(leadwire.Payload{Email: "a@example.com"})
		c.Source.Address = address
		return s.Screen(context.Background(), ch, c)
	}
	for i := range 3 {
		if v := send("198.51.100.9"); v.Verdict != leadwire.VerdictAccept {
			t.Fatalf("capture %d: %s %v", i+1, v.Verdict, v.Reasons)
		}
	}
	v := send("198.51.100.9")
	if v.Verdict != leadwire.VerdictRefuse || !slices.Equal(v.Reasons, []string{screen.ReasonAddressRate}) ||
		leadwire.ErrorCode(v.Err) != leadwire.ETOOMANY || v.RetryAfter != 20*time.Minute {
		t.Fatalf("4th capture of the hour: %s %v %v retry %s, want refused, retry in 20 minutes", v.Verdict, v.Reasons, v.Err, v.RetryAfter)
	}
	// An IPv6 client counts by its /64; loopback is not limited.
	for i := range 3 {
		send(fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if v := send("2001:db8:1:2::ff"); v.Verdict != leadwire.VerdictRefuse {
		t.Errorf("a 4th address of one /64: %s, want refused", v.Verdict)
	}
	// The channel's burst of 5 is spent by the captures the addresses'
	// limits let through: one more address is over it.
	v = send("203.0.113.1")
	if v.Verdict != leadwire.VerdictRefuse || v.Reasons[0] != screen.ReasonChannelRate || v.RetryAfter != time.Second {
		t.Fatalf("over the channel's burst: %s %v retry %s", v.Verdict, v.Reasons, v.RetryAfter)
	}
	now = now.Add(20 * time.Minute) // a token for the address and twenty for the channel
	if v := send("198.51.100.9"); v.Verdict != leadwire.VerdictAccept {
		t.Errorf("after 20 minutes: %s %v, want accepted", v.Verdict, v.Reasons)
	}
	for range 40 {
		if v := send("127.0.0.1"); v.Verdict == leadwire.VerdictRefuse && v.Reasons[0] == screen.ReasonAddressRate {
			t.Fatal("loopback limited per address")
		}
	}
}

func TestRepeatedBody(t *testing.T) {
	s := screen.New(screen.Config{})
	ch := channel(leadwire.ScreeningSettings{})
	send := func(address, message string) leadwire.Screening {
		c := person(leadwire.Payload{Email: "x@example.com", Extra: leadwire.Fields{"message": message}})
		c.Source.Address = address
		return s.Screen(context.Background(), ch, c)
	}
	spam := "We can get your website to the FIRST page of Google, guaranteed!"
	for i := range 3 {
		if v := send(fmt.Sprintf("198.51.100.%d", i), spam); v.Verdict != leadwire.VerdictAccept {
			t.Fatalf("copy %d: %s", i+1, v.Verdict)
		}
	}
	if v := send("198.51.100.3", strings.ToUpper(spam)+"  "); v.Verdict != leadwire.VerdictQuarantine || v.Reasons[0] != screen.ReasonRepeatedBody {
		t.Fatalf("a 4th address with the same body: %s %v", v.Verdict, v.Reasons)
	}
	if v := send("198.51.100.0", spam); v.Verdict != leadwire.VerdictAccept {
		t.Errorf("a first sender again: %s, want accepted (its rate is another signal)", v.Verdict)
	}
	for i := range 6 {
		if v := send(fmt.Sprintf("203.0.113.%d", i), "Call me"); v.Verdict != leadwire.VerdictAccept {
			t.Fatalf("a short message from many people: %s", v.Verdict)
		}
	}
}

// TestCaptcha verifies tokens against a stand-in for the providers'
// verify endpoints.
func TestCaptcha(t *testing.T) {
	var got []string
	verifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = append(got, r.PostForm.Get("secret")+" "+r.PostForm.Get("response")+" "+r.PostForm.Get("remoteip"))
		switch r.PostForm.Get("response") {
		case "good":
			fmt.Fprint(w, `{"success":true,"hostname":"homes.example"}`)
		case "broken":
			fmt.Fprint(w, `<html>oops</html>`)
		case "down":
			w.WriteHeader(http.StatusBadGateway)
		default:
			fmt.Fprint(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
		}
	}))
	defer verifier.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	for _, provider := range leadwire.CaptchaProviders {
		field := ""
		for f, p := range leadwire.CaptchaFields {
			if p == provider {
				field = f
			}
		}
		for _, tc := range []struct {
			token, url string
			want       leadwire.Verdict
			reason     string
		}{
			{"good", verifier.URL, leadwire.VerdictAccept, ""},
			{"forged", verifier.URL, leadwire.VerdictQuarantine, screen.ReasonCaptchaFailed},
			{"", verifier.URL, leadwire.VerdictQuarantine, screen.ReasonCaptchaMissing},
			{"broken", verifier.URL, leadwire.VerdictQuarantine, screen.ReasonCaptchaUnreachable},
			{"down", verifier.URL, leadwire.VerdictQuarantine, screen.ReasonCaptchaUnreachable},
			{"good", gone.URL, leadwire.VerdictQuarantine, screen.ReasonCaptchaUnreachable},
		} {
			t.Run(provider+"/"+tc.token+"/"+tc.reason, func(t *testing.T) {
				p := leadwire.Payload{Email: "ann@example.com", Extra: leadwire.Fields{field: tc.token}}
				c := person(p)
				c.Controls.Merge(c.Leads[0].Payload.TakeControls())
				ch := channel(leadwire.ScreeningSettings{Captcha: provider, CaptchaSecret: "s3", CaptchaVerifyURL: tc.url})
				v := screen.New(screen.Config{}).Screen(context.Background(), ch, c)
				if v.Verdict != tc.want || (tc.reason != "" && !slices.Equal(v.Reasons, []string{tc.reason})) {
					t.Fatalf("Screen = %s %v, want %s %s", v.Verdict, v.Reasons, tc.want, tc.reason)
				}
			})
		}
	}
	if len(got) == 0 || got[0] != "s3 good 198.51.100.4" {
		t.Errorf("the verifier was asked %q, want the secret, the token and the client's address", got)
	}
}

func TestDisposableList(t *testing.T) {
	d := screen.DisposableDomains()
	if d.Len() < 50 || !d.Contains("mailinator.com") || d.Contains("gmail.com") || d.Contains("com") {
		t.Fatalf("embedded list: %d domains", d.Len())
	}
	custom, err := screen.ParseDomains(strings.NewReader("# mine\n\nThrowAway.example.\n"))
	if err != nil || custom.Len() != 1 || !custom.Contains("a.throwaway.EXAMPLE") {
		t.Fatalf("ParseDomains = %v, %v", custom, err)
	}
	for _, bad := range []string{"not a domain\n", "ann@x.example\n", strings.Repeat("a", 2000)} {
		if _, err := screen.ParseDomains(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseDomains(%.20q) took it", bad)
		}
	}
}

func TestValidEmailAndPhone(t *testing.T) {
	for e, want := range map[string]bool{
		"ann@example.com": true, "a.b+tag@sub.example.co.uk": true, "josé@exämple.de": true, "x@xn--80ak6aa92e.xn--p1ai": true,
		"ann@localhost": false, "ann@@example.com": false, ".ann@example.com": false, "a..b@example.com": false,
		"ann@example.c": false, "ann@-example.com": false, "ann@example..com": false, "ann example@x.com": false,
		"@example.com": false, "ann@example.123": false, "ann@": false,
	} {
		if got := screen.ValidEmail(e); got != want {
			t.Errorf("ValidEmail(%q) = %v", e, got)
		}
	}
	for p, want := range map[string]bool{
		"(214) 555-0142": true, "+44 20 7946 0958": true, "+1 214 555 0100": true,
		"12345": false, "0000000000": false, "+1 111-111-1111": false, "123-456-7890": false, "9876543210": false,
		"1234567890123456": false,
	} {
		if got := screen.ValidPhone(p); got != want {
			t.Errorf("ValidPhone(%q) = %v", p, got)
		}
	}
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", "a@b", "@", "x@xn--p1ai.xn--p1ai", "a..b@c.de", "é@ü.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if screen.ValidEmail(s) && strings.Count(s, "@") != 1 {
			t.Fatalf("ValidEmail(%q) with %d @", s, strings.Count(s, "@"))
		}
	})
}

func FuzzValidPhone(f *testing.F) {
	for _, s := range []string{"(214) 555-0142", "1111111", "+1 234 567 8901", "", "٣٣٣٣٣٣٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		digits := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if screen.ValidPhone(s) && (digits < 7 || digits > 15) {
			t.Fatalf("ValidPhone(%q) with %d digits", s, digits)
		}
	})
}

func FuzzParseDomains(f *testing.F) {
	f.Add("mailinator.com\n# comment\n\nYOPMAIL.fr.\n")
	f.Add("a b\n")
	f.Fuzz(func(t *testing.T, list string) {
		d, err := screen.ParseDomains(strings.NewReader(list))
		if err != nil {
			return
		}
		for _, line := range strings.Split(list, "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") && !d.Contains(line) {
				t.Fatalf("ParseDomains took %q but does not contain it", line)
			}
		}
	})
}

func FuzzParseVerifyAnswer(f *testing.F) {
	for _, s := range []string{`{"success":true}`, `{"success":false}`, `{"success":"yes"}`, `[]`, `null`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		success, ok := screen.ParseVerifyAnswer(body)
		if !ok {
			if success {
				t.Fatal("success without ok")
			}
			return
		}
		var a struct{ Success bool }
		if err := json.Unmarshal(body, &a); err != nil || a.Success != success {
			t.Fatalf("ParseVerifyAnswer(%q) = %v, json says %v %v", body, success, a.Success, err)
		}
	})
}

// BenchmarkScreen is what screening adds to a capture: a person's lead
// through every signal but the CAPTCHA, each from an address of its own
// (building the lead is counted too).
func BenchmarkScreen(b *testing.B) {
	s := screen.New(screen.Config{})
	ch := channel(leadwire.ScreeningSettings{Disabled: []string{screen.ReasonChannelRate}})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		c := person(leadwire.Payload{FirstName: "Jordan", LastName: "Rivera", Email: fmt.Sprintf("v%d@example.com", n),
			PhoneNumber: "(214) 555-0142", Note: "Open house on Saturday?", Extra: leadwire.Fields{"message": fmt.Sprint("Call in the evening, please, about listing ", n)}})
		c.Source.Address = fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		if v := s.Screen(context.Background(), ch, c); v.Verdict != leadwire.VerdictAccept {
			b.Fatal(v)
		}
	}
}
