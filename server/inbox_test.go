package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/server"
)

// inboxClient is a browser without JavaScript: it keeps cookies, does not
// follow redirects, and sends what a browser sends with a form post from
// the server's own page.
type inboxClient struct {
	t    testing.TB
	s    *testserver.Server
	http *http.Client
}

func newInboxClient(t testing.TB, s *testserver.Server) *inboxClient {
	jar, _ := cookiejar.New(nil)
	return &inboxClient{t: t, s: s, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an HTML answer.
type pageAnswer struct {
	status int
	header http.Header
	body   string
}

func (c *inboxClient) do(method, path string, form url.Values, header ...string) pageAnswer {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.s.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.s.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return pageAnswer{res.StatusCode, res.Header, string(b)}
}

func (c *inboxClient) get(path string) pageAnswer { c.t.Helper(); return c.do("GET", path, nil) }

func (c *inboxClient) signIn(email, password string) pageAnswer {
	c.t.Helper()
	return c.do("POST", "/inbox/signin", url.Values{"email": {email}, "password": {password}, "next": {"/inbox/"}})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token the forms of a page carry.
func (c *inboxClient) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, p.status, p.body)
	}
	return m[1]
}

// capture posts a lead to the webhook of channel and returns its id.
func capture(t *testing.T, s *testserver.Server, channel, body string) string {
	t.Helper()
	a := do(t, "POST", webhook(s, channel), "application/json", body)
	if a.status != 200 {
		t.Fatalf("capture: %d %v", a.status, a.body)
	}
	return str(a.data()["id"])
}

// TestInboxSignIn: pages send a stranger to the sign-in form; a wrong
// password and an unknown email get the same answer; signing in sets the
// session cookie with its flags and goes on to the page asked for;
// signing out ends the session.
func TestInboxSignIn(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	c := newInboxClient(t, s)

	p := c.get("/inbox/?status=new")
	if p.status != 303 || p.header.Get("Location") != "/inbox/signin?next="+url.QueryEscape("/inbox/?status=new") {
		t.Fatalf("GET /inbox/ signed out: %d %s", p.status, p.header.Get("Location"))
	}
	form := c.get("/inbox/signin")
	for _, want := range []string{`<label for="email">Email</label>`, `<label for="password">Password</label>`, `>Sign in</button>`} {
		if !strings.Contains(form.body, want) {
			t.Errorf("the sign-in page lacks %s", want)
		}
	}
	wrong := c.signIn("ann@example.com", "wrong password")
	unknown := c.signIn("nobody@example.com", testserver.Password)
	for _, a := range []pageAnswer{wrong, unknown} {
		if a.status != 401 || !strings.Contains(a.body, "The email or the password is wrong.") {
			t.Errorf("a failed sign-in: %d\n%s", a.status, a.body)
		}
	}
	if strip := func(s string) string { return strings.ReplaceAll(s, "nobody@example.com", "ann@example.com") }; strip(unknown.body) != wrong.body {
		t.Errorf("an unknown email and a wrong password are told apart:\n%s\n%s", wrong.body, unknown.body)
	}

	p = c.do("POST", "/inbox/signin", url.Values{"email": {"ann@example.com"}, "password": {testserver.Password}, "next": {"/inbox/?status=new"}})
	if p.status != 303 || p.header.Get("Location") != "/inbox/?status=new" {
		t.Fatalf("sign in: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	cookie := (&http.Response{Header: p.header}).Cookies()[0]
	if cookie.Name != "leadwire_session" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Errorf("session cookie %+v, want HttpOnly, SameSite=Lax, not Secure over plain HTTP", cookie)
	}
	if p := c.get("/inbox/"); p.status != 200 || !strings.Contains(p.body, ">Sign out</button>") {
		t.Fatalf("the Leads page after signing in: %d\n%s", p.status, p.body)
	}
	// Another site cannot sign the browser in to an account of its own.
	if p := c.do("POST", "/inbox/signin", url.Values{"email": {"ann@example.com"}, "password": {testserver.Password}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); p.status != 403 {
		t.Errorf("a cross-site sign-in: %d", p.status)
	}
	// A next page elsewhere is not followed.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/inbox//evil.example"} {
		p := c.do("POST", "/inbox/signin", url.Values{"email": {"ann@example.com"}, "password": {testserver.Password}, "next": {next}})
		if p.header.Get("Location") != "/inbox/" {
			t.Errorf("next %q: sent to %q", next, p.header.Get("Location"))
		}
	}

	csrf := c.csrf("/inbox/")
	base, _ := url.Parse(s.URL)
	cookie = c.http.Jar.Cookies(base)[0]
	if p := c.do("POST", "/inbox/signout", url.Values{}); p.status != 403 {
		t.Errorf("sign out without the CSRF token: %d", p.status)
	}
	if p := c.do("POST", "/inbox/signout", url.Values{"csrf": {csrf}}); p.status != 303 || p.header.Get("Location") != "/inbox/signin" {
		t.Fatalf("sign out: %d %s", p.status, p.header.Get("Location"))
	}
	// The session is over on the server, not only in this browser.
	if a := do(t, "GET", s.URL+"/api/me", "", "", "Cookie", "leadwire_session="+cookie.Value); a.status != 401 {
		t.Errorf("the session after signing out: %d", a.status)
	}
	if p := c.get("/inbox/"); p.status != 303 {
		t.Errorf("the Leads page after signing out: %d", p.status)
	}
}

// TestInboxSecureCookie: the session cookie is Secure when the server is
// told it sits behind a proxy that terminates TLS.
func TestInboxSecureCookie(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) { c.SecureCookies = true })
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	p := newInboxClient(t, s).signIn("ann@example.com", testserver.Password)
	if cs := (&http.Response{Header: p.header}).Cookies(); p.status != 303 || len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("sign in with SecureCookies: %d %+v", p.status, cs)
	}
}

