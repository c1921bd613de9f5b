// Package followupboss forwards leads to Follow Up Boss as events
// (POST /v1/events): the person with their names, emails and phones, the
// property asked about, the message and the source. Follow Up Boss
// matches the person to one it has or creates them, and starts its action
// plans as for a lead from any lead source. Requests carry Basic auth with
// the account's API key and the X-System header naming leadwire.
package followupboss

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
)

// System is the X-System header's value: who sends the events.
const System = "leadwire"

// Event types, as Follow Up Boss names them.
const (
	TypeRegistration    = "Registration"     // someone left their details
	TypePropertyInquiry = "Property Inquiry" // someone asked about a listing
	TypeGeneralInquiry  = "General Inquiry"  // someone wrote a message
)

// Event is the body of POST /v1/events.
type Event struct {
	Source      string    `json:"source"`
	System      string    `json:"system"`
	Type        string    `json:"type"`
	Message     string    `json:"message,omitempty"`
	Description string    `json:"description,omitempty"`
	PageURL     string    `json:"pageUrl,omitempty"`
	Person      Person    `json:"person"`
	Property    *Property `json:"property,omitempty"`
}

// Person is the person an event is about.
type Person struct {
	FirstName string    `json:"firstName,omitempty"`
	LastName  string    `json:"lastName,omitempty"`
	Emails    []Value   `json:"emails,omitempty"`
	Phones    []Value   `json:"phones,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	Addresses []Address `json:"addresses,omitempty"`
}

// Value is one email or phone.
type Value struct {
	Value string `json:"value"`
}

// Address is a person's address.
type Address struct {
	Street  string `json:"street,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Code    string `json:"code,omitempty"`
	Country string `json:"country,omitempty"`
}

// Property is the listing an event is about.
type Property struct {
	Street    string  `json:"street,omitempty"`
	City      string  `json:"city,omitempty"`
	State     string  `json:"state,omitempty"`
	Code      string  `json:"code,omitempty"`
	MLSNumber string  `json:"mlsNumber,omitempty"`
	Price     float64 `json:"price,omitempty"`
	URL       string  `json:"url,omitempty"`
	Bedrooms  string  `json:"bedrooms,omitempty"`
	Bathrooms string  `json:"bathrooms,omitempty"`
}

// NewEvent returns the event of a lead: a Property Inquiry when it names a
// listing, a General Inquiry when the visitor wrote something, a
// Registration otherwise. Its source is the lead's source, or its source
// type.
func NewEvent(l *leadwire.Lead) *Event {
	p := &l.Payload
	e := &Event{Source: p.LeadSource, System: System, Type: TypeRegistration, PageURL: p.RefererURL,
		Message: strings.TrimSpace(p.Message() + "\n\n" + p.Note)}
	if e.Source == "" {
		e.Source = p.SourceType
	}
	if e.Message != "" {
		e.Type = TypeGeneralInquiry
	}
	e.Person = Person{FirstName: p.FirstName, LastName: p.LastName, Tags: p.Tag}
	if p.Email != "" {
		e.Person.Emails = []Value{{p.Email}}
	}
	if p.PhoneNumber != "" {
		e.Person.Phones = []Value{{p.PhoneNumber}}
	}
	if a := p.Address; a != nil {
		street := a.StreetAddress
		if street == "" {
			street = a.Text
		}
		e.Person.Addresses = []Address{{Street: street, City: a.City, State: a.StateCode, Code: a.PostalCode, Country: a.Country}}
	}
	if prop := property(p); prop != nil {
		e.Type, e.Property = TypePropertyInquiry, prop
	}
	return e
}

// property returns the listing a lead asked about, or nil.
func property(p *leadwire.Payload) *Property {
	prop := &Property{MLSNumber: p.MLSID}
	if l := p.Listing; l != nil {
		prop.URL, prop.Price = l.URL, l.Price
		if l.MLSNumber != "" {
			prop.MLSNumber = l.MLSNumber
		}
		// The listing's property is free-form: the usual names of each
		// field, first found first.
		for _, f := range []struct {
			to   *string
			keys []string
		}{
			{&prop.Street, []string{"street_address", "address", "street"}},
			{&prop.City, []string{"city"}},
			{&prop.State, []string{"state", "state_code"}},
			{&prop.Code, []string{"postal_code", "zip", "zip_code"}},
			{&prop.Bedrooms, []string{"bedrooms", "beds"}},
			{&prop.Bathrooms, []string{"bathrooms", "baths"}},
		} {
			for _, k := range f.keys {
				if v, ok := l.Property[k]; ok && v != nil {
					*f.to = fmt.Sprint(v)
					break
				}
			}
		}
	}
	if *prop == (Property{}) {
		return nil
	}
	return prop
}

// Deliverer sends leads to Follow Up Boss.
type Deliverer struct {
	Client *http.Client // nil means deliver.Client
}

// Deliver posts j's lead as an event to its destination's URL with its API
// key.
func (d *Deliverer) Deliver(ctx context.Context, j *deliver.Job) deliver.Result {
	body, err := json.Marshal(NewEvent(j.Lead))
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Destination.URL, bytes.NewReader(body))
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	req.SetBasicAuth(j.Destination.Secret, "")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-System", System)
	client := d.Client
	if client == nil {
		client = deliver.Client
	}
	return deliver.Send(client, req)
}
