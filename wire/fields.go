package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/leadwire/leadwire"
)

// The decoders of JSON and forms both build a generic value (string,
// json.Number, bool, nil, []any, map[string]any) and read the documented
// fields out of it here, so both formats accept the same fields with the
// same type rules.

// fieldReader reads typed fields out of generic values and keeps the first
// type error, so that a mapping reads as a list of fields.
type fieldReader struct {
	err error
}

// fail records the first error.
func (r *fieldReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// text reads a string. An id-like field also accepts a JSON number, as its
// literal text, because forms and scripts often send ids and phone numbers
// as numbers. null reads as "".
func (r *fieldReader) text(path string, v any, idLike bool) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		if idLike {
			return string(v)
		}
	}
	r.fail(typeError(path, "a string", v))
	return ""
}

// texts reads a string or an array of strings.
func (r *fieldReader) texts(path string, v any, idLike bool) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string, json.Number:
		return []string{r.text(path, v, idLike)}
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			out = append(out, r.text(fmt.Sprintf("%s[%d]", path, i), e, idLike))
		}
		return out
	}
	r.fail(typeError(path, "a string or an array of strings", v))
	return nil
}

// priceNoise is what people type into a price besides the number: prices
// typed into forms come as "$500,000", and the currency sign and thousands
// separators carry no value. It is built once, not per field: building a
// Replacer allocates several kilobytes.
var priceNoise = strings.NewReplacer("$", "", ",", "")

// number reads a JSON number or a string holding one (forms send only
// strings). null and "" read as 0.
func (r *fieldReader) number(path string, v any) float64 {
	var s, sent string
	switch v := v.(type) {
	case nil:
		return 0
	case json.Number:
		s, sent = string(v), string(v)
	case string:
		sent = v
		if s = strings.TrimSpace(priceNoise.Replace(v)); s == "" {
			return 0
		}
	default:
		r.fail(typeError(path, "a number", v))
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		r.fail(invalid("field %q: expected a number, got %q", path, sent))
		return 0
	}
	return f
}

// boolean reads a JSON boolean; null reads as nil.
func (r *fieldReader) boolean(path string, v any) *bool {
	switch v := v.(type) {
	case nil:
		return nil
	case bool:
		return &v
	}
	r.fail(typeError(path, "a boolean", v))
	return nil
}

// object reads a JSON object; null reads as nil.
func (r *fieldReader) object(path string, v any) map[string]any {
	switch v := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	}
	r.fail(typeError(path, "an object", v))
	return nil
}

// stringField is a string field of a JSON object.
type stringField struct {
	key    string
	dst    *string
	idLike bool
}

// readStrings sets each field present in obj. A later field of the list
// overrides an earlier one only when it is not empty, which lets an alias
// listed first yield to the documented name listed after it.
func (r *fieldReader) readStrings(path string, obj map[string]any, fields []stringField) {
	for _, f := range fields {
		if s := r.text(join(path, f.key), obj[f.key], f.idLike); s != "" {
			*f.dst = s
		}
	}
}

// payloadStrings lists the text fields of p under their wire names.
func payloadStrings(p *leadwire.Payload) []stringField {
	return []stringField{
		{"first_name", &p.FirstName, false},
		{"last_name", &p.LastName, false},
		{"email", &p.Email, false},
		{"phone", &p.PhoneNumber, true}, // an alias; phone_number wins
		{"phone_number", &p.PhoneNumber, true},
		{"lead_source", &p.LeadSource, false},
		{"note", &p.Note, false},
		{"referer_url", &p.RefererURL, false},
		{"mlsid", &p.MLSID, true},
		{"listing_id", &p.ListingID, true},
		{"agent_mlsid", &p.AgentMLSID, true},
		{"source_type", &p.SourceType, false},
		{"user_id", &p.UserID, true},
		{"brand_id", &p.BrandID, true},
		{"ad_campaign_id", &p.AdCampaignID, true},
		{"email_campaign_id", &p.EmailCampaignID, true},
		{"email_campaign_email_id", &p.EmailCampaignEmailID, true},
	}
}

// documented holds the top-level keys that are not Extra, built once: a
// lead is decoded on every capture.
var documented = func() map[string]bool {
	known := map[string]bool{
		"tag": true, "tags": true, "assignees": true, "listing": true, "address": true,
		// The URL names the channel; a channel in the body must not move the lead.
		"lead_channel": true,
	}
	for _, f := range payloadStrings(&leadwire.Payload{}) {
		known[f.key] = true
	}
	return known
}()

// payloadFromObject reads a lead out of a decoded JSON object or form.
// Undocumented keys go to Extra with their value as sent.
func payloadFromObject(obj map[string]any) (leadwire.Payload, error) {
	var p leadwire.Payload
	var r fieldReader
	fields := payloadStrings(&p)
	r.readStrings("", obj, fields)
	// "tags" is how one public client spells "tag"; both are kept.
	p.Tag = append(r.texts("tag", obj["tag"], false), r.texts("tags", obj["tags"], false)...)
	p.Assignees = r.assignees("assignees", obj["assignees"])
	p.Listing = r.listing("listing", obj["listing"])
	p.Address = r.address("address", obj["address"])
	for k, v := range obj {
		if !documented[k] {
			if p.Extra == nil {
				p.Extra = map[string]any{}
			}
			p.Extra[k] = v
		}
	}
	if r.err != nil {
		return leadwire.Payload{}, r.err
	}
	return p, nil
}

