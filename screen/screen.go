// Package screen decides, before a capture is stored, whether it is a
// person's lead (accept), probably a bot's (quarantine: stored as spam, out
// of the lead list) or over a rate limit (refuse: 429). Each signal is a
// small function of the capture; the settings of the capture's channel say
// which ones count.
package screen

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
)

// Reasons: the signals, by the name a quarantined lead's reasons and a
// channel's Disabled list use.
const (
	ReasonHoneypot           = "honeypot"            // a hidden field was filled in
	ReasonTooFast            = "too_fast"            // the form was sent sooner than a person can fill it
	ReasonAddressRate        = "address_rate"        // one address sent more than the channel allows an hour
	ReasonChannelRate        = "channel_rate"        // the channel as a whole is flooded
	ReasonLinkInName         = "link_in_name"        // a link or HTML in a name
	ReasonLinksInMessage     = "links_in_message"    // link markup, or several links, in the message
	ReasonDisposableEmail    = "disposable_email"    // an address of a throwaway mail service
	ReasonInvalidEmail       = "invalid_email"       // an email that cannot be delivered to anyone
	ReasonInvalidPhone       = "invalid_phone"       // a phone number that cannot be anyone's
	ReasonRepeatedBody       = "repeated_body"       // the same message from many addresses
	ReasonScriptedClient     = "scripted_client"     // sent by an HTTP library, not a browser or an SDK
	ReasonCaptchaMissing     = "captcha_missing"     // the channel requires a CAPTCHA and none came
	ReasonCaptchaFailed      = "captcha_failed"      // the CAPTCHA provider refused the token
	ReasonCaptchaUnreachable = "captcha_unreachable" // the provider could not be asked
)

// Reasons lists every reason, in the order the signals are checked.
var Reasons = []string{ReasonAddressRate, ReasonChannelRate, ReasonHoneypot, ReasonTooFast, ReasonLinkInName,
	ReasonLinksInMessage, ReasonDisposableEmail, ReasonInvalidEmail, ReasonInvalidPhone, ReasonRepeatedBody,
	ReasonScriptedClient, ReasonCaptchaMissing, ReasonCaptchaFailed, ReasonCaptchaUnreachable}

// Config is what a Screener needs; zero values are the defaults.
type Config struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Disposable lists the throwaway mail domains; nil means the embedded
	// list (DisposableDomains).
	Disposable *Domains
	// HTTPClient asks the CAPTCHA providers; nil means a client with a
	// 5 s timeout.
	HTTPClient *http.Client
}

// Screener screens captures; see leadwire.Screener. It keeps its rate
// buckets and recent message bodies in memory: a restart forgets them.
type Screener struct {
	now        func() time.Time
	disposable *Domains
	http       *http.Client

	mu      sync.Mutex
	buckets buckets
	bodies  bodies
}

// New returns a Screener for cfg.
func New(cfg Config) *Screener {
	s := &Screener{now: cfg.Now, disposable: cfg.Disposable, http: cfg.HTTPClient}
	if s.now == nil {
		s.now = time.Now
	}
	if s.disposable == nil {
		s.disposable = DisposableDomains()
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 5 * time.Second}
	}
	s.buckets.init()
	s.bodies.init()
	return s
}

// input is what the signals look at.
type input struct {
	ch  *leadwire.Channel
	set *leadwire.ScreeningSettings
	c   *leadwire.Capture
	now time.Time
}

// signal is one check: the weight of its suspicion, 0 when it sees
// nothing. A capture whose weights add up to 1 is quarantined.
type signal struct {
	reason string
	weigh  func(s *Screener, in *input) float64
}

// signals are the checks that need nothing from outside, cheapest first.
var signals = []signal{
	{ReasonHoneypot, honeypot},
	{ReasonTooFast, tooFast},
	{ReasonLinkInName, linkInName},
	{ReasonLinksInMessage, linksInMessage},
	{ReasonDisposableEmail, disposableEmail},
	{ReasonInvalidEmail, invalidEmail},
	{ReasonInvalidPhone, invalidPhone},
	{ReasonScriptedClient, scriptedClient},
	{ReasonRepeatedBody, repeatedBody},
}

// Screen returns the verdict on c; see leadwire.Screener.
func (s *Screener) Screen(ctx context.Context, ch *leadwire.Channel, c *leadwire.Capture) leadwire.Screening {
	sc := s.screen(ctx, ch, c)
	metrics.ScreenVerdicts.WithLabelValues(string(sc.Verdict)).Inc()
	for _, r := range sc.Reasons {
		metrics.ScreenReasons.WithLabelValues(r).Inc()
	}
	return sc
}

func (s *Screener) screen(ctx context.Context, ch *leadwire.Channel, c *leadwire.Capture) leadwire.Screening {
	set := &ch.Screening
	if set.Off {
		return leadwire.Screening{Verdict: leadwire.VerdictAccept}
	}
	in := &input{ch: ch, set: set, c: c, now: s.now()}
	if reason, wait := s.limit(in); reason != "" {
		secs := int((wait + time.Second - 1) / time.Second)
		return leadwire.Screening{Verdict: leadwire.VerdictRefuse, Reasons: []string{reason}, RetryAfter: wait,
			Err: leadwire.Errorf(leadwire.ETOOMANY, "too many leads %s; retry in %s seconds", limitWho[reason], strconv.Itoa(secs))}
	}
	var reasons []string
	var weight float64
	for _, sig := range signals {
		if !set.Enabled(sig.reason) {
			continue
		}
		if w := sig.weigh(s, in); w > 0 {
			reasons, weight = append(reasons, sig.reason), weight+w
		}
	}
	// The CAPTCHA is asked last, and only when nothing else decided: it
	// costs a request to the provider.
	if set.Captcha != "" && weight < 1 {
		if r := s.captcha(ctx, in); r != "" && set.Enabled(r) {
			reasons, weight = append(reasons, r), weight+1
		}
	}
	if weight < 1 {
		return leadwire.Screening{Verdict: leadwire.VerdictAccept}
	}
	return leadwire.Screening{Verdict: leadwire.VerdictQuarantine, Reasons: reasons}
}

// limitWho says whose limit a refusal is over.
var limitWho = map[string]string{
	ReasonAddressRate: "from this address",
	ReasonChannelRate: "on this channel",
}
