package rechat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/leadwire/leadwire/rechat"
)

func ExampleNewSdk() {
	api := startExampleAPI() // a leadwire server, as `leadwire serve` runs one
	defer api.Stop()

	sdk, err := rechat.NewSdk(rechat.Settings{
		APIURL:      api.URL, // e.g. http://127.0.0.1:8080; default: the hosted API
		Tracker:     rechat.TrackerSettings{MaxAge: 90 * 24 * time.Hour},
		OfflineSync: rechat.OfflineSyncSettings{Dir: api.OutboxDir, MaxQueueSize: 500},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer sdk.Close(ctx) // one last delivery attempt of the outbox

	pending, err := sdk.Leads.Pending()
	fmt.Println("left queued by earlier runs:", len(pending), err)
	// Output: left queued by earlier runs: 0 <nil>
}

func ExampleLeadsService_Capture() {
	api := startExampleAPI()
	defer api.Stop()
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: api.URL, OfflineSync: rechat.OfflineSyncSettings{Dir: api.OutboxDir}})
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close(context.Background())

	report := func(res *rechat.CaptureResult, err error) {
		var apiErr *rechat.APIError
		switch {
		case errors.As(err, &apiErr):
			fmt.Println("refused:", apiErr.Status, apiErr.Code)
		case err != nil:
			fmt.Println("failed:", err)
		case res.Queued:
			fmt.Println("API unreachable; the lead waits in the outbox as", res.QueueID)
		default:
			fmt.Println("created a lead:", res.ID != "", "at a known time:", !res.CreatedAt.IsZero())
		}
	}
	ctx := context.Background()
	report(sdk.Leads.Capture(ctx,
		rechat.Channel{LeadChannel: api.ChannelID, AdCampaignID: "spring-open-house"},
		rechat.Lead{
			FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com",
			PhoneNumber: "+18189191212", Tag: []string{"buyer"},
			Assignees: []rechat.Assignee{{Email: "agent@example.com"}},
			Extra:     map[string]any{"budget": "500k"},
		}))
	// A channel the API does not know is refused at once, not queued.
	report(sdk.Leads.Capture(ctx,
		rechat.Channel{LeadChannel: "2c55e69d-adbe-42d9-97a5-bedb43783b80"},
		rechat.Lead{Email: "john-doe@gmail.com"}))
	// Without a channel nothing is sent.
	_, err = sdk.Leads.Capture(ctx, rechat.Channel{}, rechat.Lead{Email: "john-doe@gmail.com"})
	fmt.Println("missing channel:", errors.Is(err, rechat.ErrMissingLeadChannel))
	// Output:
	// created a lead: true at a known time: true
	// refused: 404 not_found
	// missing channel: true
}

func ExampleLeadsService_Form() {
	api := startExampleAPI()
	defer api.Stop()
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: api.URL, OfflineSync: rechat.OfflineSyncSettings{Dir: api.OutboxDir}})
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close(context.Background())

	channel := rechat.Channel{LeadChannel: api.ChannelID}
	// The page holds <form method="post" action="/contact"> <input name="email"> ... </form>.
	mux := http.NewServeMux()
	mux.Handle("POST /contact", sdk.Leads.Form(channel, rechat.FormEvents{
		Validate: func(r *http.Request, p rechat.Payload) bool { return p.Get("email") != "" },
		OnSuccess: func(w http.ResponseWriter, r *http.Request, res *rechat.CaptureResult) {
			http.Redirect(w, r, "/thanks", http.StatusSeeOther)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, rechat.ErrFormRejected) {
				http.Error(w, "Please enter your email address.", http.StatusUnprocessableEntity)
				return
			}
			http.Error(w, "Sorry, please try again.", http.StatusBadGateway)
		},
	}))
	site := httptest.NewServer(mux)
	defer site.Close()

	// A browser submits the form twice; redirects are not followed here,
	// to show them.
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, form := range []url.Values{
		{"first_name": {"Jane"}, "email": {"jane@example.com"}, "message": {"Is it still available?"}, "password": {"never collected"}},
		{"first_name": {"Jane"}},
	} {
		resp, err := browser.PostForm(site.URL+"/contact", form)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		cookieSet := false
		for _, c := range resp.Cookies() {
			cookieSet = cookieSet || c.Name == rechat.DefaultTrackerCookie
		}
		fmt.Printf("%d, sent to %q, tracker cookie set: %v\n", resp.StatusCode, resp.Header.Get("Location"), cookieSet)
	}
	// Output:
	// 303, sent to "/thanks", tracker cookie set: true
	// 422, sent to "", tracker cookie set: false
}

func ExampleTracker() {
	api := startExampleAPI()
	defer api.Stop()
	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: api.URL, OfflineSync: rechat.OfflineSyncSettings{Dir: api.OutboxDir}})
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /listings/{mls}", func(w http.ResponseWriter, r *http.Request) {
		tr := sdk.Leads.Tracker.FromRequest(r)
		err := tr.ViewedListing(r.Context(), rechat.Listing{MLSNumber: r.PathValue("mls"), Price: 1250000}, "")
		switch {
		case errors.Is(err, rechat.ErrNoTrackingID):
			fmt.Println("anonymous visitor: nothing tracked") // not an error
		case err != nil:
			log.Print(err)
		default:
			fmt.Println("view recorded on the timeline of the visitor's lead")
		}
		fmt.Fprintln(w, "listing page")
	})
	// The contact form sets the tracker cookie once the visitor is a lead.
	mux.Handle("POST /contact", sdk.Leads.Form(rechat.Channel{LeadChannel: api.ChannelID}, rechat.FormEvents{SuccessURL: "/listings/1841395151"}))
	site := httptest.NewServer(mux)
	defer site.Close()

	jar, err := cookiejar.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	visit := func(resp *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	visit(browser.Get(site.URL + "/listings/1841395151"))
	// The form's 303 brings the browser back to the listing, now with the cookie.
	visit(browser.PostForm(site.URL+"/contact", url.Values{"email": {"visitor@example.com"}}))
	// Output:
	// anonymous visitor: nothing tracked
	// view recorded on the timeline of the visitor's lead
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
