// Package mail alerts agents of a new lead by e-mail: the agents the lead
// is routed to (leadwire.DeliveryService.RouteLead) and the mail
// destination's notify list get the visitor's name, phone and email as
// links, the listing, the message and a link to the lead in the inbox. It
// sends through an SMTP server with STARTTLS and authentication, with
// github.com/wneessen/go-mail writing the MIME.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	gomail "github.com/wneessen/go-mail"
)

// TLS policies, as the --smtp-starttls flag names them.
const (
	TLSMandatory     = "mandatory"     // STARTTLS or no mail
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSNone          = "none"          // plain text: a server on the same machine
)

// Config is how to reach the SMTP server.
type Config struct {
	Host     string
	Port     int    // 587 when 0
	Username string // no authentication when ""
	Password string
	From     string // the alerts' sender address
	TLS      string // one of the TLS policies; TLSMandatory when ""
	// TLSConfig, when set, replaces the default TLS configuration (the
	// server's certificate checked against the system's roots for Host).
	TLSConfig *tls.Config
	// InboxURL is the inbox's base URL ("https://crm.example.com"); an
	// alert links to InboxURL + "/inbox/leads/" + the lead's id.
	InboxURL string
}

// Deliverer sends lead alerts. It keeps up to deliver.DefaultPerDestination
// connections to the SMTP server open between alerts: a new connection
// costs a TLS handshake and six more round trips.
type Deliverer struct {
	Config Config
	Router interface {
		RouteLead(ctx context.Context, lead *leadwire.Lead, key string) ([]*leadwire.User, error)
	}

	idleOnce sync.Once
	idle     chan *gomail.Client // connected, waiting for the next alert
}

// Deliver routes j's lead and mails its alert.
func (d *Deliverer) Deliver(ctx context.Context, j *deliver.Job) deliver.Result {
	agents, err := d.Router.RouteLead(ctx, j.Lead, "route:"+j.Delivery.ID)
	if err != nil {
		return deliver.Result{Err: fmt.Errorf("routing the lead: %w", err), Permanent: leadwire.ErrorCode(err) == leadwire.ENOTFOUND}
	}
	notify, err := j.Destination.NotifyList()
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	var to []string
	seen := map[string]bool{}
	for _, a := range append(emails(agents), notify...) {
		if k := leadwire.EmailKey(a); !seen[k] {
			seen[k] = true
			to = append(to, a)
		}
	}
	if len(to) == 0 {
		return deliver.Result{Err: errors.New("nobody to alert: no agent takes the lead's channel and the destination has no notify list"), Permanent: true}
	}
	msg, err := d.message(j, to)
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	if err := d.send(ctx, msg); err != nil {
		var sendErr *gomail.SendError
		return deliver.Result{Err: err, Permanent: errors.As(err, &sendErr) && !sendErr.IsTemp() && sendErr.ErrorCode() >= 500}
	}
	return deliver.Result{}
}

// send sends msg over an open connection, or a new one when none is open
// or the open one fails (the server may have closed it while idle).
func (d *Deliverer) send(ctx context.Context, msg *gomail.Msg) error {
	d.idleOnce.Do(func() { d.idle = make(chan *gomail.Client, deliver.DefaultPerDestination) })
	select {
	case c := <-d.idle:
		if err := c.Send(msg); err == nil {
			d.keep(c)
			return nil
		}
		c.Close()
	default:
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	if err := c.Send(msg); err != nil {
		c.Close()
		return err
	}
	d.keep(c)
	return nil
}

// keep keeps c open for the next alert, or closes it when enough are.
func (d *Deliverer) keep(c *gomail.Client) {
	select {
	case d.idle <- c:
	default:
		c.Close()
	}
}

func emails(users []*leadwire.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Email
	}
	return out
}

func (d *Deliverer) client() (*gomail.Client, error) {
	c := d.Config
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(30 * time.Second)}
	if c.Port == 0 {
		opts[0] = gomail.WithPort(587)
	}
	switch c.TLS {
	case "", TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("SMTP TLS policy %q is not one of %s, %s, %s", c.TLS, TLSMandatory, TLSOpportunistic, TLSNone)
	}
	if c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.TLSConfig))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return gomail.NewClient(c.Host, opts...)
}

