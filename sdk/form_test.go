package sdk_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire/internal/browser"
)

// formPage is a form with one field of every kind the binding handles.
const formPage = `
<form id="lead-form">
  <input name="first_name" value="Jane">
  <input name="email" type="email" value="jane@example.com">
  <input name="nickname" value="JJ" disabled>
  <input value="no name">
  <input name="interests" type="checkbox" value="buy" checked>
  <input name="interests" type="checkbox" value="sell" checked>
  <input name="interests" type="checkbox" value="rent">
  <input name="newsletter" type="checkbox" value="yes" checked>
  <input name="unchecked" type="checkbox" value="yes">
  <input name="contact_by" type="radio" value="phone">
  <input name="contact_by" type="radio" value="email" checked>
  <select name="areas" multiple><option selected>north</option><option>east</option><option selected>south</option></select>
  <select name="budget"><option>low</option><option selected>high</option></select>
  <textarea name="message">Call me</textarea>
  <input name="password" type="password" value="secret">
  <input name="resume" type="file">
  <input name="card" autocomplete="cc-number" value="4111111111111111">
  <input name="exp" autocomplete="billing cc-exp" value="12/30">
  <input name="cvc" value="123">
  <input name="card_number" value="4111111111111111">
  <button type="submit" id="send">Contact me</button>
</form>
<p id="result"></p>`

// bind binds the form with callbacks that record what happened.
func bind(channel, validate string) string {
	return fmt.Sprintf(`window.calls = {validate: [], success: [], error: []}
window.unbind = sdk.Leads.form(document.querySelector('#lead-form'), {lead_channel: %s}, {
  validate: payload => { calls.validate.push(payload); return %s },
  onSuccess: lead => calls.success.push(lead),
  onError: e => calls.error.push({message: e.message, status: e.status, code: e.code}),
})`, jsString(channel), validate)
}

func TestFormSubmitsEveryCollectableField(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", formPage))
	eval[chromedp.Void](t, tab, bind(s.server.ChannelID, "true"))
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, tab, `calls.success.length + calls.error.length > 0`)
	lead := s.waitLeads(1)[0]
	success := eval[[]map[string]any](t, tab, `calls.success`)
	if len(success) != 1 || success[0]["id"] != lead.ID {
		t.Errorf("onSuccess got %v, want the lead %s", success, lead.ID)
	}
	var raw map[string]any
	if err := json.Unmarshal(lead.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "referer_url")
	// The time the form was on screen, for the server's time trap.
	if ms, ok := raw["_lw_t"].(float64); !ok || ms < 0 {
		t.Errorf("sent _lw_t %v, want the milliseconds the form was on screen", raw["_lw_t"])
	}
	delete(raw, "_lw_t")
	want := map[string]any{
		"first_name": "Jane", "email": "jane@example.com",
		"interests": []any{"buy", "sell"}, "newsletter": "yes", "contact_by": "email",
		"areas": []any{"north", "south"}, "budget": "high", "message": "Call me",
	}
	if !reflect.DeepEqual(raw, want) {
		t.Errorf("sent\n%v\nwant\n%v", raw, want)
	}
	if validated := eval[[]map[string]any](t, tab, `calls.validate`); len(validated) != 1 || !reflect.DeepEqual(validated[0], want) {
		t.Errorf("validate got %v, want the payload once", validated)
	}
	if disabled := eval[bool](t, tab, `document.querySelector('#send').disabled`); disabled {
		t.Error("the submit button is still disabled after the capture")
	}
}

func TestFormOutcomes(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		name      string
		channel   string
		validate  string
		submit    string // JS that submits
		fail      int    // status the front answers with
		leads     int    // stored after this case, in total
		requests  int
		successes int
		errStatus int // status passed to onError; 0 means no onError call
	}{
		{"validate false sends nothing", s.server.ChannelID, "Boolean(payload.phone_number)", `document.querySelector('#send').click()`, 0, 0, 0, 0, 0},
		{"server error reaches onError", s.server.ChannelID, "true", `document.querySelector('#send').click()`, 409, 0, 1, 0, 409},
		{"double click sends once", s.server.ChannelID, "true", `const b = document.querySelector('#send'); b.click(); b.click(); document.querySelector('#lead-form').requestSubmit()`, 0, 1, 1, 1, 0},
		{"unbound form sends nothing", unknownChannel, "true", `unbind(); document.querySelector('#lead-form').addEventListener('submit', e => e.preventDefault()); document.querySelector('#send').click()`, 0, 1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, s.page("/"+tt.name, "", "", formPage))
			eval[chromedp.Void](t, tab, bind(tt.channel, tt.validate))
			s.failNext(1, tt.fail)
			before := s.postCount()
			eval[chromedp.Void](t, tab, tt.submit)
			if tt.successes+tt.requests > 0 {
				waitTrue(t, tab, `calls.success.length + calls.error.length > 0`)
			}
			// Let a wrongly sent second request arrive before counting.
			eval[chromedp.Void](t, tab, `new Promise(r => setTimeout(r, 200))`)
			if n := s.postCount() - before; n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if n := len(s.leads()); n != tt.leads {
				t.Errorf("%d leads stored, want %d", n, tt.leads)
			}
			if n := eval[int](t, tab, `calls.success.length`); n != tt.successes {
				t.Errorf("onSuccess called %d times, want %d", n, tt.successes)
			}
			errs := eval[[]outcome](t, tab, `calls.error.map(e => ({error: e}))`)
			switch {
			case tt.errStatus == 0 && len(errs) > 0:
				t.Errorf("onError called with %v", errs)
			case tt.errStatus != 0 && (len(errs) != 1 || errs[0].Error.Status != tt.errStatus || errs[0].Error.Message == ""):
				t.Errorf("onError got %v, want one error with status %d", errs, tt.errStatus)
			}
		})
	}
}
