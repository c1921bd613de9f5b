// Package spamcorpus measures spam screening on a labelled corpus: people's
// submissions in the shapes real sites send them (the browser SDK in
// Chromium, the Go SDK behind a Go website, plain form and JSON posts) and
// bots' submissions in the shapes bots send them, all through a trusted
// reverse proxy that names each simulated visitor in X-Forwarded-For.
package spamcorpus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/browser"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
	"github.com/leadwire/leadwire/server"
)

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

// submission is one labelled submission of the corpus. Every one has an
// email of its own, by which its lead is found afterwards.
type submission struct {
	Kind    string            `json:"kind"` // how it is sent, and for bots what they do
	Bot     bool              `json:"bot"`
	IP      string            `json:"ip"`
	Channel string            `json:"channel"`
	Fields  map[string]string `json:"fields"`
	Email   string            `json:"email"`

	status int // the HTTP status the sender saw; 0 when it saw none
}

// corpus is the test's world: the server behind the proxy, the channels
// (five sites) and the generator of people.
type corpus struct {
	t        *testing.T
	s        *testserver.Server
	proxy    string
	channels []string
	rnd      *rand.Rand
	n        int // submissions made, for unique emails and addresses
}

func TestCorpus(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	c := &corpus{t: t, s: s, rnd: rand.New(rand.NewPCG(13, 2026)), channels: []string{s.ChannelID}}
	for i := range 4 {
		c.channels = append(c.channels, s.NewChannel(t, leadwire.Channel{Name: fmt.Sprintf("Site %d", i+2)}))
	}
	c.proxy = startProxy(t, s.URL)

	var all []*submission
	all = append(all, c.browserSDK()...)
	all = append(all, c.goSDK()...)
	all = append(all, c.plainPosts()...)
	c.judge(all)
}

// startProxy is the trusted reverse proxy in front of the server. A
// browser's visitor is named by the path /v/{ip}/..., which the proxy
// turns into X-Forwarded-For; a request without it (the Go website's)
// keeps the X-Forwarded-For it came with. The proxy then appends the
// address it was reached from, as proxies do.
func startProxy(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	visitorPath := regexp.MustCompile(`^/v/([0-9a-f.:]+)(/.*)$`)
	rp := &httputil.ReverseProxy{Director: func(r *http.Request) {
		if m := visitorPath.FindStringSubmatch(r.URL.Path); m != nil {
			r.URL.Path = m[2]
			r.Header.Set("X-Forwarded-For", m[1])
		}
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	}}
	p := httptest.NewServer(rp)
	t.Cleanup(p.Close)
	return p.URL
}

var (
	firstNames = []string{"Ann", "José", "Mary-Jane", "Wei", "Olumide", "Priya", "John", "Ashley", "D'Andre", "Chloé", "Mohammed", "Sarah",
		"Kenji", "Ryan", "Lupita", "J.R.", "Ivan", "Fatima", "Tom", "Grace", "Björn", "Nguyen", "Emily", "Carlos"}
	lastNames = []string{"Lee", "García", "O'Neil", "Zhang", "Adeyemi", "Patel", "Smith", "Johnson", "Van der Berg", "Dubois", "Al-Farsi",
		"Williams", "Tanaka", "Murphy", "Hernández", "Nowak", "St. John", "Kim", "Brown", "Müller", "", "Davis"}
	mailDomains = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net",
		"att.net", "protonmail.com", "kw.com", "remax.net", "utexas.edu", "acme-dental.com", "live.co.uk", "web.de"}
	streets  = []string{"Elm St", "Maple Ave", "Oak Lawn Ave", "Preston Rd", "Ross Ave", "Main St", "Swiss Ave", "Greenville Ave"}
	messages = []string{
		"Is %s still available? We'd like to see it this weekend.",
		"Hi, I'm interested in %s. What are the HOA fees?",
		"Could you send me the disclosures for %s?",
		"We're relocating from Chicago in the spring and %s looks perfect. Can we do a video tour?",
		"What's the earliest showing for %s? I'm pre-approved.",
		"Is the seller open to offers on %s? Also, is the garage detached?",
		"My wife and I loved the photos of %s. Is there a pool?",
		"Can you tell me about the schools near %s?",
		"Hello! Looking at %s for my parents, is it single story?",
		"I'd like a CMA for my home, it's a lot like %s.",
	}
	shortMessages = []string{"Call me please", "Text me", "Info please", ""}
	browserUA     = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	spamLinks = []string{"http://cheap-seo.example/offer", "https://crypto-profit.example/join", "http://backlinks.example/?ref=42"}
)