// alert is what an alert shows.
type alert struct {
	Name, Email, Phone, Source string
	Message, Note              string
	ListingURL, ListingLine    string
	Price                      string
	LeadURL                    string
}

func newAlert(l *leadwire.Lead, inboxURL string) alert {
	p := &l.Payload
	a := alert{
		Name:  oneLine(strings.TrimSpace(p.FirstName + " " + p.LastName)),
		Email: p.Email, Phone: p.PhoneNumber, Source: p.LeadSource,
		Message: p.Message(), Note: p.Note,
		LeadURL: strings.TrimSuffix(inboxURL, "/") + "/inbox/leads/" + l.ID,
	}
	if a.Source == "" {
		a.Source = p.SourceType
	}
	if a.Name == "" {
		a.Name = oneLine(p.Email + " " + p.PhoneNumber)
	}
	if li := p.Listing; li != nil {
		a.ListingURL = li.URL
		if s, ok := li.Property["street_address"].(string); ok {
			a.ListingLine = s
		} else if s, ok := li.Property["address"].(string); ok {
			a.ListingLine = s
		}
		if li.Price > 0 {
			a.Price = fmt.Sprintf("$%.0f", li.Price)
		}
		if li.MLSNumber != "" {
			a.ListingLine = strings.TrimSpace(a.ListingLine + " (MLS " + li.MLSNumber + ")")
		}
	}
	return a
}

// oneLine joins the words of s with single spaces: no header of a
// visitor's making.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var htmlAlert = htmltemplate.Must(htmltemplate.New("alert").Parse(`<!doctype html>
<html><body style="font-family:sans-serif">
<h2>New lead: {{.Name}}</h2>
<p>
{{if .Phone}}Phone: <a href="tel:{{.Phone}}">{{.Phone}}</a><br>{{end}}
{{if .Email}}Email: <a href="mailto:{{.Email}}">{{.Email}}</a><br>{{end}}
Source: {{.Source}}
</p>
{{if or .ListingURL .ListingLine}}<p>Listing: {{if .ListingURL}}<a href="{{.ListingURL}}">{{or .ListingLine .ListingURL}}</a>{{else}}{{.ListingLine}}{{end}}{{if .Price}} — {{.Price}}{{end}}</p>{{end}}
{{if .Message}}<p>Message:</p><blockquote>{{.Message}}</blockquote>{{end}}
{{if .Note}}<p>Note:</p><blockquote>{{.Note}}</blockquote>{{end}}
<p><a href="{{.LeadURL}}">Open the lead in the inbox</a></p>
</body></html>
`))

var textAlert = texttemplate.Must(texttemplate.New("alert").Parse(`New lead: {{.Name}}
{{if .Phone}}
Phone: {{.Phone}}{{end}}{{if .Email}}
Email: {{.Email}}{{end}}
Source: {{.Source}}
{{if or .ListingURL .ListingLine}}
Listing: {{.ListingLine}} {{.ListingURL}} {{.Price}}
{{end}}{{if .Message}}
Message:
{{.Message}}
{{end}}{{if .Note}}
Note:
{{.Note}}
{{end}}
Open the lead: {{.LeadURL}}
`))

// message builds the alert of j for to. Its Message-ID is the delivery's
// id, the same on every attempt.
func (d *Deliverer) message(j *deliver.Job, to []string) (*gomail.Msg, error) {
	a := newAlert(j.Lead, d.Config.InboxURL)
	m := gomail.NewMsg()
	if err := m.From(d.Config.From); err != nil {
		return nil, fmt.Errorf("the sender %q: %w", d.Config.From, err)
	}
	if err := m.To(to...); err != nil {
		return nil, err
	}
	m.Subject("New lead: " + a.Name)
	m.SetMessageIDWithValue(j.Delivery.ID + "@leadwire")
	m.SetDate()
	var text, html bytes.Buffer
	if err := textAlert.Execute(&text, a); err != nil {
		return nil, err
	}
	if err := htmlAlert.Execute(&html, a); err != nil {
		return nil, err
	}
	m.SetBodyString(gomail.TypeTextPlain, text.String())
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return m, nil
}
