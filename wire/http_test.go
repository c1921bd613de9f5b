package wire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/wire"
)

// reply is an answer of the API.
type reply struct {
	status int
	body   []byte
}

// post sends body to the server at path and returns the answer.
func post(t *testing.T, s *testserver.Server, path, contentType, body, key string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{res.StatusCode, b}
}

// capture posts a lead body to the server's default channel.
func capture(t *testing.T, s *testserver.Server, contentType, body, key string) reply {
	t.Helper()
	return post(t, s, "/leads/channels/"+s.ChannelID+"/webhook", contentType, body, key)
}

// leadAnswer is the data of a capture answer, with both payloads as sent.
type leadAnswer struct {
	ID            string          `json:"id"`
	RawPayload    json.RawMessage `json:"raw_payload"`
	ParsedPayload json.RawMessage `json:"parsed_payload"`
}

// lead fails unless the answer is 200 with one lead, and returns it.
func (r reply) lead(t *testing.T) leadAnswer {
	t.Helper()
	var a struct{ Data leadAnswer }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
		t.Fatalf("answer %d %s, want 200 with a lead", r.status, r.body)
	}
	return a.Data
}

// refused fails unless the answer has status and an error code whose
// message holds every part.
func (r reply) refused(t *testing.T, status int, code string, parts ...string) {
	t.Helper()
	var e struct{ Code, Message string }
	if r.status != status || json.Unmarshal(r.body, &e) != nil || e.Code != code {
		t.Fatalf("answer %d %s, want %d %s", r.status, r.body, status, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not mention %q", e.Message, p)
		}
	}
}

// storedLeads reads every lead back from the server's store.
func storedLeads(t *testing.T, s *testserver.Server) map[string]*leadwire.Lead {
	t.Helper()
	leads, err := s.Store.FindLeads(context.Background(), leadwire.LeadFilter{})
	if err != nil {
		t.Fatalf("reading the leads back: %v", err)
	}
	byID := map[string]*leadwire.Lead{}
	for _, l := range leads {
		byID[l.ID] = l
	}
	return byID
}

func TestCaptureNumbersRoundTrip(t *testing.T) {
	s := testserver.Start(t)
	numbers := []string{"1e999", "1.8e308", "-1e400", "1e-400", "123456789012345678901234567890", "0.10000000000000000555"}
	shapes := []string{
		`{"email":"a@x.com","budget":%s}`,
		`{"email":"a@x.com","prefs":{"budget":{"max":%s}}}`,
		`{"email":"a@x.com","rooms":[1,[{"n":%s}]]}`,
		`{"email":"a@x.com","listing":{"id":"l","property":{"sqft":%s}}}`,
		`{"email":"a@x.com","address":{"city":"Dallas","lat":%s}}`,
	}
	type sent struct{ number, body string }
	captured := map[string]sent{}
	for i, shape := range shapes {
		for j, n := range numbers {
			body := fmt.Sprintf(shape, n)
			t.Run(body, func(t *testing.T) {
				key := fmt.Sprintf("numbers-%d-%d", i, j)
				first := capture(t, s, "application/json", body, key).lead(t)
				if string(first.RawPayload) != body {
					t.Errorf("raw_payload = %s, want the body as sent", first.RawPayload)
				}
				if !bytes.Contains(first.ParsedPayload, []byte(":"+n)) {
					t.Errorf("parsed_payload %s lacks %s", first.ParsedPayload, n)
				}
				// The replay reads the lead back from the store.
				replay := capture(t, s, "application/json", body, key).lead(t)
				if replay.ID != first.ID || !bytes.Equal(replay.RawPayload, first.RawPayload) ||
					!bytes.Equal(replay.ParsedPayload, first.ParsedPayload) {
					t.Errorf("replay answered\n %s %s %s\nwant\n %s %s %s", replay.ID, replay.RawPayload,
						replay.ParsedPayload, first.ID, first.RawPayload, first.ParsedPayload)
				}
				captured[first.ID] = sent{n, body}
			})
		}
	}
	stored := storedLeads(t, s)
	for id, c := range captured {
		l := stored[id]
		if l == nil {
			t.Errorf("lead %s of %s not found", id, c.body)
			continue
		}
		parsed, err := l.PayloadJSON()
		if err != nil || string(l.Raw) != c.body || !bytes.Contains(parsed, []byte(":"+c.number)) {
			t.Errorf("stored %s / %s (%v), want raw %s with %s in both", l.Raw, parsed, err, c.body, c.number)
		}
	}
}