// TestInboxWorksALead: the lead's page shows what was captured, and its
// forms change the status (the response time appears), the assignees
// and add a note, each only with the session's CSRF token and from the
// server's own pages.
func TestInboxWorksALead(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	c := newInboxClient(t, s)
	c.signIn("owner@example.com", testserver.Password)
	id := capture(t, s, s.ChannelID, `{"first_name":"Rosa","last_name":"Diaz","email":"rosa@example.com","phone_number":"(214) 555-0101",
		"lead_source":"Zillow","ad_campaign_id":"ad-77","referer_url":"https://homes.example/listing/9",
		"listing":{"mls_number":"MLS-4411","price":1250000,"cover_image_url":"https://img.example/9.jpg","property":{"address":"12 Elm St","beds":3}},
		"message":"Is it still available?"}`)
	lead := "/inbox/leads/" + id

	p := c.get(lead)
	for _, want := range []string{"Rosa Diaz", `href="tel:&#43;12145550101"`, `href="mailto:rosa@example.com"`, "$1,250,000", "MLS-4411",
		"12 Elm St", `<img src="https://img.example/9.jpg"`, "ad-77", "https://homes.example/listing/9", "Is it still available?",
		"<details", `<label for="status">Status</label>`, `<label for="assign">Assign</label>`, `<label for="note">Note</label>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the lead's page lacks %s", want)
		}
	}
	if strings.Contains(p.body, "response time") {
		t.Error("a new lead shows a response time")
	}
	csrf := c.csrf(lead)
	if p := c.do("POST", lead+"/status", url.Values{"status": {"contacted"}}); p.status != 403 {
		t.Errorf("a status change without the CSRF token: %d", p.status)
	}
	if p := c.do("POST", lead+"/status", url.Values{"status": {"contacted"}, "csrf": {csrf}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); p.status != 403 {
		t.Errorf("a status change from another site: %d", p.status)
	}
	if got, _ := s.Store.FindLeadByID(context.Background(), id); got.Status != leadwire.StatusNew {
		t.Fatalf("a refused change changed the status to %s", got.Status)
	}
	for _, f := range []url.Values{
		{"status": {"contacted"}},
		{"assignees": {"ann@example.com, bob@example.com"}},
		{"note": {"Called, left a message"}},
	} {
		f.Set("csrf", csrf)
		action := map[bool]string{true: "/status"}[f.Has("status")]
		if f.Has("assignees") {
			action = "/assignees"
		} else if f.Has("note") {
			action = "/notes"
		}
		if p := c.do("POST", lead+action, f); p.status != 303 || p.header.Get("Location") != lead {
			t.Fatalf("POST %s: %d %s\n%s", action, p.status, p.header.Get("Location"), p.body)
		}
	}
	p = c.get(lead)
	for _, want := range []string{"response time", "ann@example.com, bob@example.com", "Called, left a message", "by owner@example.com", "Status changed"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after working it, the lead's page lacks %s", want)
		}
	}
	// A lead marked as spam is listed in the Spam view, and "Not spam"
	// sets it back to new.
	if p := c.do("POST", lead+"/status", url.Values{"status": {"spam"}, "csrf": {csrf}}); p.status != 303 {
		t.Fatalf("mark as spam: %d", p.status)
	}
	if p := c.get("/inbox/?status=spam"); !strings.Contains(p.body, id) || !strings.Contains(p.body, "<h1>Spam</h1>") {
		t.Errorf("the Spam view lacks the lead:\n%s", p.body)
	}
	if p := c.get(lead); !strings.Contains(p.body, ">Not spam</button>") {
		t.Error("a spam lead's page has no Not spam button")
	}
	if p := c.do("POST", lead+"/status", url.Values{"status": {"new"}, "csrf": {csrf}}); p.status != 303 {
		t.Fatalf("not spam: %d", p.status)
	}
	if p := c.get("/inbox/?status=spam"); strings.Contains(p.body, id) {
		t.Error("a lead marked not spam stays in the Spam view")
	}
	if p := c.do("POST", lead+"/status", url.Values{"status": {"lost"}, "csrf": {csrf}}); p.status != 400 || !strings.Contains(p.body, `role="alert"`) {
		t.Errorf("an unknown status: %d", p.status)
	}
	if p := c.do("POST", lead+"/assignees", url.Values{"assignees": {"not an email"}, "csrf": {csrf}}); p.status != 400 {
		t.Errorf("an assignee that is no email: %d", p.status)
	}
}

// TestInboxEscapesWhatVisitorsSent: a lead named with HTML shows as
// text, in the Spam view and on its page, under a strict
// Content-Security-Policy.
func TestInboxEscapesWhatVisitorsSent(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	c := newInboxClient(t, s)
	c.signIn("owner@example.com", testserver.Password)
	xss := `<img src=x onerror=alert(1)>`
	id := capture(t, s, s.ChannelID, `{"first_name":"`+xss+`","message":"</script><script>alert(2)</script>",
		"referer_url":"javascript:alert(3)","listing":{"cover_image_url":"javascript:alert(4)"}}`)
	// HTML in a name is quarantined: the lead is in the Spam view.
	for _, path := range []string{"/inbox/?status=spam", "/inbox/leads/" + id} {
		p := c.get(path)
		if !strings.Contains(p.body, "&lt;img src=x onerror=alert(1)&gt;") || strings.Contains(p.body, xss) ||
			strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, `href="javascript:`) || strings.Contains(p.body, `src="javascript:`) {
			t.Errorf("%s does not escape what the visitor sent:\n%s", path, p.body)
		}
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || regexp.MustCompile(`<[a-z]+[^>]*\son[a-z]+=`).MatchString(p.body) {
			t.Errorf("%s has inline script or style", path)
		}
	}
}

// TestInboxAgentSeesTheirLeads: an agent's list, lead pages and live
// stream hold only the leads the API lets them see.
func TestInboxAgentSeesTheirLeads(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	s.NewUser(t, leadwire.User{Email: "bob@example.com"})
	ann := newInboxClient(t, s)
	ann.signIn("ann@example.com", testserver.Password)
	mine := capture(t, s, s.ChannelID, `{"first_name":"Mine","assignees":[{"email":"ann@example.com"}]}`)
	theirs := capture(t, s, s.ChannelID, `{"first_name":"Theirs","assignees":[{"email":"bob@example.com"}]}`)

	p := ann.get("/inbox/")
	if !strings.Contains(p.body, mine) || strings.Contains(p.body, theirs) {
		t.Errorf("ann's list:\n%s", p.body)
	}
	if p := ann.get("/inbox/leads/" + theirs); p.status != 404 || strings.Contains(p.body, "Theirs") {
		t.Errorf("ann opens bob's lead: %d", p.status)
	}
	csrf := ann.csrf("/inbox/leads/" + mine)
	if p := ann.do("POST", "/inbox/leads/"+theirs+"/status", url.Values{"status": {"closed"}, "csrf": {csrf}}); p.status != 404 {
		t.Errorf("ann changes bob's lead: %d", p.status)
	}
	if p := ann.do("POST", "/inbox/leads/"+theirs+"/assignees", url.Values{"assignees": {"ann@example.com"}, "csrf": {csrf}}); p.status != 404 {
		t.Errorf("ann takes bob's lead: %d", p.status)
	}

	events := ann.events(t, "/inbox/events?since="+strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10))
	capture(t, s, s.ChannelID, `{"first_name":"Bob's new one","assignees":[{"email":"bob@example.com"}]}`)
	newMine := capture(t, s, s.ChannelID, `{"first_name":"Ann's new one","assignees":[{"email":"ann@example.com"}]}`)
	got := events.until(newMine, 3*time.Second)
	if strings.Contains(got, "Bob&#39;s new one") || strings.Contains(got, "Bob's new one") || strings.Contains(got, theirs) {
		t.Errorf("ann's stream sent bob's leads:\n%s", got)
	}
}

// eventStream reads a Server-Sent Events stream.
type eventStream struct {
	t     *testing.T
	lines chan string
}

func (c *inboxClient) events(t *testing.T, path string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", c.s.URL+path, nil)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	e := &eventStream{t: t, lines: make(chan string, 1000)}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
		close(e.lines)
	}()
	return e
}

// until returns what the stream sent up to the event of lead id, failing
// the test when it does not come within d.
func (e *eventStream) until(id string, d time.Duration) string {
	e.t.Helper()
	var b strings.Builder
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-e.lines:
			if !ok {
				e.t.Fatalf("the stream ended before lead %s:\n%s", id, b.String())
			}
			b.WriteString(line + "\n")
			if line == "id: "+id {
				return b.String()
			}
		case <-timeout:
			e.t.Fatalf("no event for lead %s within %s:\n%s", id, d, b.String())
		}
	}
}

// TestInboxDashboard: the dashboard charts the leads per day per channel
// and the response times per agent as SVG drawn on the server, and counts
// the leads still new an hour after their capture, of the leads the user
// may see.
func TestInboxDashboard(t *testing.T) {
	s := testserver.Start(t)
	var offset atomic.Int64 // how far the store's clock is behind
	s.Store.Now = func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	s.NewUser(t, leadwire.User{Email: "bob@example.com"})
	feed := s.NewChannel(t, leadwire.Channel{Name: "Zillow feed"})

	offset.Store(int64(2 * time.Hour))
	answered := capture(t, s, s.ChannelID, `{"first_name":"Answered","assignees":[{"email":"ann@example.com"}]}`)
	capture(t, s, feed, `{"first_name":"Waiting"}`)
	capture(t, s, s.ChannelID, `{"first_name":"Waiting too"}`)
	offset.Store(int64(2*time.Hour - 5*time.Minute))
	contacted := leadwire.StatusContacted
	if _, err := s.Store.UpdateLead(context.Background(), answered, leadwire.LeadUpdate{Status: &contacted}); err != nil {
		t.Fatal(err)
	}
	offset.Store(0)
	capture(t, s, feed, `{"first_name":"Just arrived"}`)

	owner := newInboxClient(t, s)
	owner.signIn("owner@example.com", testserver.Password)
	p := owner.get("/inbox/dashboard")
	if p.status != 200 {
		t.Fatalf("GET /inbox/dashboard: %d\n%s", p.status, p.body)
	}
	// Each day's bar says how many leads of a channel it holds.
	today, earlier := time.Now().UTC().Format("Jan 2"), time.Now().Add(-2*time.Hour).UTC().Format("Jan 2")
	bars := []string{today + ": 2 from Zillow feed", today + ": 2 from Website"}
	if earlier != today {
		bars = []string{earlier + ": 1 from Zillow feed", earlier + ": 2 from Website", today + ": 1 from Zillow feed"}
	}
	for _, want := range append(bars, `<strong id="stale">2</strong>`, "<svg", "4 leads",
		"<td>ann@example.com</td><td>1</td><td>5 min</td><td>5 min</td>", "ann@example.com: median 5 min over 1 leads") {
		if !strings.Contains(p.body, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	bob := newInboxClient(t, s)
	bob.signIn("bob@example.com", testserver.Password)
	if p := bob.get("/inbox/dashboard"); p.status != 200 || !strings.Contains(p.body, `<strong id="stale">0</strong>`) || !strings.Contains(p.body, "0 leads") {
		t.Errorf("an agent with no leads sees the others' on the dashboard: %d\n%s", p.status, p.body)
	}
}

// TestInboxChannels: an owner creates a channel with its allowed origins
// and members and gets its snippets; its members then see its leads; an
// agent cannot manage channels.
func TestInboxChannels(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	owner := newInboxClient(t, s)
	owner.signIn("owner@example.com", testserver.Password)
	csrf := owner.csrf("/inbox/channels")

	for _, bad := range []struct {
		form   url.Values
		status int
		says   string
	}{
		{url.Values{"name": {"Ads"}, "origins": {"https://ads.example/path"}}, 400, "is not an origin"},
		{url.Values{"name": {" "}}, 400, "name is required"},
		{url.Values{"name": {"Ads"}, "members": {"nobody@example.com"}}, 404, "no user has the email"},
	} {
		bad.form.Set("csrf", csrf)
		if p := owner.do("POST", "/inbox/channels", bad.form); p.status != bad.status || !strings.Contains(p.body, bad.says) {
			t.Errorf("create %v: %d, want %d saying %q", bad.form, p.status, bad.status, bad.says)
		}
	}
	if channels, _ := s.Store.FindChannels(context.Background()); len(channels) != 1 {
		t.Fatalf("refused forms created %d channels", len(channels)-1)
	}
	p := owner.do("POST", "/inbox/channels", url.Values{"csrf": {csrf}, "name": {"Listing pages"},
		"origins": {"https://www.example.com\nhttps://listings.example.com"}, "members": {"ann@example.com"}})
	if p.status != 303 {
		t.Fatalf("create a channel: %d\n%s", p.status, p.body)
	}
	channels, _ := s.Store.FindChannels(context.Background())
	ch := channels[len(channels)-1]
	if ch.Name != "Listing pages" || strings.Join(ch.AllowedOrigins, " ") != "https://www.example.com https://listings.example.com" {
		t.Fatalf("the channel created: %+v", ch)
	}
	page := owner.get("/inbox/channels").body
	for _, want := range []string{`&lt;script src="` + s.URL + `/sdk/rechat.min.js"&gt;&lt;/script&gt;`,
		"lead_channel: '" + ch.ID + "'", "curl -X POST " + s.URL + "/leads/channels/" + ch.ID + "/webhook"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Channels page lacks %s", want)
		}
	}
	// Ann, a member, sees the channel's leads; the others stay hidden.
	lead := capture(t, s, ch.ID, `{"first_name":"From the listing page"}`)
	other := capture(t, s, s.ChannelID, `{"first_name":"From the website"}`)
	ann := newInboxClient(t, s)
	ann.signIn("ann@example.com", testserver.Password)
	if p := ann.get("/inbox/"); !strings.Contains(p.body, lead) || strings.Contains(p.body, other) {
		t.Errorf("a member's Leads page:\n%s", p.body)
	}
	if p := ann.get("/inbox/channels"); p.status != 403 || strings.Contains(p.body, ch.ID) {
		t.Errorf("an agent opens the Channels page: %d", p.status)
	}
	if strings.Contains(ann.get("/inbox/").body, `href="/inbox/channels"`) {
		t.Error("an agent's navigation links to the Channels page")
	}
	if p := ann.do("POST", "/inbox/channels", url.Values{"csrf": {ann.csrf("/inbox/")}, "name": {"Mine"}}); p.status != 403 {
		t.Errorf("an agent creates a channel: %d", p.status)
	}
	// Members are added to a channel that exists.
	if p := owner.do("POST", "/inbox/channels/"+s.ChannelID+"/members", url.Values{"csrf": {csrf}, "members": {"ann@example.com"}}); p.status != 303 {
		t.Fatalf("add a member: %d\n%s", p.status, p.body)
	}
	if p := ann.get("/inbox/"); !strings.Contains(p.body, other) {
		t.Error("a new member does not see the channel's leads")
	}

	// Settings: allowed origins and spam screening; the CAPTCHA secret is
	// kept when left empty and never shown.
	settings := "/inbox/channels/" + ch.ID + "/settings"
	if p := owner.do("POST", settings, url.Values{"csrf": {csrf}, "origins": {"https://www.example.com"}, "screening": {"on"},
		"address_rate": {"12"}, "captcha": {"turnstile"}, "captcha_secret": {"s3cret-key"}}); p.status != 303 {
		t.Fatalf("save settings: %d\n%s", p.status, p.body)
	}
	if p := owner.do("POST", settings, url.Values{"csrf": {csrf}, "origins": {"https://www.example.com https://new.example.com"},
		"screening": {"on"}, "address_rate": {"12"}, "captcha": {"turnstile"}}); p.status != 303 {
		t.Fatalf("save settings again: %d\n%s", p.status, p.body)
	}
	got, err := s.Store.FindChannelByID(context.Background(), ch.ID)
	if err != nil || strings.Join(got.AllowedOrigins, " ") != "https://www.example.com https://new.example.com" || got.Screening.Off ||
		got.Screening.AddressRate != 12 || got.Screening.Captcha != "turnstile" || got.Screening.CaptchaSecret != "s3cret-key" {
		t.Fatalf("the channel after its settings: %+v, %v", got, err)
	}
	if page := owner.get("/inbox/channels").body; strings.Contains(page, "s3cret-key") || !strings.Contains(page, "set; leave empty to keep it") {
		t.Error("the Channels page shows the CAPTCHA secret, or not that one is set")
	}
	for _, bad := range []url.Values{{"origins": {"ftp://x"}}, {"address_rate": {"many"}}, {"captcha": {"turnstile"}, "screening": {"on"}},
		{"captcha": {"friendly"}, "captcha_secret": {"k"}}} {
		bad.Set("csrf", csrf)
		if bad.Get("captcha") == "turnstile" { // a CAPTCHA needs its secret: clear the one set first
			owner.do("POST", settings, url.Values{"csrf": {csrf}, "captcha": {""}})
		}
		if p := owner.do("POST", settings, bad); p.status != 400 {
			t.Errorf("settings %v: %d, want 400", bad, p.status)
		}
	}
	if p := owner.do("POST", settings, url.Values{"csrf": {csrf}}); p.status != 303 {
		t.Fatalf("turning screening off: %d", p.status)
	}
	if got, _ := s.Store.FindChannelByID(context.Background(), ch.ID); !got.Screening.Off || len(got.AllowedOrigins) != 0 {
		t.Errorf("an empty settings form: %+v, want screening off and any origin", got)
	}
	if p := ann.do("POST", settings, url.Values{"csrf": {ann.csrf("/inbox/")}, "screening": {"on"}}); p.status != 403 {
		t.Errorf("an agent changes a channel's settings: %d", p.status)
	}
}

// TestInboxChannelMembers: the Channels page lists each channel's members,
// escaped, and the owner removes one with its Remove button; the removed
// agent no longer sees the channel's leads. Only the owner removes, and
// only with the form's CSRF token.
func TestInboxChannelMembers(t *testing.T) {
	ctx := context.Background()
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	s.NewUser(t, leadwire.User{Email: "bea@example.com", Name: `Bea <b>"Baker"</b>`})
	for _, email := range []string{"ann@example.com", "bea@example.com"} {
		if err := s.Store.AddChannelMember(ctx, s.ChannelID, email); err != nil {
			t.Fatal(err)
		}
	}
	lead := capture(t, s, s.ChannelID, `{"first_name":"From the website"}`)
	owner := newInboxClient(t, s)
	owner.signIn("owner@example.com", testserver.Password)
	ann := newInboxClient(t, s)
	ann.signIn("ann@example.com", testserver.Password)
	if p := ann.get("/inbox/"); !strings.Contains(p.body, lead) {
		t.Fatalf("a member does not see the channel's lead:\n%s", p.body)
	}

	removeButton := func(email string) string {
		return `<input type="hidden" name="email" value="` + email + `">`
	}
	section := func() string {
		t.Helper()
		page := owner.get("/inbox/channels").body
		_, after, ok := strings.Cut(page, `id="channel-`+s.ChannelID+`"`)
		section, _, _ := strings.Cut(after, "</section>")
		if !ok {
			t.Fatalf("the Channels page lacks the channel:\n%s", page)
		}
		return section
	}
	page := section()
	for _, want := range []string{`action="/inbox/channels/` + s.ChannelID + `/members/remove"`, removeButton("ann@example.com"),
		removeButton("bea@example.com"), "Bea &lt;b&gt;&#34;Baker&#34;&lt;/b&gt;", ">Remove</button>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the channel's members lack %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<b>") {
		t.Error("a user's name is not escaped on the Channels page")
	}

	remove := "/inbox/channels/" + s.ChannelID + "/members/remove"
	csrf := owner.csrf("/inbox/channels")
	if p := ann.do("POST", remove, url.Values{"csrf": {ann.csrf("/inbox/")}, "email": {"ann@example.com"}}); p.status != 403 {
		t.Errorf("an agent removes a member: %d, want 403", p.status)
	}
	if p := owner.do("POST", remove, url.Values{"email": {"ann@example.com"}}); p.status != 403 {
		t.Errorf("a removal without the CSRF token: %d, want 403", p.status)
	}
	for _, bad := range []struct{ path, email string }{
		{"/inbox/channels/0190a8f4-0000-7000-8000-000000000000/members/remove", "ann@example.com"},
		{remove, "nobody@example.com"},
	} {
		if p := owner.do("POST", bad.path, url.Values{"csrf": {csrf}, "email": {bad.email}}); p.status != 404 {
			t.Errorf("remove %s from %s: %d, want 404", bad.email, bad.path, p.status)
		}
	}
	if p := ann.get("/inbox/"); !strings.Contains(p.body, lead) {
		t.Fatal("refused removals removed the member")
	}

	for range 2 { // removing one who is no longer a member is no error
		p := owner.do("POST", remove, url.Values{"csrf": {csrf}, "email": {"ann@example.com"}})
		if p.status != 303 || p.header.Get("Location") != "/inbox/channels#channel-"+s.ChannelID {
			t.Fatalf("remove a member: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
	}
	if page := section(); strings.Contains(page, removeButton("ann@example.com")) || !strings.Contains(page, removeButton("bea@example.com")) {
		t.Errorf("the members after removing Ann:\n%s", page)
	}
	if p := ann.get("/inbox/"); p.status != 200 || strings.Contains(p.body, lead) {
		t.Errorf("a removed member still sees the channel's lead: %d", p.status)
	}
	if p := ann.get("/inbox/leads/" + lead); p.status != 404 {
		t.Errorf("a removed member opens the channel's lead: %d, want 404", p.status)
	}
}

// TestInboxAfterSetup: the owner's setup link signs them in to the inbox.
func TestInboxAfterSetup(t *testing.T) {
	s := testserver.Start(t)
	secret, _, err := s.Store.OwnerSetupLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := newInboxClient(t, s)
	p := c.do("POST", "/inbox/setup", url.Values{"token": {secret}, "email": {"olga@example.com"}, "password": {testserver.Password}})
	if p.status != 200 || !strings.Contains(p.body, `href="/inbox/"`) {
		t.Fatalf("setup: %d\n%s", p.status, p.body)
	}
	if p := c.get("/inbox/"); p.status != 200 || !strings.Contains(p.body, "olga@example.com") || !strings.Contains(p.body, `href="/inbox/channels"`) {
		t.Errorf("the inbox after setup: %d\n%s", p.status, p.body)
	}
}

// TestInboxEventsEndOnShutdown: CloseEvents ends the open streams, which
// would otherwise keep a shutting-down server waiting for good.
func TestInboxEventsEndOnShutdown(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	c := newInboxClient(t, s)
	c.signIn("owner@example.com", testserver.Password)
	events := c.events(t, "/inbox/events?since="+strconv.FormatInt(time.Now().UnixMilli(), 10))
	id := capture(t, s, s.ChannelID, `{"first_name":"Before the shutdown"}`)
	events.until(id, 3*time.Second)
	s.Handler.(*server.Server).CloseEvents()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case _, open := <-events.lines:
			if !open {
				return
			}
		case <-timeout:
			t.Fatal("the stream is still open 3 s after CloseEvents")
		}
	}
}
