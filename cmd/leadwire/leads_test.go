package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeMaxLeads(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	s := startServe(t, db, "--max-leads", "2")
	list := func(n int) string {
		return "<LeadList>" + strings.Repeat("<Lead><Note>call me</Note></Lead>", n) + "</LeadList>"
	}
	for _, tt := range []struct {
		leads  int
		status int
	}{{3, http.StatusRequestEntityTooLarge}, {2, http.StatusOK}} {
		res, err := http.Post(s.url+"/leads/channels/"+s.channel+"/webhook", "application/xml", strings.NewReader(list(tt.leads)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || (tt.status != http.StatusOK && !strings.Contains(string(body), "at most 2")) {
			t.Errorf("a list of %d: %d %s, want %d", tt.leads, res.StatusCode, body, tt.status)
		}
	}

	for _, bad := range [][]string{{"--max-leads", "0"}, {"--max-leads", "-1"}} {
		if _, errOut, code := runCLI(t, append([]string{"serve", "--db", db}, bad...)...); code == 0 || !strings.Contains(errOut, "--max-leads") {
			t.Errorf("serve %v: exit %d, %q", bad, code, errOut)
		}
	}
	cmd := exec.Command(binary, "serve", "--db", db)
	cmd.Env = append(os.Environ(), "LEADWIRE_MAX_LEADS=0")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--max-leads") {
		t.Errorf("LEADWIRE_MAX_LEADS=0: %v %s", err, out)
	}
}

func TestLeadsListShowsAddressesAndRawActivities(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	s := startServe(t, db)
	res, err := http.Post(s.url+"/leads/channels/"+s.channel+"/webhook", "application/json", strings.NewReader(
		`{"first_name":"Ann","budget":1e999,`+
			`"address":{"street_number":"12","street_name":"Main","street_suffix":"St","city":"Dallas","state_code":"TX","postal_code":75201}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Only the id is read: a float64 holds no 1e999.
	var lead struct{ Data struct{ ID string } }
	if err := json.NewDecoder(res.Body).Decode(&lead); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("capture: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	res, err = http.Post(s.url+"/leads/"+lead.Data.ID+"/timeline", "text/plain",
		strings.NewReader(`{"listing_id":"1841395151","source":"wordpress"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("timeline: %v %v", err, res)
	}
	res.Body.Close()

	out, errOut, code := runCLI(t, "leads", "list", "--db", db)
	if code != 0 || !strings.Contains(out, "ADDRESS") || !strings.Contains(out, "12 Main St, Dallas, TX 75201") {
		t.Errorf("leads list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "leads", "list", "--db", db, "--json")
	var leads []struct {
		ParsedPayload json.RawMessage `json:"parsed_payload"`
		Timeline      []struct {
			Action     string
			RawPayload map[string]any `json:"raw_payload"`
		}
	}
	if err := json.Unmarshal([]byte(out), &leads); err != nil || code != 0 || len(leads) != 1 {
		t.Fatalf("leads list --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if !strings.Contains(string(leads[0].ParsedPayload), `"budget": 1e999`) {
		t.Errorf("parsed payload %s lost the number as sent", leads[0].ParsedPayload)
	}
	if tl := leads[0].Timeline; len(tl) != 1 || tl[0].Action != "ContactViewedListing" || tl[0].RawPayload["source"] != "wordpress" {
		t.Errorf("timeline = %+v", tl)
	}
}
