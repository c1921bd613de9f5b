package leadwire

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultChannelName is the name of the channel a new database starts with.
const DefaultChannelName = "Website"

// Channel is where leads arrive: one website form, one ad campaign, one
// lead-forwarding service. Its id is both the endpoint and the only
// credential: whoever knows it can post leads to it.
type Channel struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	BrandID   string    `json:"brand_id,omitempty"` // contacts are matched within the brand
	UserID    string    `json:"user_id,omitempty"`  // the owner of the channel's leads
	CreatedAt time.Time `json:"created_at"`
	// AllowedOrigins lists the web origins (scheme://host[:port]) whose
	// pages may post to the channel. Empty means any origin may.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Screening says how the channel's captures are screened for spam;
	// the zero value screens with the defaults.
	Screening ScreeningSettings `json:"screening"`
}

// Validate reports an EINVALID error when the channel has no name or an
// allowed origin is not a bare origin.
func (c *Channel) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Errorf(EINVALID, "channel name is required")
	}
	for i, o := range c.AllowedOrigins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return Errorf(EINVALID, "allowed origin %q is not an origin like https://example.com", o)
		}
		c.AllowedOrigins[i] = u.Scheme + "://" + u.Host
	}
	return c.Screening.Validate()
}

// AllowsOrigin reports whether a page of origin may post to the channel.
// Requests without an Origin header (servers, curl) are always allowed:
// origin checks protect against other websites, not other programs.
func (c *Channel) AllowsOrigin(origin string) bool {
	if len(c.AllowedOrigins) == 0 || origin == "" {
		return true
	}
	for _, o := range c.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Brand is the scope in which the channel's leads are matched to contacts:
// its brand, or the channel itself when it has none.
func (c *Channel) Brand() string {
	if c.BrandID != "" {
		return c.BrandID
	}
	return "channel:" + c.ID
}

// EnsureDefaultChannel returns the oldest channel, creating one named
// DefaultChannelName when there is none; created says which happened.
func EnsureDefaultChannel(ctx context.Context, s ChannelService) (c *Channel, created bool, err error) {
	channels, err := s.FindChannels(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(channels) > 0 {
		return channels[0], false, nil
	}
	c = &Channel{Name: DefaultChannelName}
	if err := s.CreateChannel(ctx, c); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// Screening defaults: what a channel's zero ScreeningSettings mean.
const (
	// DefaultAddressRate is how many captures an hour one client address
	// may send to one channel; the Rechat WordPress plugin allows 30.
	DefaultAddressRate = 30
	// DefaultChannelBurst and DefaultChannelRate bound a channel as a
	// whole, for a flood from many addresses: a burst of captures, then so
	// many a minute. A busy site gets a few leads an hour.
	DefaultChannelBurst = 1000
	DefaultChannelRate  = 100
	// DefaultMinFormTime is how long a form must be on screen for its
	// sending to look like a person's.
	DefaultMinFormTime = 2 * time.Second
)

// CAPTCHA providers whose tokens the server verifies.
const (
	CaptchaTurnstile = "turnstile"
	CaptchaHCaptcha  = "hcaptcha"
	CaptchaReCaptcha = "recaptcha"
)

// CaptchaProviders lists the CAPTCHA providers.
var CaptchaProviders = []string{CaptchaTurnstile, CaptchaHCaptcha, CaptchaReCaptcha}

// ScreeningSettings configure a channel's spam screening. Zero values mean
// the defaults, so screening is on for every channel.
type ScreeningSettings struct {
	// Off stores every capture as it comes, unscreened.
	Off bool `json:"off,omitempty"`
	// AddressRate is how many captures an hour one address may send; 0
	// means DefaultAddressRate. Loopback addresses are not limited: they
	// are the server's own machine, or a proxy not declared as trusted.
	AddressRate int `json:"address_rate,omitempty"`
	// ChannelBurst and ChannelRate (a minute) bound the whole channel; 0
	// means the defaults.
	ChannelBurst int `json:"channel_burst,omitempty"`
	ChannelRate  int `json:"channel_rate,omitempty"`
	// MinFormTime is the time trap; 0 means DefaultMinFormTime.
	MinFormTime time.Duration `json:"min_form_time,omitempty"`
	// Disabled names signals that do not count on this channel (the
	// Reason constants of package screen).
	Disabled []string `json:"disabled,omitempty"`
	// Captcha, when set, requires a token of that provider with every
	// capture, verified with CaptchaSecret at CaptchaVerifyURL (default:
	// the provider's public endpoint).
	Captcha          string `json:"captcha,omitempty"`
	CaptchaSecret    string `json:"captcha_secret,omitempty"`
	CaptchaVerifyURL string `json:"captcha_verify_url,omitempty"`
}

// Validate reports an EINVALID error for a negative limit, an unknown
// CAPTCHA provider, a CAPTCHA without its secret, or a verify URL that is
// not http(s).
func (s *ScreeningSettings) Validate() error {
	if s.AddressRate < 0 || s.ChannelBurst < 0 || s.ChannelRate < 0 || s.MinFormTime < 0 {
		return Errorf(EINVALID, "screening limits must not be negative")
	}
	if s.Captcha != "" && !slices.Contains(CaptchaProviders, s.Captcha) {
		return Errorf(EINVALID, "captcha %q is none of %s", s.Captcha, strings.Join(CaptchaProviders, ", "))
	}
	if s.Captcha != "" && s.CaptchaSecret == "" {
		return Errorf(EINVALID, "captcha %s needs its secret key", s.Captcha)
	}
	if v := s.CaptchaVerifyURL; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Errorf(EINVALID, "captcha verify URL %q is not an http(s) URL", v)
		}
	}
	return nil
}

// Enabled reports whether the signal named reason counts on the channel.
func (s *ScreeningSettings) Enabled(reason string) bool {
	return !s.Off && !slices.Contains(s.Disabled, reason)
}

// SettingsJSON returns the channel's allowed origins (an array, [] for
// none) and screening settings as the JSON the stores keep them in.
func (c *Channel) SettingsJSON() (origins, screening string, err error) {
	o, err := json.Marshal(c.AllowedOrigins)
	if err != nil {
		return "", "", err
	}
	if c.AllowedOrigins == nil {
		o = []byte("[]")
	}
	sc, err := json.Marshal(c.Screening)
	return string(o), string(sc), err
}

// Apply makes the changes of u to c and validates the result.
func (c *Channel) Apply(u ChannelUpdate) error {
	if u.AllowedOrigins != nil {
		c.AllowedOrigins = slices.Clone(*u.AllowedOrigins)
	}
	if u.Screening != nil {
		c.Screening = *u.Screening
		c.Screening.Disabled = slices.Clone(u.Screening.Disabled)
	}
	return c.Validate()
}
