package server_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	webhooks "github.com/leadwire/leadwire/deliver/webhook"
	"github.com/leadwire/leadwire/internal/testserver"
)

// receiver is a webhook receiver answering with the status it is set to.
func receiver(t *testing.T, status *atomic.Int32) *httptest.Server {
	t.Helper()
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(`<b>refused</b>`))
	}))
	t.Cleanup(rs.Close)
	return rs
}

// dispatch runs the real dispatcher with the webhook deliverer over the
// test server's store until the test ends.
func dispatch(t *testing.T, s *testserver.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := deliver.New(deliver.Config{Deliveries: s.Store, Leads: s.Store,
		Deliverers: map[string]deliver.Deliverer{leadwire.KindWebhook: &webhooks.Deliverer{}},
		Timeout:    5 * time.Second, Poll: 50 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitDelivery polls the store until the lead's only delivery has status.
func waitDelivery(t *testing.T, s *testserver.Server, leadID, status string) *leadwire.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := s.Store.FindDeliveries(context.Background(), leadwire.DeliveryFilter{LeadID: leadID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Status == status {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery of lead %s: %+v, want one %s", leadID, ds, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInboxDeliveries: a delivery refused for good is on the Deliveries
// page with its last answer escaped; "Send again" delivers it once the
// receiver accepts, only with the CSRF token; an agent sees only the
// deliveries of their leads, without the destination's address.
func TestInboxDeliveries(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	s.NewUser(t, leadwire.User{Email: "agent@example.com"})
	agentChannel := s.NewChannel(t, leadwire.Channel{Name: "Agent's"})
	if err := s.Store.AddChannelMember(ctx, agentChannel, "agent@example.com"); err != nil {
		t.Fatal(err)
	}
	var status atomic.Int32
	status.Store(400)
	rs := receiver(t, &status)
	dest := &leadwire.Destination{Kind: leadwire.KindWebhook, URL: rs.URL + "/hook"}
	if err := s.Store.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	dispatch(t, s)
	ownerLead := capture(t, s, s.ChannelID, `{"email":"zoe@example.com"}`)
	agentLead := capture(t, s, agentChannel, `{"email":"yan@example.com"}`)
	failed := waitDelivery(t, s, ownerLead, leadwire.DeliveryFailed)
	agentFailed := waitDelivery(t, s, agentLead, leadwire.DeliveryFailed)

	owner := newInboxClient(t, s)
	owner.signIn("owner@example.com", testserver.Password)
	p := owner.get("/inbox/deliveries")
	for _, want := range []string{`>Deliveries</a>`, `id="delivery-` + failed.ID + `"`, `id="delivery-` + agentFailed.ID + `"`,
		`href="/inbox/leads/` + ownerLead + `"`, rs.URL + "/hook", "answered 400", "&lt;b&gt;refused&lt;/b&gt;", ">Send again</button>", ">zoe@example.com</a>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Deliveries page lacks %s:\n%s", want, p.body)
		}
	}
	if p.status != 200 || strings.Contains(p.body, "<b>refused</b>") {
		t.Errorf("the Deliveries page: %d, the answer unescaped or missing", p.status)
	}
	if p := owner.get("/inbox/deliveries?status=delivered"); p.status != 200 || strings.Contains(p.body, "delivery-"+failed.ID) {
		t.Errorf("delivered deliveries list a failed one: %d", p.status)
	}
	if p := owner.get("/inbox/deliveries?status=lost"); p.status != 400 {
		t.Errorf("an unknown status: %d", p.status)
	}

	agent := newInboxClient(t, s)
	agent.signIn("agent@example.com", testserver.Password)
	p = agent.get("/inbox/deliveries")
	if p.status != 200 || !strings.Contains(p.body, "delivery-"+agentFailed.ID) || strings.Contains(p.body, "delivery-"+failed.ID) ||
		strings.Contains(p.body, rs.URL) {
		t.Errorf("the agent's Deliveries page: %d\n%s", p.status, p.body)
	}
	agentCSRF := agent.csrf("/inbox/deliveries")
	if p := agent.do("POST", "/inbox/deliveries/"+failed.ID+"/retry", url.Values{"csrf": {agentCSRF}}); p.status != 404 {
		t.Errorf("an agent sending again another's delivery: %d", p.status)
	}

	status.Store(200)
	retry := "/inbox/deliveries/" + failed.ID + "/retry"
	if p := owner.do("POST", retry, url.Values{}); p.status != 403 {
		t.Errorf("Send again without the CSRF token: %d", p.status)
	}
	if d := waitDelivery(t, s, ownerLead, leadwire.DeliveryFailed); d.Attempts != failed.Attempts {
		t.Errorf("a refused Send again attempted it: %+v", d)
	}
	p = owner.do("POST", retry, url.Values{"csrf": {owner.csrf("/inbox/deliveries")}, "status": {"failed"}})
	if p.status != 303 || p.header.Get("Location") != "/inbox/deliveries?status=failed" {
		t.Fatalf("Send again: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	waitDelivery(t, s, ownerLead, leadwire.DeliveryDelivered)
	if p := owner.get("/inbox/deliveries?status=delivered"); !strings.Contains(p.body, "delivery-"+failed.ID) || strings.Contains(p.body, ">Send again</button>") {
		t.Errorf("the delivered list:\n%s", p.body)
	}
}

var shownSecret = regexp.MustCompile(`<pre><code>(whsec_[^<]+)</code></pre>`)

// secretShown is the webhook secret a page shows, as a browser reads it.
func secretShown(body string) string {
	m := shownSecret.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestInboxDestinations: an owner adds, lists, rotates and removes
// destinations on the Channels page; a webhook's secret is shown once,
// on the answer that made it, and no secret or API key is ever listed;
// each form needs the CSRF token and an owner.
func TestInboxDestinations(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	s.NewUser(t, leadwire.User{Email: "agent@example.com"})
	ads := s.NewChannel(t, leadwire.Channel{Name: "Ad <campaign>"})
	c := newInboxClient(t, s)
	c.signIn("owner@example.com", testserver.Password)
	csrf := c.csrf("/inbox/channels")
	if p := c.get("/inbox/channels"); !strings.Contains(p.body, `id="destinations"`) || !strings.Contains(p.body, "No destinations yet") ||
		!strings.Contains(p.body, `<option value="`+ads+`">Ad &lt;campaign&gt;</option>`) {
		t.Fatalf("the Channels page without destinations:\n%s", p.body)
	}

	p := c.do("POST", "/inbox/destinations", url.Values{"csrf": {csrf}, "kind": {"webhook"}, "url": {"https://crm.example.com/hook"}})
	secret := secretShown(p.body)
	if p.status != 200 || secret == "" {
		t.Fatalf("adding a webhook: %d, no secret shown\n%s", p.status, p.body)
	}
	dests, err := s.Store.FindDestinations(ctx)
	if err != nil || len(dests) != 1 || dests[0].Secret != secret || dests[0].ChannelID != "" || dests[0].URL != "https://crm.example.com/hook" {
		t.Fatalf("the webhook stored: %+v, %v; shown %s", dests, err, secret)
	}
	hook := dests[0]
	p = c.do("POST", "/inbox/destinations", url.Values{"csrf": {csrf}, "kind": {"followupboss"}, "channel_id": {ads}, "secret": {"fub-key-123"}})
	if p.status != 303 || p.header.Get("Location") != "/inbox/channels#destinations" {
		t.Fatalf("adding Follow Up Boss: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	p = c.get("/inbox/channels")
	for _, want := range []string{`id="destination-` + hook.ID + `"`, "https://crm.example.com/hook", "all channels",
		leadwire.FollowUpBossEvents, "<td>Ad &lt;campaign&gt;</td>", "<td>set</td>", ">Rotate secret</button>", ">Remove</button>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the destinations lack %s", want)
		}
	}
	if shown := html.UnescapeString(p.body); strings.Contains(shown, hook.Secret) || strings.Contains(shown, "fub-key-123") || strings.Contains(p.body, "whsec_") {
		t.Errorf("the Channels page shows a secret:\n%s", p.body)
	}

	for _, bad := range []struct {
		form   url.Values
		status int
		want   string
	}{
		{url.Values{"kind": {"webhook"}, "url": {"ftp://crm.example.com/"}}, 400, "is not an http:// or https:// URL"},
		{url.Values{"kind": {"fax"}, "url": {"https://crm.example.com/"}}, 400, "is not one of"},
		{url.Values{"kind": {"followupboss"}}, 400, "needs its API key"},
		{url.Values{"kind": {"webhook"}, "url": {"https://crm.example.com/"}, "channel_id": {"nope"}}, 404, ""},
	} {
		bad.form.Set("csrf", csrf)
		if p := c.do("POST", "/inbox/destinations", bad.form); p.status != bad.status || !strings.Contains(p.body, bad.want) ||
			!strings.Contains(p.body, `id="destinations"`) {
			t.Errorf("adding %v: %d\n%s", bad.form, p.status, p.body)
		}
	}

	p = c.do("POST", "/inbox/destinations/"+hook.ID+"/rotate", url.Values{"csrf": {csrf}})
	secret = secretShown(p.body)
	if p.status != 200 || secret == "" || secret == hook.Secret {
		t.Fatalf("rotating: %d\n%s", p.status, p.body)
	}
	if d, err := s.Store.FindDestinationByID(ctx, hook.ID); err != nil || d.Secret != secret || d.PreviousSecret != hook.Secret {
		t.Errorf("after rotating: %+v, %v", d, err)
	}
	if p := c.do("POST", "/inbox/destinations/nope/rotate", url.Values{"csrf": {csrf}}); p.status != 404 {
		t.Errorf("rotating an unknown destination: %d", p.status)
	}

	if p := c.do("POST", "/inbox/destinations/"+hook.ID+"/remove", url.Values{}); p.status != 403 {
		t.Errorf("removing without the CSRF token: %d", p.status)
	}
	agent := newInboxClient(t, s)
	agent.signIn("agent@example.com", testserver.Password)
	agentCSRF := agent.csrf("/inbox/")
	for _, path := range []string{"/inbox/destinations", "/inbox/destinations/" + hook.ID + "/rotate", "/inbox/destinations/" + hook.ID + "/remove"} {
		if p := agent.do("POST", path, url.Values{"csrf": {agentCSRF}, "kind": {"webhook"}, "url": {"https://evil.example/"}}); p.status != 403 {
			t.Errorf("an agent posting to %s: %d", path, p.status)
		}
	}
	if p := c.do("POST", "/inbox/destinations/"+hook.ID+"/remove", url.Values{"csrf": {csrf}}); p.status != 303 {
		t.Fatalf("removing: %d\n%s", p.status, p.body)
	}
	if dests, err := s.Store.FindDestinations(ctx); err != nil || len(dests) != 1 || dests[0].Kind != leadwire.KindFollowUpBoss {
		t.Errorf("after removing the webhook: %+v, %v", dests, err)
	}
}
