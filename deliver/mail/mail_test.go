package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/mail"
	"github.com/leadwire/leadwire/internal/delivertest"
	"github.com/leadwire/leadwire/internal/testserver"
)

// mailbox is an SMTP server on loopback, speaking STARTTLS and AUTH PLAIN
// as a provider's submission port does, that keeps what it accepts.
type mailbox struct {
	addr      string
	tlsConfig *tls.Config // for the client: trusts the server's certificate

	mu   sync.Mutex
	got  []received
	more chan struct{}
}

type received struct {
	from string
	to   []string
	tls  bool
	msg  *netmail.Message
	at   time.Time
}

const (
	smtpUser     = "alerts@brokerage.example"
	smtpPassword = "smtp password"
)

func newMailbox(t *testing.T) *mailbox {
	cert, pool := selfSigned(t)
	m := &mailbox{more: make(chan struct{}, 1), tlsConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	s := smtp.NewServer(backend{m})
	s.Domain = "127.0.0.1"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m
}

func (m *mailbox) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		m.mu.Lock()
		got := append([]received(nil), m.got...)
		m.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-m.more:
		case <-deadline:
			t.Fatalf("the SMTP server accepted %d messages, want %d", len(got), n)
		}
	}
}

type backend struct{ m *mailbox }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{m: b.m, conn: c}, nil
}

