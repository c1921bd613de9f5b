package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire/internal/browser"
)

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

func servePage(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>page</title>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestTabsShareOnlyTheirProfile(t *testing.T) {
	url := servePage(t)
	first := browser.NewTab(t)
	if err := chromedp.Do(first, chromedp.Navigate(url),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('k', 'first'); document.cookie = 'c=first'`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tab  func(t *testing.T) context.Context
		want string
	}{
		{"another tab of the same profile sees storage and cookie", func(t *testing.T) context.Context { return browser.OpenTab(t, first) }, "first c=first"},
		{"a new profile sees neither", func(t *testing.T) context.Context { return browser.NewTab(t) }, "null "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := tt.tab(t)
			if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](`localStorage.getItem('k') + ' ' + document.cookie`))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetOffline(t *testing.T) {
	url := servePage(t)
	tab := browser.NewTab(t)
	if err := chromedp.Do(tab, chromedp.Navigate(url),
		chromedp.Evaluate[chromedp.Void](`window.events = []; addEventListener('offline', () => events.push('offline')); addEventListener('online', () => events.push('online'))`)); err != nil {
		t.Fatal(err)
	}
	// fetchState reports navigator.onLine and whether a request to the
	// page's own server went through.
	fetchState := func() string {
		t.Helper()
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](
			`fetch('/').then(() => 'sent', () => 'failed').then(r => navigator.onLine + ' ' + r + ' ' + events.join(','))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		name    string
		offline bool
		pattern string
		want    string
	}{
		{"offline everywhere", true, "", "false failed offline"},
		{"online again", false, "", "true sent offline,online"},
		{"offline for other URLs only", true, "http://192.0.2.1/*", "false sent offline,online,offline"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := browser.SetOffline(tab, s.offline, s.pattern); err != nil {
				t.Fatal(err)
			}
			if got := fetchState(); got != s.want {
				t.Errorf("got %q, want %q", got, s.want)
			}
		})
	}
}
