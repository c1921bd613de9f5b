package wire

import (
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeBrandLead(t *testing.T) {
	const ch = "2c55e69d-adbe-42d9-97a5-bedb43783b80"
	tests := []struct {
		name, contentType, body string
		channel, lead           string // the lead as returned
		code, msg               string // the error's code and part of its message
	}{
		{"plugin body", "application/json", `{"metadata":{"lead_channel":"` + ch + `"},"lead":{"email":"a@example.com"}}`,
			ch, `{"email":"a@example.com"}`, "", ""},
		{"other keys ignored", "application/json; charset=utf-8", `{"metadata":{"lead_channel":"x","brand":"b"},"lead": {"note":"hi"} ,"v":2}`,
			"x", `{"note":"hi"}`, "", ""},
		{"no metadata", "application/json", `{"lead":{}}`, "", "", leadwire.EINVALID, "metadata.lead_channel"},
		{"null metadata", "application/json", `{"metadata":null,"lead":{}}`, "", "", leadwire.EINVALID, "metadata.lead_channel"},
		{"metadata not an object", "application/json", `{"metadata":[1],"lead":{}}`, "", "", leadwire.EINVALID, `"metadata": expected an object, got array`},
		{"no lead_channel", "application/json", `{"metadata":{},"lead":{}}`, "", "", leadwire.EINVALID, "metadata.lead_channel"},
		{"lead_channel a number", "application/json", `{"metadata":{"lead_channel":12},"lead":{}}`, "", "", leadwire.EINVALID, `"metadata.lead_channel": expected a string, got number`},
		{"no lead", "application/json", `{"metadata":{"lead_channel":"x"}}`, "", "", leadwire.EINVALID, `"lead" is required`},
		{"lead an array", "application/json", `{"metadata":{"lead_channel":"x"},"lead":[]}`, "", "", leadwire.EINVALID, `"lead": expected an object, got array`},
		{"top an array", "application/json", `[]`, "", "", leadwire.EINVALID, "top level"},
		{"top null", "application/json", `null`, "", "", leadwire.EINVALID, "top level"},
		{"malformed", "application/json", `{"metadata":`, "", "", leadwire.EINVALID, "malformed JSON"},
		{"trailing data", "application/json", `{} {}`, "", "", leadwire.EINVALID, "after the top-level value"},
		{"empty", "application/json", ``, "", "", leadwire.EINVALID, "empty body"},
		{"form", "application/x-www-form-urlencoded", `a=b`, "", "", leadwire.EUNSUPPORTED, "application/json"},
		{"too deep", "application/json", strings.Repeat("[", 40), "", "", leadwire.EINVALID, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			channel, lead, err := DecodeBrandLead(tt.contentType, []byte(tt.body))
			if tt.code != "" {
				if leadwire.ErrorCode(err) != tt.code || !strings.Contains(leadwire.ErrorMessage(err), tt.msg) {
					t.Fatalf("error %v, want %s naming %q", err, tt.code, tt.msg)
				}
				return
			}
			if err != nil || channel != tt.channel || string(lead) != tt.lead {
				t.Fatalf("got %q %q %v, want %q %q", channel, lead, err, tt.channel, tt.lead)
			}
		})
	}
}

// FuzzDecodeBrandLead: any body is a client error or a channel id with a
// lead object that the webhook's decoder reads, as an error or leads.
func FuzzDecodeBrandLead(f *testing.F) {
	for _, s := range []string{`{"metadata":{"lead_channel":"c"},"lead":{"email":"a@example.com"}}`,
		`{"metadata":{"lead_channel":1},"lead":{}}`, `{"lead":[]}`, `{}`, `[]`, `{"metadata":{"lead_channel":"c"},"lead":{"a":` + "\xff" + `}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, lead, err := DecodeBrandLead("application/json", []byte(body))
		if err != nil {
			checkClientError(t, err)
			return
		}
		if len(lead) == 0 || lead[0] != '{' {
			t.Fatalf("lead %q is not an object", lead)
		}
		leads, err := DecodeLeads("application/json", lead, 1)
		checkResult(t, leads, err)
	})
}