type session struct {
	m      *mailbox
	conn   *smtp.Conn
	authed bool
	r      received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != smtpUser || pass != smtpPassword {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.r.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.to = append(s.r.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(msg.Body)
	msg.Body = strings.NewReader(string(body))
	_, s.r.tls = s.conn.TLSConnectionState()
	s.r.msg, s.r.at = msg, time.Now()
	s.m.mu.Lock()
	s.m.got = append(s.m.got, s.r)
	s.m.mu.Unlock()
	select {
	case s.m.more <- struct{}{}:
	default:
	}
	return nil
}
func (s *session) Reset()        { s.r = received{} }
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// parts returns the text and HTML parts of a message.
func parts(t *testing.T, msg *netmail.Message) (text, html string) {
	t.Helper()
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable decoded by the reader
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func start(t *testing.T, box *mailbox, password string) *testserver.Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(box.addr)
	var portN int
	for _, c := range port {
		portN = portN*10 + int(c-'0')
	}
	var s *testserver.Server
	router := &storeRouter{}
	s = delivertest.Start(t, map[string]deliver.Deliverer{leadwire.KindMail: &mail.Deliverer{
		Config: mail.Config{Host: host, Port: portN, Username: smtpUser, Password: password, From: "leads@brokerage.example",
			TLS: mail.TLSMandatory, TLSConfig: box.tlsConfig, InboxURL: "https://crm.brokerage.example/"},
		Router: router,
	}})
	router.s = s
	return s
}

// storeRouter routes with the test server's store, known once it runs.
type storeRouter struct{ s *testserver.Server }

func (r *storeRouter) RouteLead(ctx context.Context, lead *leadwire.Lead, key string) ([]*leadwire.User, error) {
	return r.s.Store.RouteLead(ctx, lead, key)
}

func TestAlertsTheAgentsInTurnOverSTARTTLS(t *testing.T) {
	box := newMailbox(t)
	s := start(t, box, smtpPassword)
	ctx := context.Background()
	var agents []*leadwire.User
	for _, email := range []string{"ann@brokerage.example", "bob@brokerage.example"} {
		u, _ := s.NewUser(t, leadwire.User{Email: email, Name: strings.Split(email, "@")[0]})
		if err := s.Store.AddChannelMember(ctx, s.ChannelID, email); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, u)
	}
	first, second := agents[0], agents[1]
	if second.ID < first.ID {
		first, second = second, first
	}
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindMail, URL: "mailto:desk@brokerage.example"})
	s.Unscreened(t, s.ChannelID) // HTML in a name would be quarantined as spam, and alert nobody

	doc := delivertest.Capture(t, s, s.ChannelID, `{"first_name":"<b>Eve</b>","last_name":"O'Hara","email":"eve@example.com",`+
		`"phone_number":"(214) 555-0101","message":"Is the <script>alert(1)</script> pool heated?",`+
		`"listing":{"url":"https://example.com/l/1","mls_number":"NT-1","price":450000,"property":{"street_address":"1 Elm St"}}}`)
	id := delivertest.LeadID(t, doc)
	got := box.wait(t, 1)[0]
	if !got.tls {
		t.Error("the alert was sent without STARTTLS")
	}
	if want := []string{first.Email, "desk@brokerage.example"}; strings.Join(got.to, ",") != strings.Join(want, ",") {
		t.Errorf("sent to %v, want %v", got.to, want)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(got.msg.Header.Get("Subject")); subject != "New lead: <b>Eve</b> O'Hara" {
		t.Errorf("subject %q", subject)
	}
	text, html := parts(t, got.msg)
	for _, want := range []string{
		`&lt;b&gt;Eve&lt;/b&gt; O&#39;Hara`,
		`<a href="tel:&#43;12145550101">&#43;12145550101</a>`,
		`<a href="mailto:eve@example.com">eve@example.com</a>`,
		`<a href="https://example.com/l/1">1 Elm St (MLS NT-1)</a> — $450000`,
		`Is the &lt;script&gt;alert(1)&lt;/script&gt; pool heated?`,
		`<a href="https://crm.brokerage.example/inbox/leads/` + id + `">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML part lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>Eve") {
		t.Errorf("the HTML part holds the visitor's markup:\n%s", html)
	}
	if !strings.Contains(text, "Phone: +12145550101") || !strings.Contains(text, "https://crm.brokerage.example/inbox/leads/"+id) {
		t.Errorf("text part:\n%s", text)
	}
	// The routing is on the lead's timeline.
	leads, err := s.Store.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if l := leads[0]; len(l.Payload.Assignees) != 1 || l.Payload.Assignees[0].Email != first.Email ||
		len(l.Timeline) != 1 || l.Timeline[0].Action != leadwire.ActionAssigneesChanged {
		t.Errorf("lead after routing: assignees %+v, timeline %+v", l.Payload.Assignees, l.Timeline)
	}

	// The next lead goes to the other agent; once they paused, back to the
	// first; a lead assigned by name reaches the paused agent.
	delivertest.Capture(t, s, s.ChannelID, `{"email":"second@example.com"}`)
	if got := box.wait(t, 2)[1]; got.to[0] != second.Email {
		t.Errorf("second lead to %v, want %s", got.to, second.Email)
	}
	if err := s.Store.PauseUser(ctx, second.Email, true); err != nil {
		t.Fatal(err)
	}
	delivertest.Capture(t, s, s.ChannelID, `{"email":"third@example.com"}`)
	if got := box.wait(t, 3)[2]; got.to[0] != first.Email {
		t.Errorf("third lead to %v while %s paused, want %s", got.to, second.Email, first.Email)
	}
	delivertest.Capture(t, s, s.ChannelID, `{"email":"fourth@example.com","assignees":[{"email":"`+strings.ToUpper(second.Email)+`"}]}`)
	if got := box.wait(t, 4)[3]; got.to[0] != second.Email {
		t.Errorf("a lead assigned to %s went to %v", second.Email, got.to)
	}
	if err := s.Store.PauseUser(ctx, "nobody@example.com", true); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("pausing an unknown user: %v", err)
	}
	ctxAgent := leadwire.NewContextWithUser(ctx, first)
	if err := s.Store.PauseUser(ctxAgent, second.Email, false); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent resuming another: %v", err)
	}
}

// TestWrongPasswordIsRetried: the server's configuration is at fault, not
// the lead, so the alert waits for it to be fixed.
func TestWrongPasswordIsRetried(t *testing.T) {
	box := newMailbox(t)
	s := start(t, box, "wrong password")
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindMail, URL: "mailto:desk@brokerage.example"})
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"a@example.com"}`))
	time.Sleep(200 * time.Millisecond)
	ds, err := s.Store.FindDeliveries(context.Background(), leadwire.DeliveryFilter{LeadID: id})
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[0]; d.Status != leadwire.DeliveryPending || d.Attempts == 0 || !strings.Contains(d.LastError, "invalid credentials") {
		t.Errorf("delivery %+v, want pending after attempts refused for the credentials", d)
	}
}

func TestNobodyToAlertFails(t *testing.T) {
	box := newMailbox(t)
	s := start(t, box, smtpPassword)
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindMail})
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"a@example.com"}`))
	if d := delivertest.DeliveryOf(t, s, id); d.Status != leadwire.DeliveryFailed || !strings.Contains(d.LastError, "nobody to alert") {
		t.Errorf("delivery %+v", d)
	}
}