func TestCaptureRefusesEmptyLeads(t *testing.T) {
	s := testserver.Start(t)
	tests := []struct {
		name, contentType, body string
		parts                   []string
	}{
		{"empty object", "application/json", `{}`, []string{"the lead is empty", "first_name", "message"}},
		{"only a tag", "application/json", `{"tag":"buyer","first_name":"  "}`, []string{"the lead is empty"}},
		{"empty form", "application/x-www-form-urlencoded", ``, []string{"the lead is empty"}},
		{"an empty lead in a list", "application/xml", `<LeadList><Lead><Note>n</Note></Lead><Lead/></LeadList>`,
			[]string{"lead 2 of the list", "the lead is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capture(t, s, tt.contentType, tt.body, "").refused(t, http.StatusBadRequest, leadwire.EINVALID, tt.parts...)
		})
	}
	capture(t, s, "application/json", `{"message":"Is it still available?"}`, "").lead(t)
	if n := len(storedLeads(t, s)); n != 1 {
		t.Errorf("%d leads stored, want only the one with a message", n)
	}
}

func TestCaptureLimitsLeadsPerRequest(t *testing.T) {
	list := func(n int, lead string) string {
		return "<LeadList>" + strings.Repeat(lead, n) + "</LeadList>"
	}
	const note = "<Lead><Note>call me</Note></Lead>"
	t.Run("default", func(t *testing.T) {
		s := testserver.Start(t)
		capture(t, s, "application/xml", list(1000, "<Lead/>"), "").
			refused(t, http.StatusRequestEntityTooLarge, leadwire.ETOOLARGE, "more than 100 leads", "at most 100")
		capture(t, s, "application/xml", list(wire.DefaultMaxLeads+1, note), "").
			refused(t, http.StatusRequestEntityTooLarge, leadwire.ETOOLARGE, "at most 100")
		if n := len(storedLeads(t, s)); n != 0 {
			t.Fatalf("%d leads stored by refused lists", n)
		}
		r := capture(t, s, "application/xml", list(wire.DefaultMaxLeads, note), "")
		var a struct{ Data []leadAnswer }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil || len(a.Data) != wire.DefaultMaxLeads {
			t.Fatalf("a list of %d: %d %.200s", wire.DefaultMaxLeads, r.status, r.body)
		}
	})
	t.Run("configured", func(t *testing.T) {
		s := testserver.Start(t, func(c *server.Config) { c.MaxLeads = 3 })
		capture(t, s, "application/xml", list(4, note), "").
			refused(t, http.StatusRequestEntityTooLarge, leadwire.ETOOLARGE, "more than 3 leads", "at most 3")
		capture(t, s, "application/xml", list(3, note), "")
		if n := len(storedLeads(t, s)); n != 3 {
			t.Fatalf("%d leads stored, want 3", n)
		}
	})
}

