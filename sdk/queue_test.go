package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire/internal/browser"
)

func TestOfflineCaptureSurvivesReloadAndIsDeliveredOnce(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	page := s.page("/", "", "", "")
	navigate(t, tab, page)
	// Offline, yet the page itself can still load: only the API is cut off.
	setOffline(t, tab, true, s.apiPattern())

	got := settle(t, tab, capture(s, "offline@example.com"))
	key, _ := got.OK["idempotency_key"].(string)
	if got.Error != nil || got.OK["queued"] != true || !isUUID(key) {
		t.Fatalf("offline capture settled with %v, want {queued: true, idempotency_key}", got)
	}
	navigate(t, tab, page)
	if n := queued(t, tab); n != 1 {
		t.Fatalf("%d items queued after the reload, want 1", n)
	}
	if n := s.postCount(); n != 0 {
		t.Fatalf("%d requests while offline", n)
	}

	setOffline(t, tab, false, "")
	waitTrue(t, tab, `delivered.length == 1`)
	lead := s.waitLeads(1)[0]
	if lead.Payload.Email != "offline@example.com" {
		t.Errorf("delivered lead has email %q", lead.Payload.Email)
	}
	if n := s.sentWith(key); n != 1 {
		t.Errorf("the queued capture was sent %d times, want once", n)
	}
	if n := queued(t, tab); n != 0 {
		t.Errorf("%d items still queued", n)
	}
	// A delivered capture identifies the visitor, as a direct one does.
	if id := eval[string](t, tab, `document.cookie`); id != "rechat-sdk-tracker="+lead.ID {
		t.Errorf("cookie %q, want the delivered lead's id %s", id, lead.ID)
	}
}

func TestServerErrorIsRetriedWithTheSameKey(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", ""))
	s.failNext(1, 503)
	got := settle(t, tab, capture(s, "retry@example.com"))
	if got.OK["queued"] != true {
		t.Fatalf("capture after a 503 settled with %v, want queued", got)
	}
	// The backoff timer sends it again, about a second later.
	waitTrue(t, tab, `delivered.length == 1`)
	s.waitLeads(1)
	if n := s.sentWith(got.OK["idempotency_key"].(string)); n != 2 {
		t.Errorf("the key was sent %d times, want 2 (the 503, then the retry)", n)
	}
}

func TestReplayClientErrorDropsAndReports(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", ""))
	setOffline(t, tab, true, s.apiPattern())
	first := settle(t, tab, capture(s, "refused@example.com"))
	settle(t, tab, capture(s, "accepted@example.com"))
	s.failNext(1, 400)
	setOffline(t, tab, false, "")
	waitTrue(t, tab, `delivered.length == 1 && dropped.length == 1`)

	dropped := eval[[]struct {
		Item struct {
			ID string `json:"id"`
		} `json:"item"`
		Error struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		} `json:"error"`
	}](t, tab, `dropped`)
	if d := dropped[0]; d.Item.ID != first.OK["idempotency_key"] || d.Error.Status != 400 || d.Error.Code != "failed_400" {
		t.Errorf("rechat:queue-error detail %+v, want the first capture refused with 400", d)
	}
	if w := eval[[]string](t, tab, `warnings`); len(w) != 1 {
		t.Errorf("console.warn calls %q, want one", w)
	}
	leads := s.waitLeads(1)
	if leads[0].Payload.Email != "accepted@example.com" {
		t.Errorf("stored %q, want only the accepted lead", leads[0].Payload.Email)
	}
	if n := queued(t, tab); n != 0 {
		t.Errorf("%d items still queued", n)
	}
	if n := s.postCount(); n != 2 {
		t.Errorf("%d requests, want 2: a refused item is never sent again", n)
	}
}

func TestQueueFullRejects(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "{offline_sync: {max_queue_size: 2}}", ""))
	setOffline(t, tab, true, s.apiPattern())
	for i := range 2 {
		if got := settle(t, tab, capture(s, fmt.Sprintf("q%d@example.com", i))); got.OK["queued"] != true {
			t.Fatalf("capture %d settled with %v, want queued", i, got)
		}
	}
	got := settle(t, tab, capture(s, "third@example.com"))
	if got.Error == nil || got.Error.Code != "queue_full" {
		t.Fatalf("third capture settled with %v, want a queue_full rejection", got)
	}
	t.Logf("queue full: %s", got.Error.Message)
	if n := queued(t, tab); n != 2 {
		t.Errorf("%d items queued, want 2", n)
	}
}

func TestOfflineSyncOffRejectsOffline(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "{offline_sync: false}", ""))
	setOffline(t, tab, true, s.apiPattern())
	got := settle(t, tab, capture(s, "x@example.com"))
	if got.Error == nil || got.Error.Code != "network" {
		t.Fatalf("capture settled with %v, want a network rejection", got)
	}
	if n := queued(t, tab); n != 0 {
		t.Errorf("%d items queued with offline sync off", n)
	}
}

