package leadwire

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// SpamRetention is how long a quarantined lead is kept: long enough for
// someone to find a real lead among the spam and restore it, short enough
// that the database does not fill with bots' words.
const SpamRetention = 30 * 24 * time.Hour

// Source is where a capture came from, recorded with each of its leads.
type Source struct {
	// Address is the client's IP address: the connection's peer, or the
	// address a trusted proxy put in X-Forwarded-For.
	Address   string `json:"address,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Origin    string `json:"origin,omitempty"` // the page's origin, when a browser sent it
}

// Controls are the fields a form sends for screening rather than as part
// of the lead: they are taken out of the payload before it is stored.
type Controls struct {
	// Honeypot is true when a field no person sees or fills (the SDKs'
	// hidden field, or _gotcha) holds a value.
	Honeypot bool
	// FormTime is how long the form was on screen before it was sent, as
	// the browser SDK measures it; 0 when nobody measured.
	FormTime time.Duration
	// CaptchaTokens are the CAPTCHA widgets' tokens, by the provider whose
	// field carried them (CaptchaTurnstile, ...).
	CaptchaTokens map[string]string
}

// Verdict is what screening decides about a capture.
type Verdict string

const (
	// VerdictAccept stores the capture's leads as new leads.
	VerdictAccept Verdict = "accept"
	// VerdictQuarantine stores them with StatusSpam and the reasons, out
	// of the lead list, and answers as if they were accepted: a bot learns
	// nothing, and a person who was wrongly suspected loses nothing.
	VerdictQuarantine Verdict = "quarantine"
	// VerdictRefuse stores nothing and answers with the error.
	VerdictRefuse Verdict = "refuse"
)

// Screening is the verdict on one capture and why.
type Screening struct {
	Verdict Verdict
	// Reasons name the signals that fired (the Reason constants of package
	// screen), in the order they were checked.
	Reasons []string
	// Err is the error a refused capture is answered with: ETOOMANY with
	// RetryAfter for a client over its rate.
	Err        error
	RetryAfter time.Duration
}

// Screener decides what to do with a capture before it is stored.
type Screener interface {
	// Screen returns the verdict on c, arriving on ch, whose Screening
	// settings say which signals count. It never fails: a signal that
	// cannot decide (a CAPTCHA verifier out of reach) quarantines.
	Screen(ctx context.Context, ch *Channel, c *Capture) Screening
}

// Control fields: what forms send for screening, taken out of the lead.
const (
	// HoneypotField is the hidden, unlabelled field both SDKs add to the
	// forms they bind: a person never sees it, a bot fills it in.
	HoneypotField = "_lw_website"
	// GotchaField is the honeypot other form backends (Formspree) use.
	GotchaField = "_gotcha"
	// FormTimeField carries how long the form was on screen before it
	// was sent, in milliseconds, as the browser SDK measures it.
	FormTimeField = "_lw_t"
)

// CaptchaFields maps the fields CAPTCHA widgets put their token in to
// their provider.
var CaptchaFields = map[string]string{
	"cf-turnstile-response": CaptchaTurnstile,
	"h-captcha-response":    CaptchaHCaptcha,
	"g-recaptcha-response":  CaptchaReCaptcha,
}

// TakeControls removes the control fields from p.Extra and returns what
// they said. Call it before the payload is first encoded (PayloadJSON).
func (p *Payload) TakeControls() Controls {
	var c Controls
	if len(p.Extra) == 0 {
		return c
	}
	for _, k := range []string{HoneypotField, GotchaField} {
		if v, ok := p.Extra[k]; ok {
			c.Honeypot = c.Honeypot || !isBlank(v)
			delete(p.Extra, k)
		}
	}
	if v, ok := p.Extra[FormTimeField]; ok {
		c.FormTime = ParseFormTime(v)
		delete(p.Extra, FormTimeField)
	}
	for field, provider := range CaptchaFields {
		if v, ok := p.Extra[field]; ok {
			if s, _ := v.(string); s != "" {
				if c.CaptchaTokens == nil {
					c.CaptchaTokens = map[string]string{}
				}
				c.CaptchaTokens[provider] = s
			}
			delete(p.Extra, field)
		}
	}
	if len(p.Extra) == 0 {
		p.Extra = nil
	}
	return c
}

// Merge adds what o says to c: the controls of the leads of one capture.
func (c *Controls) Merge(o Controls) {
	c.Honeypot = c.Honeypot || o.Honeypot
	if o.FormTime > 0 && (c.FormTime == 0 || o.FormTime < c.FormTime) {
		c.FormTime = o.FormTime
	}
	for k, v := range o.CaptchaTokens {
		if c.CaptchaTokens == nil {
			c.CaptchaTokens = map[string]string{}
		}
		c.CaptchaTokens[k] = v
	}
}

// maxFormTime bounds a form time: a tab left open for days is a person,
// and larger numbers would overflow.
const maxFormTime = 30 * 24 * time.Hour

// ParseFormTime reads a form time field: whole milliseconds as a JSON
// number or a string of digits (a form sends text). Anything else, a
// negative time included, is 0: not measured. A time of 0 ms itself is
// 1 ns, so that it still counts as measured, and instant.
func ParseFormTime(v any) time.Duration {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	default:
		return 0
	}
	ms, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	if ms == 0 {
		return 1
	}
	return min(time.Duration(min(ms, uint64(maxFormTime/time.Millisecond)))*time.Millisecond, maxFormTime)
}

// isBlank reports whether a field's value is empty: "", null, or a list
// of blanks.
func isBlank(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		for _, e := range v {
			if !isBlank(e) {
				return false
			}
		}
		return true
	}
	return false
}
