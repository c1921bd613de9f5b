package wire

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The bodies the decoders' fuzz tests start from live here, in one list,
// so that the fuzz tests and the test that stores every accepted body and
// reads it back (store_test.go) read the same bodies.

// Seed is a request body for a decoder's fuzz test.
type Seed struct {
	Fuzz        string // the fuzz test it seeds
	ContentType string // as the fuzz test decodes it
	Body        []byte
}

// The fuzz tests of the decoders.
const (
	fuzzJSON      = "FuzzDecodeJSON"
	fuzzForm      = "FuzzDecodeForm"
	fuzzMultipart = "FuzzDecodeMultipart"
	fuzzXML       = "FuzzDecodeXML"
	fuzzActivity  = "FuzzDecodeActivity"
)

// leadFuzzTypes is the content type each lead fuzz test decodes its
// bodies as; FuzzDecodeActivity fuzzes the content type too.
var leadFuzzTypes = map[string]string{
	fuzzJSON:      "application/json",
	fuzzForm:      formType,
	fuzzMultipart: "multipart/form-data; boundary=" + testBoundary,
	fuzzXML:       "application/xml",
}

// jsonSeeds are lead bodies that reach every documented field and type.
var jsonSeeds = []string{
	`{}`,
	`{"first_name":"John","last_name":"Doe","email":"john-doe@gmail.com","phone_number":"+18189191212"}`,
	`{"email":"a@b.co","tag":["buyer","hot"],"tags":"x","lead_source":"Zillow","note":"Call me","address":"1 Main St","referer_url":"https://example.com","mlsid":1234,"listing_id":"L1","agent_mlsid":"A1","source_type":"Website"}`,
	`{"first_name":"U","user_id":"u","brand_id":"b","ad_campaign_id":"ad","email_campaign_id":"ec","email_campaign_email_id":"ece","lead_channel":"2c55e69d-adbe-42d9-97a5-bedb43783b80"}`,
	`{"note":"n","assignees":[{"email":"agent@example.com","phone_number":2145550100,"first_name":"Ann","last_name":"Agent","mls_id":"X9","mls":"NTREIS"}]}`,
	`{"email":"l@x.co","listing":{"id":"l1","price":"450000","mls_number":123,"cover_image_url":"https://example.com/c.jpg","property":{"address":{"street_address":"1 Main","city":"Dallas","state_code":"TX","postal_code":"75201"}}}}`,
	`{"message":"Hi","budget":5e5,"preferred_time":null,"newsletter":true,"pets":["dog",{"cat":1}]}`,
	`{"email":"a@x.com","budget":1e999,"min":-1e400,"tiny":1e-400,"max":1.8e308,"id":123456789012345678901234567890}`,
	`{"email":"a@x.com","extra":{"n":[1e999,{"m":-1e400}]},"listing":{"property":{"sqft":1e999,"rooms":[1e-400]}}}`,
	`{"phone":"(214) 555-0100","phone_number":"+18189191212","mlsid":1234,"agent_mlsid":98765432109876543210}`,
	`{"phone":2145550100}`,
	`{"first_name":"A","address":{"street_number":123,"street_dir_prefix":"N","street_name":"Main","street_suffix":"St","unit_number":"4B","city":"Dallas","state_code":"TX","postal_code":75201,"country":"US","county":"Dallas","geo":{"lat":32.78,"lng":-96.8}}}`,
	`{"email":"a@x.com","address":{"line1":"1 Main St","line2":"Apt 2","full":"1 Main St, Apt 2, Dallas TX"}}`,
	`{"email":"a@x.com","address":{"street_address":"","full_address":" "}}`,
	`{"email":"a@x.com","address":7}`,
	`{"tag":"only a tag"}`,
	`{"first_name": 12}`,
	`{"a":[[[[[[]]]]]]}`,
	`[1,2]`,
	`{"note":"\ud83d\ude00 \u00e9"}`,
}

