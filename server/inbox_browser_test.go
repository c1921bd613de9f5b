package server_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/browser"
	"github.com/leadwire/leadwire/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

// screenshotsEnv names the directory the browser test saves its
// screenshots of the inbox in, when set: LEADWIRE_SCREENSHOTS=docs/screenshots
// (relative to the module's root).
const screenshotsEnv = "LEADWIRE_SCREENSHOTS"

// byLabel finds the control a label names, as a person does.
func byLabel(label string) chromedp.Search {
	return chromedp.Search(`//*[@id=//label[normalize-space()="` + label + `"]/@for]`)
}

// button finds a button by its text.
func button(text string) chromedp.Search {
	return chromedp.Search(`//button[normalize-space()="` + text + `"]`)
}

// link finds a link by its text.
func link(text string) chromedp.Search {
	return chromedp.Search(`//a[normalize-space()="` + text + `"]`)
}

// browserSignIn signs in on the inbox's sign-in page of a new tab.
func browserSignIn(t *testing.T, s *testserver.Server, email string) context.Context {
	t.Helper()
	tab := browser.NewTab(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(s.URL+"/inbox/"),
		chromedp.SendKeys(byLabel("Email"), email),
		chromedp.SendKeys(byLabel("Password"), testserver.Password),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.ID("leads")),
	); err != nil {
		t.Fatalf("signing in as %s: %v", email, err)
	}
	return tab
}

// follow runs steps that load another page (a click on a link, a form
// sent) and waits for that page: a control found right after a click
// could still be the old page's.
func follow(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		t.Fatalf("loading the next page: %v", err)
	}
}

