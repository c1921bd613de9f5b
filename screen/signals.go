package screen

import (
	"regexp"
	"strings"

	"github.com/leadwire/leadwire"
)

// honeypot: any value in a field no person sees.
func honeypot(_ *Screener, in *input) float64 {
	return yes(in.c.Controls.Honeypot)
}

// tooFast: the browser SDK measured the form on screen for less than the
// channel's minimum. Captures nobody timed (servers, the Go SDK) pass.
func tooFast(_ *Screener, in *input) float64 {
	t := in.c.Controls.FormTime
	min := in.set.MinFormTime
	if min == 0 {
		min = leadwire.DefaultMinFormTime
	}
	return yes(t > 0 && t < min)
}

// linkPattern finds what a person does not type into their own name: a
// link, a domain, HTML or forum markup.
var linkPattern = regexp.MustCompile(`(?i)https?:|www\.|://|<[a-z/!]|\[url|\[link|\.(com|net|org|info|biz|ru|cn|xyz|top|io|site|online|shop|club)\b`)

// linkInName: a link or markup in a name field. The pattern runs only on
// names with a character a link needs: most names have none.
func linkInName(_ *Screener, in *input) float64 {
	for _, l := range in.c.Leads {
		for _, name := range []string{l.Payload.FirstName, l.Payload.LastName} {
			if strings.ContainsAny(name, ".:/<[") && linkPattern.MatchString(name) {
				return 1
			}
		}
	}
	return 0
}

// linksInMessage: link markup, which no person writes into a contact form,
// or three links or more; one or two links are half a suspicion, since a
// visitor may paste the listing they mean.
func linksInMessage(_ *Screener, in *input) float64 {
	var weight float64
	for _, l := range in.c.Leads {
		m, _ := l.Payload.Extra["message"].(string)
		for _, s := range []string{l.Payload.Note, m} {
			weight = max(weight, linkWeight(s))
		}
	}
	return weight
}

// linkWeight is the suspicion the links of one text raise.
func linkWeight(s string) float64 {
	if !strings.ContainsAny(s, "/.") {
		return 0 // no link without one of these: most messages
	}
	s = strings.ToLower(s)
	for _, markup := range []string{"href", "<a ", "[url", "[link"} {
		if strings.Contains(s, markup) {
			return 1
		}
	}
	n := strings.Count(s, "://") + strings.Count(s, "www.") - strings.Count(s, "://www.")
	switch {
	case n >= 3:
		return 1
	case n > 0:
		return 0.5
	}
	return 0
}

// disposableEmail: an address at a throwaway mail service.
func disposableEmail(s *Screener, in *input) float64 {
	for _, l := range in.c.Leads {
		if _, domain, ok := strings.Cut(l.Payload.Email, "@"); ok && s.disposable.Contains(domain) {
			return 1
		}
	}
	return 0
}

// invalidEmail: an email no mail could reach (see ValidEmail).
func invalidEmail(_ *Screener, in *input) float64 {
	for _, l := range in.c.Leads {
		if e := l.Payload.Email; e != "" && !ValidEmail(e) {
			return 1
		}
	}
	return 0
}

// invalidPhone: a phone number that is nobody's (see ValidPhone).
func invalidPhone(_ *Screener, in *input) float64 {
	for _, l := range in.c.Leads {
		p := l.Payload.PhoneNumberOriginal
		if p == "" {
			p = l.Payload.PhoneNumber
		}
		if p != "" && !ValidPhone(p) {
			return 1
		}
	}
	return 0
}

// scriptPattern matches the User-Agents of HTTP libraries and command-line
// tools, which bots post with; a browser, either SDK or a lead service
// names itself otherwise.
var scriptPattern = regexp.MustCompile(`(?i)^(curl|wget|python|aiohttp|httpx|go-http-client|java|okhttp|apache-httpclient|libwww-perl|lwp|scrapy|axios|node-fetch|undici|got|php|guzzlehttp|ruby|mechanize|postmanruntime|httpie|powershell)\b`)

// scriptedClient: sent by an HTTP library or with no User-Agent at all,
// and from no web page. Half a suspicion: integrations are scripts too.
func scriptedClient(_ *Screener, in *input) float64 {
	ua := strings.TrimSpace(in.c.Source.UserAgent)
	if in.c.Source.Origin != "" || strings.HasPrefix(ua, "Mozilla/") {
		return 0
	}
	return 0.5 * yes(ua == "" || scriptPattern.MatchString(ua))
}

func yes(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ValidEmail reports whether email could be delivered to: one @, a local
// part of 1 to 64 characters without spaces, control characters or
// misplaced dots, and a domain of at least two labels of letters, digits
// and inner hyphens, ending in a top-level domain of letters (or an IDN's
// xn--). It asks no DNS server.
func ValidEmail(email string) bool {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || strings.Contains(domain, "@") || len(local) == 0 || len(local) > 64 || len(domain) > 253 {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`()<>,;:\"[]`, r) {
			return false
		}
	}
	labels := strings.Split(strings.ToLower(domain), ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f && r != 0xfffd) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	if len(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if r >= '0' && r <= '9' || r == '-' {
			return false
		}
	}
	return true
}

// ValidPhone reports whether phone, as sent, could be someone's number:
// 7 to 15 digits (E.164's most), not one digit repeated and not a run
// like 1234567890.
func ValidPhone(phone string) bool {
	var digits []byte
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return false
	}
	// A leading country code 1 is not part of the pattern.
	national := digits
	if len(digits) == 11 && digits[0] == '1' {
		national = digits[1:]
	}
	same, up, down := true, true, true
	for i := 1; i < len(national); i++ {
		same = same && national[i] == national[0]
		up = up && (national[i]-'0') == (national[i-1]-'0'+1)%10
		down = down && (national[i-1]-'0') == (national[i]-'0'+1)%10
	}
	return !same && !up && !down
}