// formSeeds are URL-encoded lead bodies.
var formSeeds = []string{
	``,
	`first_name=John&last_name=Doe&email=john-doe%40gmail.com&phone_number=%2B18189191212`,
	`email=a%40x.com&tag=a&tag=b&tags[]=c&message=Hello+there&budget=1&budget=2`,
	`message=hi&assignees[0][email]=a%40x.com&assignees[0][mls_id]=M1&assignees[1][email]=b%40x.com`,
	`note=n&assignees[][email]=a%40x.com&assignees[][first_name]=Ann&assignees[][email]=b%40x.com`,
	`email=a%40x.com&listing[price]=450000&listing[property][address][city]=Dallas&listing[mls_number]=9`,
	`first_name=Jo&address[street_address]=1+Main+St&address[city]=Dallas&address[postal_code]=75201&address[gate]=7`,
	`phone=214-555-0100&address=1+Main+St`,
	`listing=x&listing[price]=1`,
	`a[b=1&c]d=2&[e]=3&f[g]h=4&flag`,
	`first_name=%zz`,
	`utm[source]=fb&utm[0]=x&utm[]=y`,
}

// xmlSeeds are lead lists.
var xmlSeeds = []string{
	leadListXML,
	`<Lead><Contact><Email>a@b.co</Email></Contact></Lead>`,
	`<Lead><Contact><PhoneList><Phone>+12145550100</Phone><Phone>1</Phone></PhoneList></Contact><Tags>solo</Tags></Lead>`,
	`<l:LeadList xmlns:l="urn:x"><l:Lead id="1"><Note>n</Note><Budget currency="USD">5</Budget></l:Lead></l:LeadList>`,
	`<LeadList><Lead/><Lead><Note><p>x</p></Note></Lead></LeadList>`,
	`<LeadList><Lead><Note>a</Note></Lead><Lead/></LeadList>`,
	`<Lead><Note>n</Note><Address><Street>1 Main St</Street><City>Dallas</City><Zip>75201</Zip><Country>US</Country><Unit>4</Unit></Address></Lead>`,
	"<LeadList>" + strings.Repeat("<Lead><Note>n</Note></Lead>", DefaultMaxLeads+1) + "</LeadList>",
	billionLaughs,
	`<Lead>text<a>1</a>more</Lead>`,
}

// multipartSeeds are multipart forms.
var multipartSeeds = [][]multipartPart{
	{},
	{field("first_name", "Jane"), field("email", "jane@example.com"), field("tag", "a"), field("tag", "b")},
	{field("assignees[0][email]", "a@x.com"), field("listing[price]", "300000"), field("message", "Hi")},
	{field("first_name", "Jane"), filePart("resume", "cv.pdf", "application/pdf", "%PDF-1.4 \xff\xfe")},
	{filePart("empty", "", "", ""), field("note", "n")},
	{field("phone", "2145550100"), field("address[city]", "Dallas"), field("address[line1]", "1 Main St")},
}

// activitySeeds are timeline bodies with their content types: every
// activity field, and bodies refused for their action or content type.
var activitySeeds = []struct{ contentType, body string }{
	{"application/json", `{"action":"ContactViewedListing","listing":{"id":"l1","mls_number":"123","price":450000,"property":{"beds":3,"sqft":1e999},"open_house":"Sat"},"notes":"n"}`},
	{"text/plain;charset=UTF-8", `{"action":"ContactSearchedListings","search":{"url":"https://example.com/s","minimum_price":1,"property_types":["Condo"],"postal_codes":[75201],"pool":true,"minimum_square_meters":90}}`},
	{"application/json", `{"action":"ContactSignedUp","idempotency_key":"k","n":-1e400}`},
	{"application/json", `{"listing_id":"1841395151"}`},
	{"application/json", `{"mlsid":1841395151,"notes":"from the plugin"}`},
	{"application/json", `{"mls_number":"123","listing":{"url":"https://example.com/l"}}`},
	{"application/json", `{"notes":"no action, no listing"}`},
	{"application/json", `{"action":"bad action"}`},
	{"application/xml", `<a/>`},
	{"", `{}`},
}