func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestInboxInTheBrowser walks through an agent's day in Chromium: sign
// in; a lead captured through the webhook appears on the open Leads page
// within a second, without a reload; open it, change its status (the
// response time appears), assign it, add a note; find it by its phone's
// digits; export the CSV; a lead named with HTML shows as text; another
// agent does not see it; signing out ends the session.
func TestInboxInTheBrowser(t *testing.T) {
	s := testserver.Start(t)
	s.NewUser(t, leadwire.User{Email: "ann@example.com", Name: "Ann"})
	s.NewUser(t, leadwire.User{Email: "bob@example.com", Name: "Bob"})
	// Ann works the Website channel's leads; Bob only those assigned to him.
	if err := s.Store.AddChannelMember(context.Background(), s.ChannelID, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	capture(t, s, s.ChannelID, `{"first_name":"Earlier","last_name":"Visitor","email":"earlier@example.com","message":"Call me next week"}`)
	tab := browserSignIn(t, s, "ann@example.com")
	var dialogs atomic.Int32
	go func() {
		for range chromedp.Events(tab, cdppage.JavascriptDialogOpening) {
			dialogs.Add(1)
			chromedp.Call(tab, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if err := chromedp.Do(tab, chromedp.WaitReady(chromedp.CSS(`#leads[data-live=open]`))); err != nil {
		t.Fatal(err)
	}

	var id string
	t.Run("a captured lead appears without a reload within a second", func(t *testing.T) {
		id = capture(t, s, s.ChannelID, `{"first_name":"Rosa","last_name":"Diaz","email":"rosa@example.com",
			"phone_number":"(214) 555-0199","lead_source":"Zillow",
			"listing":{"mls_number":"MLS-4411","price":1250000,"property":{"address":"12 Elm St, Dallas"}},
			"message":"Is it still available? We would like to see it on Saturday."}`)
		captured := time.Now()
		ctx, cancel := context.WithTimeout(tab, time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("lead-"+id))); err != nil {
			t.Fatalf("the lead is not on the page a second after its capture: %v", err)
		}
		t.Logf("the lead appeared %v after its capture was answered", time.Since(captured).Round(time.Millisecond))
		if title := eval[string](t, tab, `document.title`); !strings.HasPrefix(title, "(1) ") {
			t.Errorf("title %q does not count the new lead", title)
		}
		row := eval[string](t, tab, `document.getElementById('lead-`+id+`').innerText`)
		for _, want := range []string{"Rosa Diaz", "rosa@example.com", "+12145550199", "Website", "Zillow", "12 Elm St", "new", "just now"} {
			if !strings.Contains(row, want) {
				t.Errorf("the row lacks %q:\n%s", want, row)
			}
		}
		if first := eval[string](t, tab, `document.querySelector('#leads li').id`); first != "lead-"+id {
			t.Errorf("the first row is %s, want the new lead", first)
		}
		screenshot(t, tab, "leads.png")
	})

	t.Run("open it, change its status, assign it, add a note", func(t *testing.T) {
		follow(t, tab, chromedp.Click(chromedp.CSS(`#lead-`+id+` a.name`)))
		follow(t, tab, chromedp.SetValue(byLabel("Status"), "contacted"), chromedp.Click(button("Save status")))
		if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(".response"))); err != nil {
			t.Fatal(err)
		}
		follow(t, tab, chromedp.SetValue(byLabel("Assign"), "ann@example.com, bob@example.com"), chromedp.Click(button("Save assignees")))
		follow(t, tab, chromedp.SendKeys(byLabel("Note"), "Called, she will come on Saturday"), chromedp.Click(button("Add note")))
		text := eval[string](t, tab, `document.body.innerText`)
		for _, want := range []string{"response time", "contacted", "Called, she will come on Saturday", "by ann@example.com",
			"Assignees\nann@example.com, bob@example.com", "$1,250,000", "MLS-4411"} {
			if !strings.Contains(text, want) {
				t.Errorf("the lead's page lacks %q:\n%s", want, text)
			}
		}
		if href := eval[string](t, tab, `document.querySelector('a[href^="tel:"]').getAttribute('href')`); href != "tel:+12145550199" {
			t.Errorf("tel: link %q", href)
		}
		l, err := s.Store.FindLeadByID(context.Background(), id)
		if err != nil || l.Status != leadwire.StatusContacted || len(l.Payload.Assignees) != 2 {
			t.Errorf("the stored lead: %+v %v", l, err)
		}
		screenshot(t, tab, "lead.png")
	})

	t.Run("search finds it by phone digits", func(t *testing.T) {
		follow(t, tab, chromedp.Click(link("Leads")))
		follow(t, tab, chromedp.SendKeys(byLabel("Search"), "555-0199"), chromedp.Click(button("Filter")))
		if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("lead-"+id))); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](t, tab, `document.querySelectorAll('#leads li').length`); n != 1 {
			t.Errorf("the search lists %d leads, want 1", n)
		}
		if loc := eval[string](t, tab, `location.search`); !strings.Contains(loc, "q=555-0199") {
			t.Errorf("the search is not in the URL: %s", loc)
		}
	})

	t.Run("fits a phone's screen", func(t *testing.T) {
		phone := browser.OpenTab(t, tab)
		if err := chromedp.Do(phone, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/inbox/", "/inbox/leads/" + id} {
			if err := chromedp.Do(phone, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
				t.Fatal(err)
			}
			if wide := eval[int](t, phone, `document.documentElement.scrollWidth - window.innerWidth`); wide > 0 {
				t.Errorf("%s is %d pixels wider than a phone's screen", path, wide)
			}
			if path == "/inbox/" {
				screenshot(t, phone, "leads-phone.png")
			}
		}
	})

	t.Run("the CSV export downloads", func(t *testing.T) {
		dir := t.TempDir()
		c := chromedp.FromContext(tab)
		if _, err := chromedp.CallBrowser(tab, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: c.BrowserContextID,
			DownloadPath: dir, EventsEnabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		ctx, cancel := context.WithCancel(tab)
		defer cancel()
		go func() {
			for ev, err := range chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress) {
				if err != nil {
					return
				}
				if ev.State == cdpbrowser.DownloadProgressStateCompleted {
					done <- ev.GUID
					return
				}
			}
		}()
		if err := chromedp.Do(tab, chromedp.Click(link("Export CSV"))); err != nil {
			t.Fatal(err)
		}
		var guid string
		select {
		case guid = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("no download")
		}
		f, err := os.Open(filepath.Join(dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// The export holds the search's leads: Rosa's alone.
		if len(rows) != 2 || rows[1][0] != id || rows[0][0] != "id" {
			t.Errorf("the export: %q", rows)
		}
	})

	t.Run("a lead named with HTML shows as text", func(t *testing.T) {
		xss := `<img src=x onerror=alert(1)>`
		s.Unscreened(t, s.ChannelID) // else quarantined, out of the Leads page
		if err := chromedp.Do(tab, chromedp.Click(link("Leads")), chromedp.WaitReady(chromedp.CSS(`#leads[data-live=open]`))); err != nil {
			t.Fatal(err)
		}
		bad := capture(t, s, s.ChannelID, `{"first_name":"`+xss+`","message":"<script>alert(2)</script>"}`)
		ctx, cancel := context.WithTimeout(tab, 3*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("lead-"+bad))); err != nil {
			t.Fatal(err)
		}
		check := func(where string) {
			if name := eval[string](t, tab, `document.querySelector('#lead-`+bad+` .name').textContent`); name != xss {
				t.Errorf("%s: the name shows as %q", where, name)
			}
			if n := eval[int](t, tab, `document.querySelectorAll('main img[src="x"], main script').length`); n != 0 {
				t.Errorf("%s: the visitor's HTML made %d elements", where, n)
			}
		}
		check("the live row")
		if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/inbox/"), chromedp.WaitVisible(chromedp.ID("lead-"+bad))); err != nil {
			t.Fatal(err)
		}
		check("the list")
		if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/inbox/leads/"+bad), chromedp.WaitVisible(byLabel("Status"))); err != nil {
			t.Fatal(err)
		}
		if h1 := eval[string](t, tab, `document.querySelector('h1').textContent`); h1 != xss {
			t.Errorf("the lead's page shows the name as %q", h1)
		}
		if n := dialogs.Load(); n != 0 {
			t.Errorf("%d alerts opened", n)
		}
	})

	t.Run("another agent does not see it", func(t *testing.T) {
		theirs := capture(t, s, s.ChannelID, `{"first_name":"Only","last_name":"Ann's"}`)
		bob := browserSignIn(t, s, "bob@example.com")
		ids := eval[string](t, bob, `Array.from(document.querySelectorAll('#leads li')).map(li => li.dataset.id).join(' ')`)
		// Rosa's lead was assigned to Bob above; the others are Ann's.
		if ids != id {
			t.Errorf("bob's list holds %q, want only %s", ids, id)
		}
		if err := chromedp.Do(bob, chromedp.Navigate(s.URL+"/inbox/leads/"+theirs), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if text := eval[string](t, bob, `document.body.innerText`); strings.Contains(text, "Only") || !strings.Contains(text, "not found") {
			t.Errorf("bob opens ann's lead:\n%s", text)
		}
	})

	t.Run("the dashboard draws its charts", func(t *testing.T) {
		if err := chromedp.Do(tab, chromedp.Click(link("Dashboard")), chromedp.WaitVisible(chromedp.CSS("figure svg"))); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](t, tab, `document.querySelectorAll('figure svg rect').length`); n < 3 {
			t.Errorf("the charts have %d bars", n)
		}
		if text := eval[string](t, tab, `document.querySelector('.responses').innerText`); !strings.Contains(text, "ann@example.com") {
			t.Errorf("the response times lack Ann:\n%s", text)
		}
		screenshot(t, tab, "dashboard.png")
	})

	t.Run("signing out ends the session", func(t *testing.T) {
		if err := chromedp.Do(tab, chromedp.Click(button("Sign out")), chromedp.WaitVisible(byLabel("Password"))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/inbox/leads/"+id), chromedp.WaitVisible(byLabel("Password"))); err != nil {
			t.Fatalf("a lead's page after signing out: %v", err)
		}
		status := eval[int](t, tab, `fetch('/api/me').then(r => r.status)`)
		if status != 401 {
			t.Errorf("/api/me after signing out: %d", status)
		}
	})
}

// screenshot saves a PNG of the tab's page in the directory of
// screenshotsEnv, when it is set.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // tests run in the package's directory
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