func TestTabsDeliverTheQueueOnce(t *testing.T) {
	tests := []struct {
		name   string
		before string
	}{
		{"Web Locks", ""},
		// Browsers without Web Locks, and plain-http pages, use a lease.
		{"localStorage lease", `delete Navigator.prototype.locks`},
	}
	const items = 4
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			page := s.page("/", tt.before, "", "")
			first := browser.NewTab(t)
			navigate(t, first, page)
			if tt.before != "" && eval[bool](t, first, `'locks' in navigator`) {
				t.Fatal("navigator.locks is still there")
			}
			setOffline(t, first, true, s.apiPattern())
			for i := range items {
				if got := settle(t, first, capture(s, fmt.Sprintf("tab%d@example.com", i))); got.OK["queued"] != true {
					t.Fatalf("capture %d settled with %v", i, got)
				}
			}
			// Three tabs come online at once: two new ones flush on load,
			// the first on its online event.
			tabs := []context.Context{browser.OpenTab(t, first), browser.OpenTab(t, first)}
			var wg sync.WaitGroup
			for _, tab := range tabs {
				wg.Go(func() { chromedp.Do(tab, chromedp.Navigate(page)) })
			}
			setOffline(t, first, false, "")
			wg.Wait()
			leads := s.waitLeads(items)
			// A duplicate would come from a tab still sending; let it land.
			time.Sleep(300 * time.Millisecond)
			if n := len(s.leads()); n != items {
				t.Errorf("%d leads stored, want %d", n, items)
			}
			if n := s.postCount(); n != items {
				t.Errorf("%d requests for %d queued items", n, items)
			}
			for i, l := range leads {
				if want := fmt.Sprintf("tab%d@example.com", i); l.Payload.Email != want {
					t.Errorf("lead %d is %s, want %s: the queue is sent in order", i, l.Payload.Email, want)
				}
			}
			if n := queued(t, first); n != 0 {
				t.Errorf("%d items still queued", n)
			}
		})
	}
}

func TestQueueIsScopedToTheAPI(t *testing.T) {
	a, b := newSite(t), newSite(t)
	settings := func(s *site) string { return fmt.Sprintf(`{api_url: %s}`, jsString(s.api)) }
	// One website talks to two leadwire servers; the queue of each holds
	// only its own requests, whichever page is open when they go out.
	both := a.page("/both", "", settings(a), `<script>window.other = new Rechat.Sdk(`+settings(b)+`)</script>`)
	onlyA := a.page("/a", "", settings(a), "")
	onlyB := a.page("/b", "", settings(b), "")
	tab := browser.NewTab(t)
	navigate(t, tab, both)
	setOffline(t, tab, true, "http://127.0.0.1:*/leads/*")
	// B's item is the older: a queue shared by both would send it first.
	for _, js := range []string{
		strings.Replace(capture(b, "b@example.com"), "sdk.", "other.", 1),
		capture(a, "a@example.com"),
	} {
		if got := settle(t, tab, js); got.OK["queued"] != true {
			t.Fatalf("%s settled with %v, want queued", js, got)
		}
	}
	if n := a.postCount() + b.postCount(); n != 0 {
		t.Fatalf("%d requests while offline", n)
	}

	steps := []struct {
		page           string
		email          string
		postsA, postsB int
	}{
		{onlyA, "a@example.com", 1, 0},
		{onlyB, "b@example.com", 1, 1},
	}
	for _, step := range steps {
		setOffline(t, tab, true, "http://127.0.0.1:*/leads/*")
		navigate(t, tab, step.page)
		setOffline(t, tab, false, "")
		waitTrue(t, tab, `delivered.length == 1`)
		if got := eval[string](t, tab, `delivered[0].item.body.email`); got != step.email {
			t.Errorf("%s delivered %s, want %s", step.page, got, step.email)
		}
		if a.postCount() != step.postsA || b.postCount() != step.postsB {
			t.Errorf("after %s the servers got %d and %d requests, want %d and %d", step.page, a.postCount(), b.postCount(), step.postsA, step.postsB)
		}
	}
	for _, s := range []struct {
		site  *site
		email string
	}{{a, "a@example.com"}, {b, "b@example.com"}} {
		if leads := s.site.waitLeads(1); leads[0].Payload.Email != s.email {
			t.Errorf("%s stored %s, want %s", s.site.api, leads[0].Payload.Email, s.email)
		}
	}
	if n := queued(t, tab); n != 0 {
		t.Errorf("%d items still queued", n)
	}
}
