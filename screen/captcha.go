package screen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/leadwire/leadwire"
)

// VerifyURLs are the providers' public endpoints that verify a token; a
// channel's CaptchaVerifyURL overrides them. All three take the same
// form (secret, response, remoteip) and answer {"success": bool, ...}.
var VerifyURLs = map[string]string{
	leadwire.CaptchaTurnstile: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
	leadwire.CaptchaHCaptcha:  "https://api.hcaptcha.com/siteverify",
	leadwire.CaptchaReCaptcha: "https://www.google.com/recaptcha/api/siteverify",
}

// maxVerifyAnswer bounds the provider's answer read.
const maxVerifyAnswer = 64 << 10

// captcha verifies the capture's token of the channel's provider and
// returns the reason to quarantine it, or "" when the provider confirmed
// the token. A provider out of reach quarantines: the lead is kept, and a
// person decides.
func (s *Screener) captcha(ctx context.Context, in *input) string {
	set := in.set
	token := in.c.Controls.CaptchaTokens[set.Captcha]
	if token == "" {
		return ReasonCaptchaMissing
	}
	verifyURL := set.CaptchaVerifyURL
	if verifyURL == "" {
		verifyURL = VerifyURLs[set.Captcha]
	}
	form := url.Values{"secret": {set.CaptchaSecret}, "response": {token}}
	if a := in.c.Source.Address; a != "" {
		form.Set("remoteip", a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, verifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return ReasonCaptchaUnreachable
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return ReasonCaptchaUnreachable
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxVerifyAnswer))
	if err != nil || resp.StatusCode != http.StatusOK {
		return ReasonCaptchaUnreachable
	}
	success, ok := ParseVerifyAnswer(body)
	switch {
	case !ok:
		return ReasonCaptchaUnreachable
	case !success:
		return ReasonCaptchaFailed
	}
	return ""
}

// ParseVerifyAnswer reads a provider's answer: ok is false when it is not
// a JSON object with a boolean "success".
func ParseVerifyAnswer(body []byte) (success, ok bool) {
	var a struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Success == nil {
		return false, false
	}
	return *a.Success, true
}