// Seeds returns every seed of the decoders' fuzz tests followed by the
// entries of their corpus under testdata/fuzz, which go test runs too.
func Seeds(tb testing.TB) []Seed {
	tb.Helper()
	var seeds []Seed
	add := func(fuzz string, bodies ...string) {
		for _, b := range bodies {
			seeds = append(seeds, Seed{fuzz, leadFuzzTypes[fuzz], []byte(b)})
		}
	}
	add(fuzzJSON, jsonSeeds...)
	add(fuzzForm, formSeeds...)
	for _, parts := range multipartSeeds {
		_, body := multipartBody(tb, parts...)
		add(fuzzMultipart, string(body))
	}
	add(fuzzXML, xmlSeeds...)
	for _, s := range activitySeeds {
		seeds = append(seeds, Seed{fuzzActivity, s.contentType, []byte(s.body)})
	}
	for fuzz, contentType := range leadFuzzTypes {
		for _, values := range corpus(tb, fuzz) {
			if len(values) == 1 {
				seeds = append(seeds, Seed{fuzz, contentType, values[0]})
			}
		}
	}
	for _, values := range corpus(tb, fuzzActivity) {
		if len(values) == 2 {
			seeds = append(seeds, Seed{fuzzActivity, string(values[0]), values[1]})
		}
	}
	return seeds
}

// seedsOf returns the seeds of one fuzz test, for f.Add; go test reads
// its corpus itself.
func seedsOf(f *testing.F, fuzz string) []Seed {
	var out []Seed
	for _, s := range Seeds(f) {
		if s.Fuzz == fuzz {
			out = append(out, s)
		}
	}
	return out
}

// corpus reads the entries go test keeps under testdata/fuzz/<fuzz>: each
// file is a header line and one Go literal a line, string("...") or
// []byte("...").
func corpus(tb testing.TB, fuzz string) [][][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", fuzz, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var entries [][][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		entry, err := corpusEntry(b)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		entries = append(entries, entry)
	}
	return entries
}

// corpusEntry reads the values of one corpus file.
func corpusEntry(file []byte) ([][]byte, error) {
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, strconv.ErrSyntax
	}
	var values [][]byte
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		lit, ok := strings.CutPrefix(line, "[]byte(")
		if !ok {
			lit, ok = strings.CutPrefix(line, "string(")
		}
		lit, closed := strings.CutSuffix(lit, ")")
		if !ok || !closed {
			return nil, strconv.ErrSyntax
		}
		s, err := strconv.Unquote(lit)
		if err != nil {
			return nil, err
		}
		values = append(values, []byte(s))
	}
	return values, sc.Err()
}

func TestSeedsReadTheCorpus(t *testing.T) {
	// Seeds includes the corpus entries under testdata/fuzz, each with
	// the content type its fuzz test decodes it as.
	want := []Seed{
		{fuzzJSON, "application/json", []byte(`{"email":"a@x.com","budget":1e999,"rooms":[-1e400,{"n":1e-400}]}`)},
		{fuzzActivity, "text/plain;charset=UTF-8", []byte(`{"listing_id":"1841395151","listing":{"property":{"sqft":1e999}}}`)},
	}
	seeds := Seeds(t)
	for _, w := range want {
		if !slices.ContainsFunc(seeds, func(s Seed) bool {
			return s.Fuzz == w.Fuzz && s.ContentType == w.ContentType && bytes.Equal(s.Body, w.Body)
		}) {
			t.Errorf("corpus entry %s %s %s missing from Seeds", w.Fuzz, w.ContentType, w.Body)
		}
	}
	for _, bad := range []string{"", "go test fuzz v1\nint(1)\n", "go test fuzz v1\n[]byte(\"x)\n", "v2\n[]byte(\"x\")\n"} {
		if _, err := corpusEntry([]byte(bad)); err == nil {
			t.Errorf("corpusEntry(%q) read a malformed file", bad)
		}
	}
}
