package leadwire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

func TestDestinationValidate(t *testing.T) {
	for _, c := range []struct {
		d    leadwire.Destination
		want string // "" for valid
	}{
		{leadwire.Destination{Kind: "webhook", URL: " https://example.com/hook "}, ""},
		{leadwire.Destination{Kind: "rechat", URL: "https://api.rechat.com/leads/channels/x/webhook"}, ""},
		{leadwire.Destination{Kind: "followupboss", Secret: "key"}, ""},
		{leadwire.Destination{Kind: "mail"}, ""},
		{leadwire.Destination{Kind: "mail", URL: "mailto:desk@example.com, Ann <ann@example.com>"}, ""},
		{leadwire.Destination{Kind: "sms"}, `kind "sms" is not one of`},
		{leadwire.Destination{Kind: "webhook", URL: "ftp://example.com"}, "is not an http:// or https:// URL"},
		{leadwire.Destination{Kind: "webhook", URL: "https://"}, "is not an http:// or https:// URL"},
		{leadwire.Destination{Kind: "followupboss"}, "needs its API key"},
		{leadwire.Destination{Kind: "mail", URL: "https://example.com"}, "is not mailto:"},
		{leadwire.Destination{Kind: "mail", URL: "mailto:not an address"}, "of a mail destination"},
	} {
		err := c.d.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.d, err)
		case c.want != "" && (leadwire.ErrorCode(err) != leadwire.EINVALID || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want an EINVALID saying %q", c.d, err, c.want)
		}
	}
	d := leadwire.Destination{Kind: "webhook", URL: "https://example.com"}
	if err := d.Validate(); err != nil || !strings.HasPrefix(d.Secret, "whsec_") || len(d.Secret) != len("whsec_")+44 {
		t.Errorf("a new webhook's secret: %q, %v", d.Secret, err)
	}
	m := leadwire.Destination{Kind: "mail", URL: "mailto:desk@example.com,Ann <ann@example.com>"}
	if list, err := m.NotifyList(); err != nil || strings.Join(list, " ") != "desk@example.com ann@example.com" {
		t.Errorf("notify list %v, %v", list, err)
	}
}

func TestSecretsDuringRotation(t *testing.T) {
	now := time.Now()
	d := leadwire.Destination{Secret: "new", PreviousSecret: "old", PreviousSecretUntil: now.Add(time.Hour)}
	if got := strings.Join(d.Secrets(now), " "); got != "new old" {
		t.Errorf("during the grace: %s", got)
	}
	if got := strings.Join(d.Secrets(now.Add(2*time.Hour)), " "); got != "new" {
		t.Errorf("after the grace: %s", got)
	}
}

func FuzzNotifyList(f *testing.F) {
	for _, s := range []string{"", "mailto:a@example.com", "mailto:a@example.com,b@example.com", "mailto:\"A, B\" <a@example.com>",
		"mailto:", "https://x", "mailto:<>", "mailto:a@example.com,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		d := leadwire.Destination{Kind: leadwire.KindMail, URL: url}
		list, err := d.NotifyList()
		if err != nil && leadwire.ErrorCode(err) != leadwire.EINVALID {
			t.Errorf("%q: %v is not EINVALID", url, err)
		}
		for _, a := range list {
			if !strings.Contains(a, "@") || strings.ContainsAny(a, "\r\n") {
				t.Errorf("%q gave the address %q", url, a)
			}
		}
	})
}
