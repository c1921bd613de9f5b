package followupboss_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/followupboss"
	"github.com/leadwire/leadwire/internal/delivertest"
)

// TestSendsAnEventWithTheAPIKey sends leads to a stand-in for Follow Up
// Boss's events API and checks the events as its documentation describes
// them, and its authentication.
func TestSendsAnEventWithTheAPIKey(t *testing.T) {
	s := delivertest.Start(t, map[string]deliver.Deliverer{leadwire.KindFollowUpBoss: &followupboss.Deliverer{}})
	fub := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":123}`))
	})
	const apiKey = "fka_0123456789abcdef"
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindFollowUpBoss, URL: fub.URL + "/v1/events", Secret: apiKey})

	for _, c := range []struct {
		lead string
		want followupboss.Event
	}{
		{`{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com","phone_number":"(214) 555-0101",
			"lead_source":"Zillow","message":"Can I see it Sunday?","tag":["buyer"],"referer_url":"https://example.com/listing/1",
			"listing":{"url":"https://example.com/listing/1","mls_number":"NTREIS-123","price":450000,
				"property":{"street_address":"1 Elm St","city":"Dallas","state":"TX","postal_code":"75201","bedrooms":3}}}`,
			followupboss.Event{Source: "Zillow", System: "leadwire", Type: "Property Inquiry", Message: "Can I see it Sunday?",
				PageURL: "https://example.com/listing/1",
				Person: followupboss.Person{FirstName: "Grace", LastName: "Hopper", Emails: []followupboss.Value{{"grace@example.com"}},
					Phones: []followupboss.Value{{"+12145550101"}}, Tags: []string{"buyer"}},
				Property: &followupboss.Property{Street: "1 Elm St", City: "Dallas", State: "TX", Code: "75201", MLSNumber: "NTREIS-123",
					Price: 450000, URL: "https://example.com/listing/1", Bedrooms: "3"}}},
		{`{"email":"ada@example.com"}`,
			followupboss.Event{Source: "Website", System: "leadwire", Type: "Registration",
				Person: followupboss.Person{Emails: []followupboss.Value{{"ada@example.com"}}}}},
		{`{"first_name":"Alan","note":"Call after 5"}`,
			followupboss.Event{Source: "Website", System: "leadwire", Type: "General Inquiry", Message: "Call after 5",
				Person: followupboss.Person{FirstName: "Alan"}}},
	} {
		id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, c.lead))
		if del := delivertest.DeliveryOf(t, s, id); del.Status != leadwire.DeliveryDelivered {
			t.Fatalf("delivery %+v", del)
		}
		got := fub.Wait(t, 1, time.Second)
		r := got[len(got)-1]
		var event followupboss.Event
		if err := json.Unmarshal(r.Body, &event); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(event, c.want) {
			t.Errorf("event\n got %+v\nwant %+v\nbody %s", event, c.want, r.Body)
		}
		req := &http.Request{Header: r.Header}
		if user, pass, ok := req.BasicAuth(); !ok || user != apiKey || pass != "" {
			t.Errorf("Basic auth %q %q %v, want the API key as the user name", user, pass, ok)
		}
		if r.Header.Get("X-System") != "leadwire" || r.Header.Get("X-Method") != http.MethodPost {
			t.Errorf("%s with X-System %q", r.Header.Get("X-Method"), r.Header.Get("X-System"))
		}
	}
}

// TestWrongAPIKeyFailsAtOnce: a 401 is a refusal, not worth retrying.
func TestWrongAPIKeyFailsAtOnce(t *testing.T) {
	s := delivertest.Start(t, map[string]deliver.Deliverer{leadwire.KindFollowUpBoss: &followupboss.Deliverer{}})
	fub := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		http.Error(w, `{"errorMessage":"Invalid API key"}`, http.StatusUnauthorized)
	})
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindFollowUpBoss, URL: fub.URL, Secret: "wrong"})
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"ada@example.com"}`))
	if del := delivertest.DeliveryOf(t, s, id); del.Status != leadwire.DeliveryFailed || del.Attempts != 1 {
		t.Errorf("delivery %+v, want failed after one attempt", del)
	}
}

func TestAPIKeyIsRequired(t *testing.T) {
	d := leadwire.Destination{Kind: leadwire.KindFollowUpBoss}
	if err := d.Validate(); leadwire.ErrorCode(err) != leadwire.EINVALID {
		t.Errorf("a Follow Up Boss destination without an API key: %v", err)
	}
	d.Secret = "key"
	if err := d.Validate(); err != nil || d.URL != leadwire.FollowUpBossEvents {
		t.Errorf("%v, URL %q", err, d.URL)
	}
}