func (c *corpus) pick(list []string) string { return list[c.rnd.IntN(len(list))] }

// next returns a new visitor's address, email local part suffix and
// channel.
func (c *corpus) next() (ip string, n int, channel string) {
	c.n++
	return fmt.Sprintf("198.%d.%d.%d", 18+c.n/62500, c.n/250%250, c.n%250+1), c.n, c.channels[c.n%len(c.channels)]
}

// person is what a person fills in on a real estate site's form.
func (c *corpus) person(kind string) *submission {
	ip, n, ch := c.next()
	first, last := c.pick(firstNames), c.pick(lastNames)
	local := strings.ToLower(strings.NewReplacer(" ", "", "'", "", ".", "", "é", "e", "á", "a", "í", "i", "ö", "o", "ü", "u").Replace(first + "." + last))
	email := fmt.Sprintf("%s%d@%s", local, n, c.pick(mailDomains))
	f := map[string]string{"first_name": first, "last_name": last, "email": email}
	switch c.rnd.IntN(6) {
	case 0: // no phone
	case 1:
		f["phone_number"] = fmt.Sprintf("+44 20 7946 %04d", c.rnd.IntN(10000))
	case 2:
		f["phone_number"] = fmt.Sprintf("214.%03d.%04d", 200+c.rnd.IntN(700), c.rnd.IntN(10000))
	default:
		f["phone_number"] = fmt.Sprintf("(%d) %03d-%04d", []int{214, 469, 972, 817}[c.rnd.IntN(4)], 200+c.rnd.IntN(700), c.rnd.IntN(10000))
	}
	home := fmt.Sprintf("%d %s", 100+c.rnd.IntN(9000), c.pick(streets))
	switch r := c.rnd.IntN(10); {
	case r < 6:
		f["message"] = fmt.Sprintf(c.pick(messages), home)
	case r < 8:
		f["message"] = c.pick(shortMessages)
	default: // a visitor pasting the listing they mean
		f["message"] = fmt.Sprintf("Is this one still available? https://homes.example/listings/%d", 1000+n)
	}
	if c.rnd.IntN(3) == 0 {
		f["timeframe"] = c.pick([]string{"0-3 months", "3-6 months", "Just looking"})
	}
	return &submission{Kind: kind, IP: ip, Channel: ch, Fields: f, Email: email}
}

// bot is a submission a bot fills: plausible fields, then what kind does.
func (c *corpus) bot(kind string) *submission {
	b := c.person(kind)
	b.Bot = true
	return b
}

// browserSDK sends people's and bots' submissions through forms the
// browser SDK binds in Chromium: 200 people who fill the form and send it
// seconds later, 60 bots that fill every field, the hidden one included,
// and 60 that send the form the moment it is on the page.
func (c *corpus) browserSDK() []*submission {
	var all []*submission
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, pageHTML(c.proxy, r.URL.Query().Get("batch")))
	}))
	defer web.Close()
	tab := browser.NewTab(c.t)
	for page := range 4 {
		var batch []*submission
		for range 50 {
			batch = append(batch, c.person("browser SDK"))
		}
		for range 15 {
			batch = append(batch, c.bot("browser: honeypot filled"), c.bot("browser: instant post"))
		}
		b, _ := json.Marshal(batch)
		if err := chromedp.Do(tab, chromedp.Navigate(web.URL+"/?batch="+url.QueryEscape(string(b)))); err != nil {
			c.t.Fatalf("page %d: %v", page, err)
		}
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](`Object.keys(done).length == visitors.length`,
			chromedp.WithPollingTimeout(2*time.Minute), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			c.t.Fatalf("page %d never finished: %v", page, err)
		}
		done, err := chromedp.Run(tab, chromedp.Evaluate[map[string]int](`done`))
		if err != nil {
			c.t.Fatal(err)
		}
		for _, s := range batch {
			s.status = done[s.Email]
		}
		all = append(all, batch...)
	}
	return all
}

