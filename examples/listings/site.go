package main

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/leadwire/leadwire/rechat"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// listing is one property for sale on the site.
type listing struct {
	MLSNumber string
	Title     string
	Address   string
	City      string
	Price     float64
	Beds      int
	Baths     int
}

// listings are the site's inventory; a real site reads them from its MLS feed.
var listings = []listing{
	{"1841395151", "Modern farmhouse with pool", "4512 Belclaire Ave", "Dallas", 1250000, 4, 4},
	{"1841395160", "Downtown loft", "1800 Main St #1204", "Dallas", 465000, 1, 2},
	{"1841395177", "Craftsman bungalow", "611 N Clinton Ave", "Dallas", 689000, 3, 2},
}

func findListing(mls string) (listing, bool) {
	for _, l := range listings {
		if l.MLSNumber == mls {
			return l, true
		}
	}
	return listing{}, false
}

// site holds what the website's pages need.
type site struct {
	sdk *rechat.Sdk
	log *slog.Logger
}

// newSite returns the website's handler.
func newSite(sdk *rechat.Sdk, channel rechat.Channel, log *slog.Logger) http.Handler {
	s := &site{sdk: sdk, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /listings/{mls}", s.listing)
	mux.HandleFunc("GET /thanks", s.thanks)
	mux.Handle("POST /contact", sdk.Leads.Form(channel, rechat.FormEvents{
		Validate: func(r *http.Request, p rechat.Payload) bool {
			return p.Get("email") != "" || p.Get("phone_number") != ""
		},
		SuccessURL: "/thanks",
		OnError:    s.contactFailed,
	}))
	return mux
}

func (s *site) index(w http.ResponseWriter, r *http.Request) {
	s.render(w, "index.html", listings)
}

func (s *site) listing(w http.ResponseWriter, r *http.Request) {
	l, ok := findListing(r.PathValue("mls"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	// A visitor who already left their details has the tracker cookie;
	// anonymous visitors are simply not tracked.
	err := s.sdk.Leads.Tracker.FromRequest(r).ViewedListing(r.Context(), rechat.Listing{
		MLSNumber: l.MLSNumber, Price: l.Price, URL: pageURL(r),
		Property: map[string]any{"address": map[string]any{"street_address": l.Address, "city": l.City}},
	}, "")
	if err != nil && !errors.Is(err, rechat.ErrNoTrackingID) {
		s.log.Warn("tracking a listing view", "mls", l.MLSNumber, "err", err)
	}
	s.render(w, "listing.html", struct {
		Listing listing
		Error   string
	}{l, formErrors[r.URL.Query().Get("error")]})
}

// pageURL is the absolute URL of the page r asked for, as the agent
// reading the timeline would open it.
func pageURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func (s *site) thanks(w http.ResponseWriter, r *http.Request) {
	s.render(w, "thanks.html", nil)
}

// formErrors are the messages the listing page shows after a failed
// submission, by the code in its ?error= parameter. Codes rather than text
// keep other sites from putting words on the page.
var formErrors = map[string]string{
	"missing": "Please give us an email address or a phone number.",
	"failed":  "Sorry, we could not send your message. Please try again.",
}

// contactFailed sends the visitor back to the form with a message; the
// details of the failure go to the log.
func (s *site) contactFailed(w http.ResponseWriter, r *http.Request, err error) {
	code := "failed"
	if errors.Is(err, rechat.ErrFormRejected) {
		code = "missing"
	} else {
		s.log.Error("capturing a lead", "err", err)
	}
	back := "/"
	if l, ok := findListing(r.PostFormValue("mlsid")); ok {
		back = "/listings/" + l.MLSNumber
	}
	http.Redirect(w, r, back+"?error="+code, http.StatusSeeOther)
}

func (s *site) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("rendering", "page", name, "err", err)
	}
}
