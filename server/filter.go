package server

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
)

// Page sizes of GET /api/leads.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// maxCursorLen bounds a cursor: longer ones are mistakes or abuse (the
// store bounds q itself).
const maxCursorLen = 512

// filterParams are the query parameters that select leads, for the list
// and the export alike; pageParams only page the list.
var (
	filterParams = []string{"channel", "contact", "status", "assignee", "tag", "since", "until", "q"}
	pageParams   = []string{"limit", "cursor"}
)

// parseLeadFilter reads the query parameters of GET /api/leads (paged
// true) or of the CSV export (paged false, which lists every lead). An
// empty parameter is no filter, as a form without JavaScript sends its
// empty fields. Anything it cannot read is an EINVALID error naming the
// parameter: a typo must not silently widen what is listed.
func parseLeadFilter(q url.Values, paged bool) (leadwire.LeadFilter, error) {
	known := filterParams
	if paged {
		known = slices.Concat(filterParams, pageParams)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(known, k) {
			return leadwire.LeadFilter{}, leadwire.Errorf(leadwire.EINVALID, "unknown query parameter %q; known: %s", k, strings.Join(known, ", "))
		}
		if len(q[k]) > 1 {
			return leadwire.LeadFilter{}, leadwire.Errorf(leadwire.EINVALID, "query parameter %q is given %d times; give it once", k, len(q[k]))
		}
	}
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := leadwire.LeadFilter{
		ChannelID: get("channel"),
		ContactID: get("contact"),
		Status:    get("status"),
		Assignee:  get("assignee"),
		Tag:       get("tag"),
		Query:     get("q"),
	}
	if f.ChannelID != "" && !leadwire.IsCanonicalID(f.ChannelID) {
		return f, leadwire.Errorf(leadwire.EINVALID, "channel %q is not a lead channel id (a lower-case UUID with dashes)", f.ChannelID)
	}
	if f.ContactID != "" && !leadwire.IsCanonicalID(f.ContactID) {
		return f, leadwire.Errorf(leadwire.EINVALID, "contact %q is not a contact id (a lower-case UUID with dashes)", f.ContactID)
	}
	if f.Status != "" && !slices.Contains(leadwire.Statuses, f.Status) {
		return f, leadwire.Errorf(leadwire.EINVALID, "status %q is none of %s", f.Status, strings.Join(leadwire.Statuses, ", "))
	}
	var err error
	if f.Since, err = parseTime("since", get("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", get("until")); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, leadwire.Errorf(leadwire.EINVALID, "since (%s) is not before until (%s)", get("since"), get("until"))
	}
	if !paged {
		return f, nil
	}
	f.Limit = defaultPageSize
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return f, leadwire.Errorf(leadwire.EINVALID, "limit %q is not a whole number from 1 to %d", v, maxPageSize)
		}
		f.Limit = n
	}
	if f.Cursor = get("cursor"); len(f.Cursor) > maxCursorLen {
		return f, leadwire.Errorf(leadwire.EINVALID, "cursor is not one this server gave out")
	}
	return f, nil
}

// parseTime reads a time as RFC 3339 (2026-03-01T09:00:00Z, offsets
// allowed) or as Unix seconds, as the API writes created_at (1764060000
// or 1764060000.123). "" is the zero time.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if isUnixSeconds(v) {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs < 1e11 {
			ms := int64(secs*1000 + 0.5)
			return time.UnixMilli(ms).UTC(), nil
		}
	}
	return time.Time{}, leadwire.Errorf(leadwire.EINVALID, "%s %q is neither an RFC 3339 time (2026-03-01T09:00:00Z) nor Unix seconds (1772355600)", name, v)
}

// isUnixSeconds reports whether v is digits with at most one decimal
// point, so that ParseFloat's other forms (1e9, Inf, 0x1p3) are refused.
func isUnixSeconds(v string) bool {
	digits, frac, _ := strings.Cut(v, ".")
	if digits == "" {
		return false
	}
	for _, s := range []string{digits, frac} {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	return true
}
