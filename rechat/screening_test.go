package rechat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire/rechat"
)

// TestFormScreeningFields: FormFields renders the honeypot and the render
// time, and Form sends how long the form was on screen and the visitor's
// address chain.
func TestFormScreeningFields(t *testing.T) {
	html := string(rechat.FormFields())
	if !strings.Contains(html, `name="_lw_website" tabindex="-1"`) || !strings.Contains(html, `aria-hidden="true"`) || !strings.Contains(html, `name="_lw_shown"`) {
		t.Fatalf("FormFields = %s", html)
	}
	var got struct {
		xff  string
		lead map[string]any
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.xff = r.Header.Get("X-Forwarded-For")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got.lead)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"code":"OK","data":{"id":"0196f0a0-0000-7000-8000-000000000001","lead_channel":"c"}}`)
	}))
	defer api.Close()
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: api.URL, OfflineSync: rechat.OfflineSyncSettings{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.Close(t.Context())
	site := httptest.NewServer(sdk.Leads.Form(rechat.Channel{LeadChannel: "c"}, rechat.FormEvents{}))
	defer site.Close()

	shown := time.Now().Add(-4 * time.Second).UnixMilli()
	form := url.Values{"email": {"ann@example.com"}, "_lw_website": {""}, "_lw_shown": {strconv.FormatInt(shown, 10)}}
	req, _ := http.NewRequest("POST", site.URL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got.xff != "203.0.113.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For sent: %q, want the chain with the visitor's connection", got.xff)
	}
	ms, _ := strconv.Atoi(fmt.Sprint(got.lead["_lw_t"]))
	if ms < 4000 || ms > 60000 || got.lead["_lw_shown"] != nil {
		t.Errorf("lead sent %v: want _lw_t of about 4000 ms and no _lw_shown", got.lead)
	}
}
