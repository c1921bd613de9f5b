package wire

import (
	"slices"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeLeadUpdate(t *testing.T) {
	tests := []struct {
		name, body    string
		status, notes string // "-" for nil
		msg           string // part of the error's message
	}{
		{"status", `{"status":"contacted"}`, "contacted", "-", ""},
		{"status trimmed", `{"status":" closed "}`, "closed", "-", ""},
		{"notes", `{"notes":"Left a voicemail"}`, "-", "Left a voicemail", ""},
		{"both", `{"status":"spam","notes":"bot"}`, "spam", "bot", ""},
		{"nothing", `{}`, "", "", "nothing to change"},
		{"unknown status", `{"status":"won"}`, "", "", `"won" is none of new, contacted`},
		{"status a number", `{"status":1}`, "", "", `field "status": expected a string, got number`},
		{"status null", `{"status":null}`, "", "", `field "status": expected a string, got null`},
		{"empty notes", `{"notes":"  "}`, "", "", `"notes" is empty`},
		{"unknown field", `{"status":"new","stauts":"x"}`, "", "", `unknown field "stauts"`},
		{"array", `[]`, "", "", "top level"},
		{"malformed", `{"status":`, "", "", "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := DecodeLeadUpdate("application/json", []byte(tt.body))
			if tt.msg != "" {
				if leadwire.ErrorCode(err) != leadwire.EINVALID || !strings.Contains(leadwire.ErrorMessage(err), tt.msg) {
					t.Fatalf("error %v, want invalid naming %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := deref(u.Status); got != tt.status {
				t.Errorf("status %q, want %q", got, tt.status)
			}
			if got := deref(u.Notes); got != tt.notes {
				t.Errorf("notes %q, want %q", got, tt.notes)
			}
		})
	}
	if _, err := DecodeLeadUpdate("text/html", []byte(`{"status":"new"}`)); leadwire.ErrorCode(err) != leadwire.EUNSUPPORTED {
		t.Errorf("text/html: %v, want unsupported", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// FuzzDecodeLeadUpdate: any body is a client error or an update with a
// known status or non-empty notes.
func FuzzDecodeLeadUpdate(f *testing.F) {
	for _, s := range []string{`{"status":"contacted"}`, `{"notes":"x"}`, `{"status":1}`, `{}`, `[`, `{"a":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		u, err := DecodeLeadUpdate("application/json", []byte(body))
		if err != nil {
			checkClientError(t, err)
			return
		}
		if u.Status == nil && u.Notes == nil {
			t.Fatal("an update that changes nothing")
		}
		if u.Status != nil && !slices.Contains(leadwire.Statuses, *u.Status) {
			t.Fatalf("status %q", *u.Status)
		}
	})
}
