// Package leadwire is the domain of a lead-capture CRM: leads captured from
// website forms, the contacts they belong to, the channels they arrive on and
// the activity timeline of each lead. It holds plain types, their validation
// and normalization rules, and the service interfaces every store implements.
// It does no I/O.
package leadwire

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// DefaultSourceType is the source type of a lead that names none.
const DefaultSourceType = "Website"

// Lead statuses. A lead starts new; an agent moves it on.
const (
	StatusNew         = "new"
	StatusContacted   = "contacted"
	StatusQualified   = "qualified"
	StatusUnqualified = "unqualified"
	StatusClosed      = "closed"
	StatusSpam        = "spam"
)

// Statuses lists the lead statuses in the order a lead moves through them.
var Statuses = []string{StatusNew, StatusContacted, StatusQualified, StatusUnqualified, StatusClosed, StatusSpam}

// DefaultPhoneRegion is the region assumed for phone numbers written
// without a country code.
const DefaultPhoneRegion = "US"

// Lead is one person who asked to be contacted, as captured from one form
// submission (or one <Lead> of an XML lead list).
type Lead struct {
	ID        string    // UUID, time-ordered
	ChannelID string    // the channel the lead arrived on
	ContactID string    // the contact the lead was matched to or created as
	CreatedAt time.Time // when the lead was stored

	// Payload holds the normalized fields, as returned in parsed_payload.
	Payload Payload
	// Raw is the lead as received, as one JSON object (raw_payload).
	Raw json.RawMessage

	// Timeline is the lead's activity, oldest first. Filled only by
	// queries that ask for it.
	Timeline []*Activity

	// Status is where the lead stands, one of the Status constants; a new
	// lead is StatusNew.
	Status string
	// RespondedAt is when the lead first left StatusNew, zero until then:
	// RespondedAt - CreatedAt is the lead's response time.
	RespondedAt time.Time

	// Source is where the capture came from.
	Source Source
	// SpamReasons say why screening quarantined the lead, when it did.
	SpamReasons []string

	payloadJSON []byte // see PayloadJSON
}

// PayloadJSON returns Payload encoded as JSON. The first call encodes it and
// later calls return the same bytes, so that the store writing a lead and
// the API answering with it encode it once: change Payload only before the
// first call.
func (l *Lead) PayloadJSON() ([]byte, error) {
	if l.payloadJSON == nil {
		b, err := json.Marshal(&l.Payload)
		if err != nil {
			return nil, err
		}
		l.payloadJSON = b
	}
	return l.payloadJSON, nil
}

// Attribution says who and what brought a lead: the user and brand it is
// attributed to and the campaigns it came from.
type Attribution struct {
	UserID               string `json:"user_id,omitempty"`
	BrandID              string `json:"brand_id,omitempty"`
	AdCampaignID         string `json:"ad_campaign_id,omitempty"`
	EmailCampaignID      string `json:"email_campaign_id,omitempty"`
	EmailCampaignEmailID string `json:"email_campaign_email_id,omitempty"`
}

// Payload is the content of a lead: every documented field, the attribution
// and anything else the form sent (Extra).
type Payload struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"` // as sent; contacts match on EmailKey
	// PhoneNumber is in E.164 form when it could be parsed, else as sent.
	PhoneNumber string `json:"phone_number,omitempty"`
	// PhoneNumberOriginal is the phone number as sent, when it differs.
	PhoneNumberOriginal string `json:"phone_number_original,omitempty"`
	// Tag labels the lead ("buyer", "open-house"); sent as tag or tags,
	// as one string or a list.
	Tag        []string `json:"tag,omitempty"`
	LeadSource string   `json:"lead_source,omitempty"` // who sent the lead: "Zillow", "Listing page"
	Note       string   `json:"note,omitempty"`        // what the visitor wrote
	Address    *Address `json:"address,omitempty"`     // the visitor's address, as sent
	RefererURL string   `json:"referer_url,omitempty"` // the page the form was on
	MLSID      string   `json:"mlsid,omitempty"`       // the MLS number of the listing asked about
	ListingID  string   `json:"listing_id,omitempty"`  // the id of the listing asked about
	AgentMLSID string   `json:"agent_mlsid,omitempty"` // the listing agent's MLS id
	// SourceType is the kind of source; DefaultSourceType when missing.
	SourceType string `json:"source_type,omitempty"`
	// Assignees name the agents who should follow the lead up.
	Assignees []Assignee `json:"assignees,omitempty"`
	Listing   *Listing   `json:"listing,omitempty"` // the listing the lead is about
	Attribution
	// Extra holds the fields nobody documented (message, budget, ...),
	// keyed by the name the form used.
	Extra Fields `json:"extra,omitempty"`

	// phoneKey is the match key Normalize found when it left phoneKeyOf in
	// PhoneNumber: parsing a number costs microseconds outside North
	// America, so the store takes the key from here rather than parse the
	// number a second time; see PhoneKey.
	phoneKey, phoneKeyOf string
}