// assignees reads an array of assignee objects. Keys other than the
// documented ones are kept only in the raw payload.
func (r *fieldReader) assignees(path string, v any) []leadwire.Assignee {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		r.fail(typeError(path, "an array of objects", v))
		return nil
	}
	out := make([]leadwire.Assignee, 0, len(list))
	for i, e := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := e.(map[string]any)
		if !ok {
			r.fail(typeError(at, "an object", e))
			continue
		}
		var a leadwire.Assignee
		r.readStrings(at, obj, []stringField{
			{"email", &a.Email, false},
			{"phone_number", &a.PhoneNumber, true},
			{"first_name", &a.FirstName, false},
			{"last_name", &a.LastName, false},
			{"mls_id", &a.MLSID, true}, // one public spec's spelling
			{"mlsid", &a.MLSID, true},
			{"mls", &a.MLS, true},
		})
		out = append(out, a)
	}
	return out
}

// address reads an address: one string, or an object of the documented
// parts (each a string, or a number kept as its text, as postal codes and
// street numbers often come) and any other keys, kept as sent.
func (r *fieldReader) address(path string, v any) *leadwire.Address {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return &leadwire.Address{Text: v}
	case map[string]any:
		a := new(leadwire.Address)
		for _, p := range a.Parts() {
			*p.Value = r.text(join(path, p.Key), v[p.Key], true)
		}
		for k, e := range v {
			if !addressKeys[k] {
				if a.Extra == nil {
					a.Extra = map[string]any{}
				}
				a.Extra[k] = e
			}
		}
		return a
	}
	r.fail(typeError(path, "a string or an object", v))
	return nil
}

// addressKeys holds the documented keys of an address object.
var addressKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, p := range new(leadwire.Address).Parts() {
		keys[p.Key] = true
	}
	return keys
}()

// listing reads a listing object. Keys other than the documented ones are
// kept only in the raw payload.
func (r *fieldReader) listing(path string, v any) *leadwire.Listing {
	obj := r.object(path, v)
	if obj == nil {
		return nil
	}
	var l leadwire.Listing
	r.readStrings(path, obj, []stringField{
		{"id", &l.ID, true},
		{"url", &l.URL, false},
		{"mls", &l.MLS, true},
		{"mls_number", &l.MLSNumber, true},
		{"cover_image_url", &l.CoverImageURL, false},
	})
	l.Price = r.number(join(path, "price"), obj["price"])
	l.Property = r.object(join(path, "property"), obj["property"])
	return &l
}

// search reads a listing search object.
func (r *fieldReader) search(path string, v any) *leadwire.Search {
	obj := r.object(path, v)
	if obj == nil {
		return nil
	}
	var s leadwire.Search
	r.readStrings(path, obj, []stringField{
		{"url", &s.URL, false},
		{"title", &s.Title, false},
		{"search", &s.Search, false},
	})
	for _, f := range []struct {
		key string
		dst *float64
	}{
		{"minimum_price", &s.MinimumPrice}, {"maximum_price", &s.MaximumPrice},
		{"minimum_bedrooms", &s.MinimumBedrooms}, {"maximum_bedrooms", &s.MaximumBedrooms},
		{"minimum_bathrooms", &s.MinimumBathrooms}, {"maximum_bathrooms", &s.MaximumBathrooms},
	} {
		*f.dst = r.number(join(path, f.key), obj[f.key])
	}
	s.PropertyTypes = r.texts(join(path, "property_types"), obj["property_types"], false)
	s.PostalCodes = r.texts(join(path, "postal_codes"), obj["postal_codes"], true)
	s.Pool = r.boolean(join(path, "pool"), obj["pool"])
	return &s
}

// activityFromObject reads a timeline activity; it does not validate it.
// listing_id, mls_number and mlsid at the top fill the listing's id and
// MLS number when it has none, and an activity without an action that
// names a listing is a listing view.
func activityFromObject(obj map[string]any) (*leadwire.Activity, error) {
	var r fieldReader
	a := &leadwire.Activity{
		Action:  r.text("action", obj["action"], false),
		Notes:   r.text("notes", obj["notes"], false),
		Listing: r.listing("listing", obj["listing"]),
		Search:  r.search("search", obj["search"]),
	}
	var id, mlsNumber string
	r.readStrings("", obj, []stringField{
		{"listing_id", &id, true},
		{"mlsid", &mlsNumber, true}, // an alias; mls_number wins
		{"mls_number", &mlsNumber, true},
	})
	if r.err != nil {
		return nil, r.err
	}
	if id != "" || mlsNumber != "" {
		if a.Listing == nil {
			a.Listing = new(leadwire.Listing)
		}
		if a.Listing.ID == "" {
			a.Listing.ID = id
		}
		if a.Listing.MLSNumber == "" {
			a.Listing.MLSNumber = mlsNumber
		}
	}
	if a.Action == "" {
		if a.Listing == nil {
			return nil, invalid(`field "action" is required; only an activity naming a listing ` +
				`(listing, listing_id, mls_number or mlsid) may leave it out, as a listing view`)
		}
		a.Action = leadwire.ActionViewedListing
	}
	return a, nil
}

// join names a field inside an object for error messages.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// typeError reports a field of the wrong type.
func typeError(path, want string, v any) error {
	return invalid("field %q: expected %s, got %s", path, want, kindOf(v))
}

// kindOf names the JSON type of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
