package leadwire

import (
	"context"
	"net/url"
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
	return nil
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
