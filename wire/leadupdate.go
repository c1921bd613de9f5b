package wire

import (
	"slices"
	"sort"
	"strings"

	"github.com/leadwire/leadwire"
)

// DecodeLeadUpdate decodes the body of PATCH /api/leads/{lead_id}: a JSON
// object with "status" (one of leadwire.Statuses) and "notes", both
// optional strings, at least one given. Any other key is an error naming
// it, so that a misspelt field is not silently ignored.
func DecodeLeadUpdate(mediaType string, body []byte) (leadwire.LeadUpdate, error) {
	var u leadwire.LeadUpdate
	if _, _, err := parseMediaType(mediaType, activityTypes, false); err != nil {
		return u, err
	}
	if err := checkUTF8(body); err != nil {
		return u, err
	}
	obj, err := decodeJSONObjectStd(body)
	if err != nil {
		return u, err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		s, ok := v.(string)
		switch {
		case k != "status" && k != "notes":
			return u, invalid("unknown field %q; a lead update has status and notes", k)
		case !ok:
			return u, typeError(k, "a string", v)
		case k == "status":
			s = strings.TrimSpace(s)
			if !slices.Contains(leadwire.Statuses, s) {
				return u, invalid("field \"status\": %q is none of %s", s, strings.Join(leadwire.Statuses, ", "))
			}
			u.Status = &s
		default:
			if strings.TrimSpace(s) == "" {
				return u, invalid("field \"notes\" is empty")
			}
			u.Notes = &s
		}
	}
	if u.Status == nil && u.Notes == nil {
		return u, invalid("nothing to change: send status, notes or both")
	}
	return u, nil
}
