package rechat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/leadwire/leadwire/rechat"
)

func ExampleNewSdk() {
	sdk, err := rechat.NewSdk(rechat.Settings{
		APIURL:      "http://127.0.0.1:8080", // a leadwire server; default: the hosted API
		Tracker:     rechat.TrackerSettings{MaxAge: 90 * 24 * time.Hour},
		OfflineSync: rechat.OfflineSyncSettings{Dir: "/var/lib/mysite/leads-outbox", MaxQueueSize: 500},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer sdk.Close(ctx) // one last delivery attempt of the outbox
}

func ExampleLeadsService_Capture() {
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close(context.Background())

	res, err := sdk.Leads.Capture(context.Background(),
		rechat.Channel{LeadChannel: "2c55e69d-adbe-42d9-97a5-bedb43783b80", AdCampaignID: "spring-open-house"},
		rechat.Lead{
			FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com",
			PhoneNumber: "+18189191212", Tag: []string{"buyer"},
			Assignees: []rechat.Assignee{{Email: "agent@example.com"}},
			Extra:     map[string]any{"budget": "500k"},
		})
	var apiErr *rechat.APIError
	switch {
	case errors.As(err, &apiErr):
		log.Printf("refused: %d %s", apiErr.Status, apiErr.Message)
	case err != nil:
		log.Print(err)
	case res.Queued:
		log.Printf("API unreachable; lead kept as %s and sent later", res.QueueID)
	default:
		log.Printf("created lead %s at %v", res.ID, res.CreatedAt)
	}
}

func ExampleLeadsService_Form() {
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	channel := rechat.Channel{LeadChannel: "2c55e69d-adbe-42d9-97a5-bedb43783b80"}
	// <form method="post" action="/contact"> <input name="email"> ... </form>
	http.Handle("POST /contact", sdk.Leads.Form(channel, rechat.FormEvents{
		Validate: func(r *http.Request, p rechat.Payload) bool { return p.Get("email") != "" },
		OnSuccess: func(w http.ResponseWriter, r *http.Request, res *rechat.CaptureResult) {
			http.Redirect(w, r, "/thanks", http.StatusSeeOther)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "Sorry, please try again.", http.StatusBadGateway)
		},
	}))
}

func ExampleTracker() {
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("GET /listings/{mls}", func(w http.ResponseWriter, r *http.Request) {
		tr := sdk.Leads.Tracker.FromRequest(r)
		err := tr.ViewedListing(r.Context(), rechat.Listing{MLSNumber: r.PathValue("mls"), Price: 1250000}, "")
		if err != nil && !errors.Is(err, rechat.ErrNoTrackingID) {
			log.Print(err) // an anonymous visitor is not an error
		}
		fmt.Fprintln(w, "listing page")
	})
}

func ExampleTrackerService_Identify() {
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		leadID := "0193a6f0-0000-7000-8000-000000000000" // from your own user record
		sdk.Leads.Tracker.Identify(w, leadID)
		sdk.Leads.Tracker.ForLead(leadID).LoggedIn(r.Context(), "")
	})
}
