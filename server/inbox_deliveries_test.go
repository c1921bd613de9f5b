package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
		`href="/inbox/leads/` + ownerLead + `"`, rs.URL + "/hook", "answered 400", "&lt;b&gt;refused&lt;/b&gt;", ">Send again</button>"} {
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