func TestCaptureAddressAndAliases(t *testing.T) {
	s := testserver.Start(t)
	tests := []struct {
		name, contentType, body string
		wantParsed              string // keys of parsed_payload, as JSON
		wantLine                string // Address.Line of the stored lead
	}{
		{
			name:        "address object of atomic parts",
			contentType: "application/json",
			body: `{"first_name":"Ann","address":{"street_number":"123","street_dir_prefix":"N","street_name":"Main",` +
				`"street_suffix":"St","unit_number":"4","city":"Dallas","state_code":"TX","postal_code":75201,"county":"Dallas"}}`,
			wantParsed: `{"first_name":"Ann","source_type":"Website","address":{"street_number":"123","street_dir_prefix":"N",` +
				`"street_name":"Main","street_suffix":"St","unit_number":"4","city":"Dallas","state_code":"TX",` +
				`"postal_code":"75201","county":"Dallas"}}`,
			wantLine: "123 N Main St #4, Dallas, TX 75201",
		},
		{
			name:        "address object of lines",
			contentType: "application/json",
			body:        `{"email":"b@x.co","address":{"line1":"1 Elm St","line2":"Suite 2","full":"1 Elm St, Suite 2, Austin TX"}}`,
			wantParsed:  `{"email":"b@x.co","source_type":"Website","address":{"line1":"1 Elm St","line2":"Suite 2","full":"1 Elm St, Suite 2, Austin TX"}}`,
			wantLine:    "1 Elm St, Suite 2, Austin TX",
		},
		{
			name:        "address string",
			contentType: "application/json",
			body:        `{"email":"c@x.co","address":"9 Oak Ave, Plano TX"}`,
			wantParsed:  `{"email":"c@x.co","source_type":"Website","address":"9 Oak Ave, Plano TX"}`,
			wantLine:    "9 Oak Ave, Plano TX",
		},
		{
			name:        "address in a form",
			contentType: "application/x-www-form-urlencoded",
			body:        "email=d%40x.co&address[street_address]=5+Pine+Rd&address[city]=Frisco",
			wantParsed:  `{"email":"d@x.co","source_type":"Website","address":{"street_address":"5 Pine Rd","city":"Frisco"}}`,
			wantLine:    "5 Pine Rd, Frisco",
		},
		{
			name:        "phone alone",
			contentType: "application/json",
			body:        `{"phone":"(214) 555-0100"}`,
			wantParsed:  `{"phone_number":"+12145550100","phone_number_original":"(214) 555-0100","source_type":"Website"}`,
		},
		{
			name:        "phone_number wins over phone",
			contentType: "application/json",
			body:        `{"phone":"(214) 555-0100","phone_number":"+18189191212"}`,
			wantParsed:  `{"phone_number":"+18189191212","source_type":"Website"}`,
		},
		{
			name:        "mlsid and agent_mlsid as numbers",
			contentType: "application/json",
			body:        `{"email":"e@x.co","mlsid":1841395151,"agent_mlsid":98765432109876543210}`,
			wantParsed:  `{"email":"e@x.co","mlsid":"1841395151","agent_mlsid":"98765432109876543210","source_type":"Website"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := capture(t, s, tt.contentType, tt.body, "").lead(t)
			sameJSON(t, "parsed_payload", a.ParsedPayload, tt.wantParsed)
			l := storedLeads(t, s)[a.ID]
			if got := l.Payload.Address.Line(); got != tt.wantLine {
				t.Errorf("address line = %q, want %q", got, tt.wantLine)
			}
			parsed, _ := l.PayloadJSON()
			sameJSON(t, "stored parsed payload", parsed, tt.wantParsed)
		})
	}
}

func TestTimelineRawPayloadAndListingViews(t *testing.T) {
	s := testserver.Start(t)
	lead := capture(t, s, "application/json", `{"email":"v@x.co"}`, "").lead(t)
	timeline := "/leads/" + lead.ID + "/timeline"
	type activityAnswer struct {
		ID         string
		Action     string
		Listing    *leadwire.Listing
		RawPayload json.RawMessage `json:"raw_payload"`
	}
	activity := func(t *testing.T, r reply) activityAnswer {
		t.Helper()
		var a struct{ Data activityAnswer }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("answer %d %s, want 200", r.status, r.body)
		}
		return a.Data
	}

	// Rechat's WordPress plugin: Tracker.capture({ listing_id }), sent
	// by sendBeacon as text/plain.
	view := activity(t, post(t, s, timeline, "text/plain;charset=UTF-8", `{"listing_id":"1841395151"}`, ""))
	if view.Action != leadwire.ActionViewedListing || view.Listing == nil || view.Listing.ID != "1841395151" {
		t.Errorf("no-action view = %+v", view)
	}
	post(t, s, timeline, "application/json", `{"notes":"x"}`, "").
		refused(t, http.StatusBadRequest, leadwire.EINVALID, `"action" is required`, "listing_id")

	search := `{"action":"ContactSearchedListings","search":{"title":"Lofts","minimum_square_meters":90},` +
		`"listing":{"mls_number":"7","open_house":"Sat"},"page":{"n":1e999}}`
	searched := activity(t, post(t, s, timeline, "application/json", search, "search-1"))
	sameJSON(t, "raw_payload", searched.RawPayload, search)
	replayed := activity(t, post(t, s, timeline, "application/json", search, "search-1"))
	if replayed.ID != searched.ID || !bytes.Equal(replayed.RawPayload, searched.RawPayload) {
		t.Errorf("replay answered %s %s, want %s %s", replayed.ID, replayed.RawPayload, searched.ID, searched.RawPayload)
	}

	// leads list --json shows each activity's raw payload.
	doc, err := wire.NewLeadDoc(storedLeads(t, s)[lead.ID])
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Timeline) != 2 {
		t.Fatalf("timeline of %d activities, want 2", len(doc.Timeline))
	}
	sameJSON(t, "stored view", doc.Timeline[0].RawPayload, `{"listing_id":"1841395151"}`)
	sameJSON(t, "stored search", doc.Timeline[1].RawPayload, search)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, kept := range []string{`"minimum_square_meters":90`, `"open_house":"Sat"`, `"n":1e999`} {
		if !bytes.Contains(b, []byte(kept)) {
			t.Errorf("lead document %s lacks %s", b, kept)
		}
	}
}

// sameJSON fails unless got and want hold the same JSON value, numbers
// compared by their text.
func sameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	g, err := decodeNumbers(got)
	if err != nil {
		t.Fatalf("%s: %s: %v", what, got, err)
	}
	w, err := decodeNumbers([]byte(want))
	if err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

// decodeNumbers decodes JSON with its numbers as json.Number.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
