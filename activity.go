package leadwire

import (
	"encoding/json"
	"regexp"
	"time"
)

// Actions recorded by the tracker helpers. Custom actions are allowed too.
const (
	ActionViewedListing          = "ContactViewedListing"
	ActionSharedListing          = "ContactSharedListing"
	ActionFavoritedListing       = "ContactFavoritedListing"
	ActionRemovedFavoriteListing = "ContactRemovedFavoriteListing"
	ActionValuedListing          = "ContactValuedListing"
	ActionSearchedListings       = "ContactSearchedListings"
	ActionCreatedSearch          = "ContactCreatedSearch"
	ActionRemovedSearch          = "ContactRemovedSearch"
	ActionSignedUp               = "ContactSignedUp"
	ActionLoggedIn               = "ContactLoggedIn"
)

// Actions recorded when a user works a lead (LeadService.UpdateLead).
const (
	ActionStatusChanged = "StatusChanged" // notes say from which status to which
	ActionNoteAdded     = "NoteAdded"     // notes hold the user's note
)

var actionPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Activity is one entry of a lead's timeline: something the visitor did
// after the lead was captured.
type Activity struct {
	ID      string   `json:"id"`
	LeadID  string   `json:"lead"`
	Action  string   `json:"action"`            // one of the Action constants, or a custom name
	Listing *Listing `json:"listing,omitempty"` // the listing acted on, for listing actions
	Search  *Search  `json:"search,omitempty"`  // the search run or saved, for search actions
	Notes   string   `json:"notes,omitempty"`   // free text from the website
	// Actor is the email of the user who made the change, for changes made
	// through the API; empty for what a website sent.
	Actor     string    `json:"actor,omitempty"`
	CreatedAt time.Time `json:"-"`
	// IdempotencyKey, when set, makes a repeat of the same event (a retry
	// after a lost answer) return the activity stored the first time.
	IdempotencyKey string `json:"-"`

	// Raw is the activity as received, as one JSON object: every key it
	// was sent with, those the fields above leave out included.
	Raw json.RawMessage `json:"-"`
}

// Search is a listing search a visitor ran or saved: its page, its title,
// its free-text query and the filters it applied. Zero means no filter.
type Search struct {
	URL              string   `json:"url,omitempty"`
	Title            string   `json:"title,omitempty"`
	Search           string   `json:"search,omitempty"`
	MinimumPrice     float64  `json:"minimum_price,omitempty"`
	MaximumPrice     float64  `json:"maximum_price,omitempty"`
	MinimumBedrooms  float64  `json:"minimum_bedrooms,omitempty"`
	MaximumBedrooms  float64  `json:"maximum_bedrooms,omitempty"`
	MinimumBathrooms float64  `json:"minimum_bathrooms,omitempty"`
	MaximumBathrooms float64  `json:"maximum_bathrooms,omitempty"`
	PropertyTypes    []string `json:"property_types,omitempty"`
	PostalCodes      []string `json:"postal_codes,omitempty"`
	Pool             *bool    `json:"pool,omitempty"`
}

// Validate reports an EINVALID error when the action is missing or not
// made of letters, digits and _ (at most 64 characters).
func (a *Activity) Validate() error {
	if a.Action == "" {
		return Errorf(EINVALID, "action is required")
	}
	if !actionPattern.MatchString(a.Action) {
		return Errorf(EINVALID, "action %q must be letters, digits or _ and at most 64 characters", a.Action)
	}
	return nil
}