// pageHTML is a listing page with one contact form per simulated visitor,
// each bound by an SDK of its own that sends through the proxy as that
// visitor.
func pageHTML(proxy, batch string) string {
	return `<!doctype html><html><head><meta charset="utf-8"><title>Listings</title>
<script src="` + proxy + `/sdk/rechat.min.js"></script></head><body>
<script>
const visitors = ` + batch + `
window.done = {}
const make = (v) => {
  const form = document.createElement('form')
  form.innerHTML = '<label>First name <input name="first_name"></label><label>Last name <input name="last_name"></label>' +
    '<label>Email <input name="email" type="email"></label><label>Phone <input name="phone_number" type="tel"></label>' +
    '<label>Message <textarea name="message"></textarea></label>' +
    '<select name="timeframe"><option value=""></option><option>0-3 months</option><option>3-6 months</option><option>Just looking</option></select>' +
    '<label><input type="checkbox" name="tag" value="buyer" checked> Buying</label>' +
    '<input type="hidden" name="listing_id" value="L-42"><button>Send</button>'
  document.body.append(form)
  const sdk = new Rechat.Sdk({api_url: '` + proxy + `/v/' + v.ip, tracker: false, offline_sync: false})
  sdk.Leads.form(form, {lead_channel: v.channel}, {
    onSuccess: () => { done[v.email] = 200 },
    onError: (e) => { done[v.email] = e.status || -1 },
  })
  for (const [k, val] of Object.entries(v.fields)) form.elements[k].value = val
  // A bot fills every field it finds, the hidden one too.
  if (v.kind.includes('honeypot')) form.elements._lw_website.value = 'http://seo-bot.example'
  return form
}
// A bot posting at once gets its form the moment it sends it; everyone
// else has the page open for a while.
const forms = visitors.map((v) => v.kind.includes('instant') ? null : make(v))
// One at a time, as visitors do: a browser takes only so many requests
// in flight from one page.
const sendAll = async (which) => {
  for (const [i, f] of forms.entries()) {
    if (!which(visitors[i])) continue
    ;(f || make(visitors[i])).requestSubmit()
    while (!(visitors[i].email in done)) await new Promise((r) => setTimeout(r, 2))
  }
}
sendAll((v) => v.kind.includes('instant')).then(() => setTimeout(() => sendAll((v) => !v.kind.includes('instant')), 2300))
</script></body></html>`
}

