package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

// checkResult fails unless err is a client error (EINVALID, EUNSUPPORTED
// or ETOOLARGE) or the leads are well formed: at least one, each valid,
// with a Raw that is a JSON object and a payload that marshals and reads
// back the same.
func checkResult(t *testing.T, leads []*leadwire.Lead, err error) {
	t.Helper()
	if err != nil {
		checkClientError(t, err)
		return
	}
	if len(leads) == 0 {
		t.Fatal("no error and no lead")
	}
	for i, l := range leads {
		if !json.Valid(l.Raw) || !bytes.HasPrefix(l.Raw, []byte("{")) {
			t.Fatalf("lead %d: raw %q is not a JSON object", i, l.Raw)
		}
		if err := l.Payload.Validate(); err != nil {
			t.Fatalf("lead %d: %v", i, err)
		}
		b, err := json.Marshal(l.Payload)
		if err != nil {
			t.Fatalf("lead %d: payload does not marshal: %v", i, err)
		}
		if escapesNUL(b) {
			t.Fatalf("lead %d: payload %s holds the NUL character", i, b)
		}
		var back leadwire.Payload
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("lead %d: payload %s does not read back: %v", i, b, err)
		}
		if again, _ := json.Marshal(back); !bytes.Equal(again, b) {
			t.Fatalf("lead %d: payload %s reads back as %s", i, b, again)
		}
	}
}

// checkClientError fails unless err is a *leadwire.Error blaming the
// request.
func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *leadwire.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *leadwire.Error", err, err)
	}
	if e.Code != leadwire.EINVALID && e.Code != leadwire.EUNSUPPORTED && e.Code != leadwire.ETOOLARGE {
		t.Fatalf("error code %q (%s), want invalid, unsupported_media_type or too_large", e.Code, e.Message)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	fuzzLeads(f, fuzzJSON, func(t *testing.T, leads []*leadwire.Lead) {
		if len(leads) != 1 {
			t.Fatalf("JSON gave %d leads", len(leads))
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	fuzzLeads(f, fuzzForm, nil)
}

func FuzzDecodeMultipart(f *testing.F) {
	fuzzLeads(f, fuzzMultipart, nil)
}

func FuzzDecodeXML(f *testing.F) {
	fuzzLeads(f, fuzzXML, func(t *testing.T, leads []*leadwire.Lead) {
		if len(leads) > DefaultMaxLeads {
			t.Fatalf("%d leads", len(leads))
		}
	})
}

// fuzzLeads decodes bodies as the lead fuzz test fuzz does, from its
// seeds, and checks every result; check, when not nil, checks the leads
// of a body that decodes.
func fuzzLeads(f *testing.F, fuzz string, check func(*testing.T, []*leadwire.Lead)) {
	for _, s := range seedsOf(f, fuzz) {
		f.Add(s.Body)
	}
	contentType := leadFuzzTypes[fuzz]
	f.Fuzz(func(t *testing.T, body []byte) {
		leads, err := DecodeLeads(contentType, body, 0)
		checkResult(t, leads, err)
		if err == nil && check != nil {
			check(t, leads)
		}
	})
}

func FuzzDecodeActivity(f *testing.F) {
	for _, s := range seedsOf(f, fuzzActivity) {
		f.Add(s.ContentType, s.Body)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		a, err := DecodeActivity(contentType, body)
		if err != nil {
			checkClientError(t, err)
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("decoded activity does not validate: %v", err)
		}
		if !json.Valid(a.Raw) || !bytes.HasPrefix(a.Raw, []byte("{")) {
			t.Fatalf("raw %q is not a JSON object", a.Raw)
		}
		if _, err := json.Marshal(NewActivityDoc(a)); err != nil {
			t.Fatalf("activity does not marshal: %v", err)
		}
	})
}

// FuzzEscapesNUL: escapesNUL finds the NUL character in the JSON encoding
// of any text, and only there.
func FuzzEscapesNUL(f *testing.F) {
	for _, s := range []string{"", "a\x00b", `\u0000`, `\\u0000`, "\\", "\x00", `"\u0000"`, "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, _ := json.Marshal(s)
		if got, want := escapesNUL(b), strings.ContainsRune(s, 0); got != want {
			t.Errorf("escapesNUL(%s) = %v, want %v", b, got, want)
		}
	})
}

// TestDecodeLeadsRefusesNUL: a lead holding the NUL character is a 400 in
// every format; the text \u0000 itself is a lead's like any other.
func TestDecodeLeadsRefusesNUL(t *testing.T) {
	for _, tc := range []struct{ mediaType, body string }{
		{"application/json", `{"first_name":"a\u0000b","email":"a@example.com"}`},
		{"application/json", `{"email":"a@example.com","extra":{"deep":["\u0000"]}}`},
		{"application/x-www-form-urlencoded", "first_name=a%00b&email=a%40example.com"},
	} {
		_, err := DecodeLeads(tc.mediaType, []byte(tc.body), 0)
		if leadwire.ErrorCode(err) != leadwire.EINVALID || !strings.Contains(leadwire.ErrorMessage(err), "NUL") {
			t.Errorf("%s %s: %v, want an invalid error naming NUL", tc.mediaType, tc.body, err)
		}
	}
	leads, err := DecodeLeads("application/json", []byte(`{"first_name":"back\\u0000slash"}`), 0)
	if err != nil || leads[0].Payload.FirstName != `back\u0000slash` {
		t.Errorf("a literal \\u0000: %v %v", leads, err)
	}
}
