package server

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

func TestParseLeadFilter(t *testing.T) {
	const ch = "2c55e69d-adbe-42d9-97a5-bedb43783b80"
	tests := []struct {
		name, query string
		paged       bool
		want        leadwire.LeadFilter
		msg         string // part of the error's message, "" for none
	}{
		{"defaults", "", true, leadwire.LeadFilter{Limit: 50}, ""},
		{"every filter", "channel=" + ch + "&status=contacted&assignee=a@example.com&tag=buyer&q=smith&limit=200&cursor=abc" +
			"&since=2026-03-01T09:00:00Z&until=1772400000.5", true,
			leadwire.LeadFilter{ChannelID: ch, Status: "contacted", Assignee: "a@example.com", Tag: "buyer", Query: "smith",
				Limit: 200, Cursor: "abc", Since: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Until: time.UnixMilli(1772400000500).UTC()}, ""},
		{"empty values are no filter", "channel=&status=&q=&limit=&since=", true, leadwire.LeadFilter{Limit: 50}, ""},
		{"export takes no limit", "limit=5", false, leadwire.LeadFilter{}, `unknown query parameter "limit"`},
		{"export filters", "tag=x", false, leadwire.LeadFilter{Tag: "x"}, ""},
		{"unknown parameter", "stauts=new", true, leadwire.LeadFilter{}, `unknown query parameter "stauts"`},
		{"repeated parameter", "tag=a&tag=b", true, leadwire.LeadFilter{}, `"tag" is given 2 times`},
		{"channel not an id", "channel=ABC", true, leadwire.LeadFilter{}, `channel "ABC" is not a lead channel id`},
		{"unknown status", "status=won", true, leadwire.LeadFilter{}, `status "won" is none of`},
		{"limit zero", "limit=0", true, leadwire.LeadFilter{}, `limit "0" is not a whole number from 1 to 200`},
		{"limit over", "limit=201", true, leadwire.LeadFilter{}, `limit "201"`},
		{"limit text", "limit=ten", true, leadwire.LeadFilter{}, `limit "ten"`},
		{"since malformed", "since=yesterday", true, leadwire.LeadFilter{}, `since "yesterday" is neither`},
		{"until exponent", "until=1e9", true, leadwire.LeadFilter{}, `until "1e9" is neither`},
		{"until negative", "until=-5", true, leadwire.LeadFilter{}, `until "-5"`},
		{"since after until", "since=200&until=100", true, leadwire.LeadFilter{}, `since (200) is not before until (100)`},
		{"cursor too long", "cursor=" + strings.Repeat("a", 513), true, leadwire.LeadFilter{}, "cursor is not one this server gave out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseLeadFilter(q, tt.paged)
			if tt.msg != "" {
				if leadwire.ErrorCode(err) != leadwire.EINVALID || !strings.Contains(leadwire.ErrorMessage(err), tt.msg) {
					t.Fatalf("error %v, want invalid naming %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !f.Since.Equal(tt.want.Since) || !f.Until.Equal(tt.want.Until) {
				t.Errorf("since, until = %v, %v, want %v, %v", f.Since, f.Until, tt.want.Since, tt.want.Until)
			}
			f.Since, f.Until, tt.want.Since, tt.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if f != tt.want {
				t.Errorf("filter %+v, want %+v", f, tt.want)
			}
		})
	}
}

// FuzzParseLeadFilter: any query string is a filter within the bounds or
// an EINVALID error, never a panic or another kind of error.
func FuzzParseLeadFilter(f *testing.F) {
	for _, s := range []string{"", "limit=10&cursor=x", "since=1772400000.5&until=2026-03-01T09:00:00%2B01:00",
		"status=new&q=a+b", "channel=2c55e69d-adbe-42d9-97a5-bedb43783b80", "limit=-1", "since=.5", "x=1&x=2"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, query string, paged bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		flt, err := parseLeadFilter(q, paged)
		if err != nil {
			if leadwire.ErrorCode(err) != leadwire.EINVALID {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if paged && (flt.Limit < 1 || flt.Limit > maxPageSize) || !paged && (flt.Limit != 0 || flt.Cursor != "") {
			t.Fatalf("limit %d, cursor %q (paged %v)", flt.Limit, flt.Cursor, paged)
		}
		if len(flt.Cursor) > maxCursorLen {
			t.Fatal("over the bounds")
		}
		if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Since.Before(flt.Until) {
			t.Fatal("since not before until")
		}
	})
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"Ann":                            "Ann",
		"=HYPERLINK(\"http://x\",\"a\")": "'=HYPERLINK(\"http://x\",\"a\")",
		"+12145550100":                   "'+12145550100",
		"-2+3":                           "'-2+3",
		"@SUM(A1)":                       "'@SUM(A1)",
		"\t=1":                           "'\t=1",
		"\r=1":                           "'\r=1",
		"a=1":                            "a=1",
		" =1":                            " =1",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCSVCell: no escaped cell begins with a character a spreadsheet
// reads as the start of a formula, and unescaping gives the cell back.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"=1+1", "+1", "-1", "@a", "\t", "\r", "a", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := csvCell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("csvCell(%q) = %q begins a formula", s, got)
		}
		if got != s && got != "'"+s {
			t.Fatalf("csvCell(%q) = %q changes more than a leading apostrophe", s, got)
		}
	})
}