// Fields holds the fields of an object nobody documented, keyed as sent,
// with their JSON values: string, json.Number, bool, nil, []any and
// map[string]any. Numbers stay json.Number, decoded from stored JSON too: a
// lead may carry any number JSON can write (1e999, a thirty-digit id), most
// of which no float64 holds, and reading it back must neither fail nor
// change it.
type Fields map[string]any

// UnmarshalJSON decodes an object with its numbers as json.Number.
func (f *Fields) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := unmarshalNumbers(b, &m); err != nil {
		return err
	}
	*f = m
	return nil
}

// unmarshalNumbers is json.Unmarshal with numbers in untyped values
// (any, map[string]any) read as json.Number.
func unmarshalNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// messageKey is the key of Extra that holds what the visitor wrote when a
// form names it "message", as nearly every website does.
const messageKey = "message"

// Message returns what the visitor wrote in a field named "message", or
// "".
func (p *Payload) Message() string {
	message, _ := p.Extra[messageKey].(string)
	return message
}

// Validate reports an EINVALID error when the payload says nothing about
// who to contact or why: no first or last name, email, phone number, note
// or message. Such a lead is a bot or a broken form, and a person would
// only have to throw it away.
func (p *Payload) Validate() error {
	for _, s := range []string{p.FirstName, p.LastName, p.Email, p.PhoneNumber, p.Note, p.Message()} {
		if strings.TrimSpace(s) != "" {
			return nil
		}
	}
	return Errorf(EINVALID, "the lead is empty: send at least one of first_name, last_name, email, phone_number, note or message")
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
// Property is free-form (address, beds, baths, ...).
type Listing struct {
	ID            string  `json:"id,omitempty"`
	URL           string  `json:"url,omitempty"`
	MLS           string  `json:"mls,omitempty"`
	MLSNumber     string  `json:"mls_number,omitempty"`
	Price         float64 `json:"price,omitempty"`
	CoverImageURL string  `json:"cover_image_url,omitempty"`
	Property      Fields  `json:"property,omitempty"`
}

// Normalize trims every text field, puts phone numbers in E.164 form
// (keeping the original), drops empty tags and assignees and sets the
// default source type.
func (p *Payload) Normalize() {
	for _, s := range []*string{&p.FirstName, &p.LastName, &p.Email, &p.LeadSource,
		&p.Note, &p.RefererURL, &p.MLSID, &p.ListingID, &p.AgentMLSID,
		&p.SourceType, &p.UserID, &p.BrandID, &p.AdCampaignID, &p.EmailCampaignID,
		&p.EmailCampaignEmailID} {
		*s = strings.TrimSpace(*s)
	}
	p.Address = p.Address.normalized()
	p.PhoneNumber, p.PhoneNumberOriginal, p.phoneKey = normalizePhone(p.PhoneNumber)
	p.phoneKeyOf = p.PhoneNumber
	if p.SourceType == "" {
		p.SourceType = DefaultSourceType
	}
	tags := p.Tag[:0]
	for _, t := range p.Tag {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	p.Tag = tags
	if len(p.Tag) == 0 {
		p.Tag = nil
	}
	assignees := p.Assignees[:0]
	for _, a := range p.Assignees {
		for _, s := range []*string{&a.Email, &a.FirstName, &a.LastName, &a.MLSID, &a.MLS} {
			*s = strings.TrimSpace(*s)
		}
		a.PhoneNumber, _, _ = normalizePhone(a.PhoneNumber)
		if a != (Assignee{}) {
			assignees = append(assignees, a)
		}
	}
	p.Assignees = assignees
	if len(p.Assignees) == 0 {
		p.Assignees = nil
	}
	if len(p.Extra) == 0 {
		p.Extra = nil
	}
}

// EmailKey is the form of an email address used to match contacts:
// trimmed and lower-cased; "" for none, or for text longer than any
// address (MaxEmailLen), which matches nobody.
func EmailKey(email string) string {
	if k := strings.ToLower(strings.TrimSpace(email)); len(k) <= MaxEmailLen {
		return k
	}
	return ""
}

// MaxEmailLen is the longest email address, in bytes (RFC 5321's path of
// 256 bytes, less its angle brackets).
const MaxEmailLen = 254

// PhoneKey is the E.164 form of a phone number used to match contacts, or
// "" when the number cannot be parsed.
func PhoneKey(phone string) string {
	e164, _ := parsePhone(strings.TrimSpace(phone))
	return e164
}

// PhoneKey is the key of p.PhoneNumber used to match contacts: the E.164
// form Normalize found for it, or PhoneKey(p.PhoneNumber) for a number
// Normalize did not leave there.
func (p *Payload) PhoneKey() string {
	if p.PhoneNumber == p.phoneKeyOf {
		return p.phoneKey
	}
	return PhoneKey(p.PhoneNumber)
}

// normalizePhone returns the E.164 form of phone and, when that differs from
// what was sent, the trimmed original; key is the E.164 form too. A number
// that cannot be parsed is returned trimmed, with no original and no key.
func normalizePhone(phone string) (number, original, key string) {
	phone = strings.TrimSpace(phone)
	e164, ok := parsePhone(phone)
	switch {
	case !ok:
		return phone, "", ""
	case e164 == phone:
		return e164, "", e164
	default:
		return e164, phone, e164
	}
}

// parsePhone parses phone (default region US) and reports whether it is a
// possible number.
func parsePhone(phone string) (e164 string, ok bool) {
	if phone == "" {
		return "", false
	}
	if e164, ok := parseNANP(phone); ok {
		return e164, true
	}
	if e164, ok := parseInternational(phone); ok {
		return e164, true
	}
	n, err := phonenumbers.Parse(phone, DefaultPhoneRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// parseNANP parses the plain North American forms nearly every US lead
// arrives in ("(214) 555-0101", "214.555.0101", "+1 214 555 0101") without
// the phone library, whose general parser costs several microseconds a
// number on the capture path. It accepts only digits, spaces, dots, dashes
// and parentheses after an optional "+", and ten national digits whose
// area code starts with 2-9 (the library reads an exchange starting with 0
// or 1, a typing slip, as it is written, and so does this); everything
// else, or anything it is unsure of, goes to the library.
// TestParseNANPAgreesWithLibrary holds it to the library's answers.
func parseNANP(phone string) (string, bool) {
	if len(phone) > 32 {
		return "", false
	}
	var digits [11]byte
	n, ok := typedDigits(strings.TrimPrefix(phone, "+"), digits[:])
	if !ok {
		return "", false
	}
	national := digits[:n]
	switch {
	case n == 11 && digits[0] == '1':
		national = digits[1:n]
	case n != 10 || phone[0] == '+':
		return "", false
	}
	if national[0] < '2' {
		return "", false
	}
	return "+1" + string(national), true
}

// typedDigits copies the digits of a number as people type it into buf:
// digits with spaces, dots, dashes and parentheses between them. It reports
// false for any other character, or more digits than buf holds.
func typedDigits(phone string, buf []byte) (n int, ok bool) {
	for i := 0; i < len(phone); i++ {
		switch c := phone[i]; {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return 0, false
			}
			buf[n] = c
			n++
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
		default:
			return 0, false
		}
	}
	return n, true
}

// parseInternational parses the plain international forms visitors from
// abroad type ("+44 20 7946 0958", "+33 6 12 34 56 78") without the phone
// library's general parser, whose patterns for extensions and viable
// numbers cost about 10 µs a number. It accepts "+", a country code and a
// national number of digits, spaces, dots, dashes and parentheses, when the
// national number is one the library would keep as written: it starts with
// neither 0 nor the country's national prefix (so nothing is stripped or
// transformed) and has a possible length. Everything else goes to the
// library. TestParseInternationalAgreesWithLibrary holds it to the
// library's answers for every country.
func parseInternational(phone string) (string, bool) {
	if len(phone) > 40 || len(phone) < 2 || phone[0] != '+' {
		return "", false
	}
	var digits [20]byte
	n, ok := typedDigits(phone[1:], digits[:])
	if !ok || n < 6 || digits[0] == '0' {
		return "", false
	}
	for ccLen := 1; ccLen <= 3; ccLen++ {
		cc, _ := strconv.Atoi(string(digits[:ccLen]))
		if phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
			continue // as the library does, try a longer code
		}
		prefix, ok := nationalPrefixes()[cc]
		if !ok {
			return "", false
		}
		national := string(digits[ccLen:n])
		if len(national) < 2 || len(national) > 17 || national[0] == '0' ||
			(prefix != nil && prefix.MatchString(national)) {
			return "", false
		}
		code := int32(cc)
		number, _ := strconv.ParseUint(national, 10, 64)
		if !phonenumbers.IsPossibleNumber(&phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &number}) {
			return "", false
		}
		return "+" + string(digits[:n]), true
	}
	return "", false
}

// nationalPrefixes maps every country calling code to the pattern of the
// national prefix the phone library strips from national numbers of that
// code (nil when there is none), anchored at the start.
var nationalPrefixes = sync.OnceValue(func() map[int]*regexp.Regexp {
	all, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err) // the library's embedded data
	}
	byRegion := make(map[string]*phonenumbers.PhoneMetadata)
	nonGeographic := make(map[int32]*phonenumbers.PhoneMetadata)
	for _, m := range all.GetMetadata() {
		if m.GetId() == "001" {
			nonGeographic[m.GetCountryCode()] = m
		} else {
			byRegion[m.GetId()] = m
		}
	}
	prefixes := make(map[int]*regexp.Regexp)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		// The library reads a number of a shared code (+44: GB, GG, IM,
		// JE) with the metadata of the code's main region.
		m := byRegion[phonenumbers.GetRegionCodeForCountryCode(cc)]
		if m == nil {
			m = nonGeographic[int32(cc)]
		}
		if m == nil {
			continue
		}
		var prefix *regexp.Regexp
		if p := m.GetNationalPrefixForParsing(); p != "" {
			prefix = regexp.MustCompile("^(?:" + p + ")")
		}
		prefixes[cc] = prefix
	}
	return prefixes
})
