package sdk_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire/internal/browser"
)

// TestFormIsBusyWhileSending: a form bound with form() carries
// aria-busy="true" while its lead is on the way, and rechat.min.css,
// loaded from the server beside the script, styles it so.
func TestFormIsBusyWhileSending(t *testing.T) {
	s := newSite(t)
	release := make(chan struct{})
	var once sync.Once
	done := func() { once.Do(func() { close(release) }) }
	t.Cleanup(done)
	s.holdPosts(func(*http.Request) bool { <-release; return true })

	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", `<link rel="stylesheet" href="`+s.api+`/sdk/rechat.min.css">`+formPage))
	eval[chromedp.Void](t, tab, bind(s.server.ChannelID, "true"))
	const form = `document.querySelector('#lead-form')`
	if busy := eval[bool](t, tab, form+`.hasAttribute('aria-busy')`); busy {
		t.Fatal("the form is busy before it is sent")
	}
	eval[chromedp.Void](t, tab, `document.querySelector('#send').click()`)
	waitTrue(t, tab, form+`.getAttribute('aria-busy') == 'true'`)
	if got := eval[string](t, tab, `getComputedStyle(`+form+`).opacity + ' ' + getComputedStyle(`+form+`).cursor`); got != "0.65 progress" {
		t.Errorf("while sending the form's opacity and cursor are %q, want the stylesheet's \"0.65 progress\"", got)
	}
	done()
	waitTrue(t, tab, `calls.success.length + calls.error.length > 0`)
	if n := eval[int](t, tab, `calls.success.length`); n != 1 {
		t.Fatalf("onSuccess called %d times, want 1", n)
	}
	if busy := eval[bool](t, tab, form+`.hasAttribute('aria-busy')`); busy {
		t.Error("the form is still busy after the capture")
	}
	if got := eval[string](t, tab, `getComputedStyle(`+form+`).opacity`); got != "1" {
		t.Errorf("after sending the form's opacity is %s, want 1", got)
	}
}

// TestDemoPageUnderItsPolicy: the demo page's Content-Security-Policy
// lets through its own inline style and script and the SDK files of its
// server (TestDemoPageCreatesLead sends a lead through it).
func TestDemoPageUnderItsPolicy(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.api+"/")
	checks := map[string]string{
		"the inline style applies":         `getComputedStyle(document.body).maxWidth == '512px'`,
		"the SDK script ran":               `typeof Rechat == 'object'`,
		"the SDK stylesheet loaded":        `[...document.styleSheets].some(s => s.href && s.href.endsWith('/sdk/rechat.min.css') && s.cssRules.length > 0)`,
		"the inline script bound the form": `document.querySelector('#lead-form').hasAttribute('aria-busy') == false && (document.querySelector('#lead-form').requestSubmit(), document.querySelector('#result').textContent == 'Please enter your email.')`,
	}
	for name, js := range checks {
		if !eval[bool](t, tab, js) {
			t.Errorf("%s: %s is false", name, js)
		}
	}
}