// goSDK sends submissions through a Go website whose contact form posts
// to the Go SDK's Form handler: 150 people who read the page before they
// send it, and 40 bots that post the moment they fetched it.
func (c *corpus) goSDK() []*submission {
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: c.proxy, OfflineSync: rechat.OfflineSyncSettings{Dir: c.t.TempDir()}})
	if err != nil {
		c.t.Fatal(err)
	}
	defer sdk.Close(context.Background())
	page := template.Must(template.New("").Parse(`<form method="post" action="/contact">{{.}}<input name="first_name"><input name="email"><button>Send</button></form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /contact/{ch}", func(w http.ResponseWriter, r *http.Request) { page.Execute(w, rechat.FormFields()) })
	for _, ch := range c.channels {
		mux.Handle("POST /contact/"+ch, sdk.Leads.Form(rechat.Channel{LeadChannel: ch}, rechat.FormEvents{}))
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The visitor's connection: the simulated visitor names its address.
		r.RemoteAddr = r.Header.Get("X-Visitor") + ":40000"
		mux.ServeHTTP(w, r)
	}))
	defer site.Close()
	shownField := regexp.MustCompile(`name="_lw_shown" value="(\d+)"`)

	var people, bots []*submission
	for range 150 {
		people = append(people, c.person("Go SDK form"))
	}
	for range 40 {
		bots = append(bots, c.bot("Go SDK: instant post"))
	}
	visit := func(s *submission) url.Values {
		req, _ := http.NewRequest("GET", site.URL+"/contact/"+s.Channel, nil)
		req.Header.Set("X-Visitor", s.IP)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		html, _ := io.ReadAll(res.Body)
		res.Body.Close()
		form := url.Values{"_lw_website": {""}, "_lw_shown": {shownField.FindStringSubmatch(string(html))[1]}}
		for k, v := range s.Fields {
			form.Set(k, v)
		}
		return form
	}
	send := func(s *submission, form url.Values) {
		req, _ := http.NewRequest("POST", site.URL+"/contact/"+s.Channel, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.pick(browserUA))
		req.Header.Set("X-Visitor", s.IP)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		var answer struct{ Data struct{ Queued bool } }
		json.NewDecoder(res.Body).Decode(&answer)
		res.Body.Close()
		s.status = res.StatusCode
		if answer.Data.Queued {
			s.status = http.StatusTooManyRequests // kept in the outbox: the server did not take it
		}
	}
	forms := make([]url.Values, len(people))
	for i, s := range people {
		forms[i] = visit(s)
	}
	for _, s := range bots {
		send(s, visit(s))
	}
	time.Sleep(2300 * time.Millisecond) // the people read the page and fill the form in
	parallel(people, func(i int, s *submission) { send(s, forms[i]) })
	return append(people, bots...)
}

// plainPosts sends submissions without an SDK: 150 people's forms posted
// by the browser as URL-encoded, multipart or JSON (a site's own script),
// and the bots that post to the webhook directly.
func (c *corpus) plainPosts() []*submission {
	var all []*submission
	for i := range 150 {
		all = append(all, c.person([]string{"plain form (urlencoded)", "plain form (multipart)", "plain JSON (the site's own fetch)"}[i%3]))
	}
	for range 40 {
		b := c.bot("plain: _gotcha filled")
		b.Fields["_gotcha"] = "I am a bot"
		all = append(all, b)
	}
	for i := range 80 {
		b := c.bot("plain: link-stuffed name")
		b.Fields["first_name"] = []string{"Visit cheap-meds.xyz", "<a href=http://x.example>WIN</a>", "www.best-loans.example", "Crypto https://t.example/x"}[i%4]
		all = append(all, b)
	}
	disposable := []string{"mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com", "sharklasers.com", "temp-mail.org", "maildrop.cc", "trashmail.com"}
	for i := range 80 {
		b := c.bot("plain: disposable email")
		local, _, _ := strings.Cut(b.Email, "@")
		b.Email = local + "@" + disposable[i%len(disposable)]
		b.Fields["email"] = b.Email
		all = append(all, b)
	}
	for a := range 3 { // three addresses, forty posts each, as fast as they go
		ip := fmt.Sprintf("203.0.113.%d", 10+a)
		for range 40 {
			b := c.bot("plain: burst from one address")
			b.IP, b.Channel = ip, c.channels[a]
			b.Fields["message"] = "Great site! Boost your traffic: " + c.pick(spamLinks)
			b.Kind = "plain: burst from one address"
			all = append(all, b)
		}
	}
	for range 80 { // one campaign, one site, many addresses
		b := c.bot("plain: repeated body")
		b.Channel = c.channels[0]
		b.Fields["message"] = "Hello, I noticed your website is not ranking on Google. We offer affordable SEO packages, reply for a free audit."
		all = append(all, b)
	}
	for i := range 80 {
		b := c.bot("plain: script without SDK")
		if i%4 != 3 {
			b.Fields["message"] = "Dear owner, check this out " + c.pick(spamLinks)
		}
		all = append(all, b)
	}
	c.rnd.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	parallel(all, func(i int, s *submission) { c.post(s) })
	return all
}

// post sends s straight to the webhook, through the proxy, as its kind
// says: a browser's form post, a site's script, or a bot's HTTP library.
func (c *corpus) post(s *submission) {
	var body bytes.Buffer
	contentType := "application/json"
	switch {
	case strings.Contains(s.Kind, "urlencoded") || strings.Contains(s.Kind, "_gotcha") || strings.Contains(s.Kind, "disposable"):
		form := url.Values{}
		for k, v := range s.Fields {
			form.Set(k, v)
		}
		body.WriteString(form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case strings.Contains(s.Kind, "multipart"):
		mw := multipart.NewWriter(&body)
		for k, v := range s.Fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		contentType = mw.FormDataContentType()
	default:
		json.NewEncoder(&body).Encode(s.Fields)
	}
	req, _ := http.NewRequest("POST", c.proxy+"/v/"+s.IP+"/leads/channels/"+s.Channel+"/webhook", &body)
	req.Header.Set("Content-Type", contentType)
	if strings.Contains(s.Kind, "burst") || strings.Contains(s.Kind, "script") {
		req.Header.Set("User-Agent", []string{"python-requests/2.31.0", "curl/8.5.0", "Go-http-client/1.1", ""}[c.n%4])
	} else {
		req.Header.Set("User-Agent", browserUA[len(s.Email)%len(browserUA)])
		req.Header.Set("Origin", "https://homes.example")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Error(err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	s.status = res.StatusCode
}

// parallel runs fn over list from eight senders at once.
func parallel(list []*submission, fn func(i int, s *submission)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				fn(i, list[i])
			}
		})
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()
}

// judge finds each submission's lead and reports, per kind and in all,
// how many were accepted, quarantined and refused.
func (c *corpus) judge(all []*submission) {
	t := c.t
	status := map[string]string{}    // email -> status of its lead
	reasons := map[string][]string{} // email -> why it was quarantined
	for _, f := range []leadwire.LeadFilter{{}, {Status: leadwire.StatusSpam}} {
		leads, err := c.s.Store.FindLeads(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range leads {
			status[strings.ToLower(l.Payload.Email)] = l.Status
			reasons[strings.ToLower(l.Payload.Email)] = l.SpamReasons
		}
	}
	type tally struct{ n, accepted, quarantined, refused, lost int }
	kinds := map[string]*tally{}
	var people, bots tally
	for _, s := range all {
		k := kinds[s.Kind]
		if k == nil {
			k = &tally{}
			kinds[s.Kind] = k
		}
		total := &people
		if s.Bot {
			total = &bots
		}
		for _, x := range []*tally{k, total} {
			x.n++
			switch st := status[strings.ToLower(s.Email)]; {
			case st == leadwire.StatusSpam:
				x.quarantined++
				if x == total && !s.Bot {
					t.Logf("a person quarantined for %v: %s %v", reasons[strings.ToLower(s.Email)], s.Kind, s.Fields)
				}
			case st != "":
				x.accepted++
			case s.status == http.StatusTooManyRequests:
				x.refused++
			default:
				x.lost++
				if x == total {
					t.Logf("lost (status %d): %s %v", s.status, s.Kind, s.Email)
				}
			}
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		x := kinds[k]
		t.Logf("%-32s %4d: accepted %4d, quarantined %4d, refused %4d, lost %d", k, x.n, x.accepted, x.quarantined, x.refused, x.lost)
	}
	caught := float64(bots.quarantined+bots.refused) / float64(bots.n)
	t.Logf("bots: %d, quarantined or refused %d (%.1f%%)", bots.n, bots.quarantined+bots.refused, 100*caught)
	t.Logf("people: %d, accepted %d, quarantined %d (%.2f%%), refused %d", people.n, people.accepted, people.quarantined,
		100*float64(people.quarantined)/float64(people.n), people.refused)
	if people.n < 500 || bots.n < 500 {
		t.Errorf("the corpus has %d people and %d bots, want at least 500 of each", people.n, bots.n)
	}
	if caught < 0.95 {
		t.Errorf("%.1f%% of the bots were caught, want at least 95%%", 100*caught)
	}
	if people.refused > 0 || people.lost > 0 || bots.lost > 0 {
		t.Errorf("%d people refused, %d people and %d bots lost; want none", people.refused, people.lost, bots.lost)
	}
	if float64(people.quarantined) > 0.005*float64(people.n) {
		t.Errorf("%d people quarantined, more than 0.5%%", people.quarantined)
	}
}
