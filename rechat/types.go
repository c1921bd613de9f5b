package rechat

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Channel says where a lead goes (LeadChannel, required) and who it is
// attributed to. Attribution left empty is filled from rechat_* parameters
// by Leads.Form; values set here always win.
type Channel struct {
	// LeadChannel is the lead-channel id. It is both the endpoint and the
	// only credential: whoever knows it can post leads to it.
	LeadChannel          string `json:"-"`
	UserID               string `json:"user_id,omitempty"`
	BrandID              string `json:"brand_id,omitempty"`
	AdCampaignID         string `json:"ad_campaign_id,omitempty"`
	EmailCampaignID      string `json:"email_campaign_id,omitempty"`
	EmailCampaignEmailID string `json:"email_campaign_email_id,omitempty"`
}

// Lead is one person asking to be contacted. Every field is optional.
type Lead struct {
	FirstName   string     `json:"first_name,omitempty"`
	LastName    string     `json:"last_name,omitempty"`
	Email       string     `json:"email,omitempty"`
	PhoneNumber string     `json:"phone_number,omitempty"`
	Tag         []string   `json:"tag,omitempty"`
	LeadSource  string     `json:"lead_source,omitempty"`
	Note        string     `json:"note,omitempty"`
	Address     string     `json:"address,omitempty"`
	RefererURL  string     `json:"referer_url,omitempty"`
	MLSID       string     `json:"mlsid,omitempty"`
	ListingID   string     `json:"listing_id,omitempty"`
	AgentMLSID  string     `json:"agent_mlsid,omitempty"`
	SourceType  string     `json:"source_type,omitempty"` // the server defaults it to "Website"
	Assignees   []Assignee `json:"assignees,omitempty"`
	Listing     *Listing   `json:"listing,omitempty"`
	// Extra carries any other field (message, budget, ...). It is
	// flattened into the lead's JSON object; where a key names a field
	// that is set above (or in the Channel), the typed value wins.
	Extra map[string]any `json:"-"`
}

// Assignee names an agent the lead should be assigned to.
type Assignee struct {
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	MLSID       string `json:"mlsid,omitempty"`
	MLS         string `json:"mls,omitempty"`
}

// Listing is a property listing a lead asked about or a visitor acted on.
type Listing struct {
	ID            string  `json:"id,omitempty"`
	URL           string  `json:"url,omitempty"`
	MLS           string  `json:"mls,omitempty"`
	MLSNumber     string  `json:"mls_number,omitempty"`
	Price         float64 `json:"price,omitempty"`
	CoverImageURL string  `json:"cover_image_url,omitempty"`
	// Property is free-form, e.g. {"address": {"street_address": ...,
	// "city": ..., "state_code": ..., "postal_code": ...}}.
	Property map[string]any `json:"property,omitempty"`
}

// Search is a listing search a visitor ran, saved or removed.
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

// Activity is one entry for a lead's timeline. Action is one of the
// Contact* constants or a custom name (letters, digits and _).
type Activity struct {
	Action  string   `json:"action"`
	Listing *Listing `json:"listing,omitempty"`
	Search  *Search  `json:"search,omitempty"`
	Notes   string   `json:"notes,omitempty"`
}

// captureBody is the JSON object posted for one lead: the lead's fields,
// the channel's attribution and Extra, flattened.
func captureBody(ch Channel, l Lead) ([]byte, error) {
	typed, err := json.Marshal(struct {
		Lead
		Channel
	}{l, ch})
	if err != nil {
		return nil, err
	}
	if len(l.Extra) == 0 {
		return typed, nil
	}
	obj := make(map[string]json.RawMessage, len(l.Extra)+16)
	if err := json.Unmarshal(typed, &obj); err != nil {
		return nil, err
	}
	for k, v := range l.Extra {
		if _, ok := obj[k]; ok {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("rechat: extra field %q: %w", k, err)
		}
		obj[k] = raw
	}
	return json.Marshal(obj)
}

// CaptureResult is the lead the API created, or, when Queued, a lead kept
// in the outbox for later delivery.
type CaptureResult struct {
	ID          string    `json:"id,omitempty"`
	Contact     string    `json:"contact,omitempty"`
	LeadChannel string    `json:"lead_channel,omitempty"`
	SourceType  string    `json:"source_type,omitempty"`
	CreatedAt   time.Time `json:"-"` // on the wire: Unix seconds with a fraction
	// RawPayload and ParsedPayload are the lead as the API received and
	// normalized it.
	RawPayload    json.RawMessage `json:"raw_payload,omitempty"`
	ParsedPayload json.RawMessage `json:"parsed_payload,omitempty"`

	// Queued reports that the API could not be reached and the lead waits
	// in the outbox under QueueID. ID, Contact and CreatedAt are then
	// empty: the lead does not exist yet.
	Queued  bool   `json:"queued,omitempty"`
	QueueID string `json:"queue_id,omitempty"`
}

// captureResultJSON is CaptureResult with created_at as a JSON number.
type captureResultJSON struct {
	captureResultFields
	CreatedAt *json.Number `json:"created_at,omitempty"`
}

type captureResultFields CaptureResult

// MarshalJSON writes created_at as Unix seconds with millisecond
// precision, as the API does.
func (r CaptureResult) MarshalJSON() ([]byte, error) {
	out := captureResultJSON{captureResultFields: captureResultFields(r)}
	if !r.CreatedAt.IsZero() {
		n := json.Number(fmt.Sprintf("%.3f", float64(r.CreatedAt.UnixMilli())/1000))
		out.CreatedAt = &n
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads created_at as Unix seconds with a fraction.
func (r *CaptureResult) UnmarshalJSON(b []byte) error {
	var in captureResultJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = CaptureResult(in.captureResultFields)
	if in.CreatedAt != nil {
		t, err := unixSeconds(*in.CreatedAt)
		if err != nil {
			return err
		}
		r.CreatedAt = t
	}
	return nil
}

// unixSeconds converts Unix seconds with a fraction to a time, rounded to
// the microsecond (a float64 holds no more for current dates).
func unixSeconds(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, fmt.Errorf("rechat: created_at %q is not Unix seconds", n)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}
