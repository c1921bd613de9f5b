package wire

import (
	"github.com/leadwire/leadwire"
)

// DecodeAssignees decodes the body of PUT /leads/{lead_id}/assignees: a
// JSON array of assignee objects, each read as the assignees of a captured
// lead are (mls_id is read as mlsid, ids may be numbers), and normalized
// as theirs are. Errors name the element and field, as in
// `field "assignees[1].email"`.
func DecodeAssignees(mediaType string, body []byte) ([]leadwire.Assignee, error) {
	if _, _, err := parseMediaType(mediaType, activityTypes, false); err != nil {
		return nil, err
	}
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	v, err := decodeJSONValue(body)
	if err != nil {
		return nil, err
	}
	// null would read as no assignees; a client clearing the list sends [].
	if _, ok := v.([]any); !ok {
		return nil, invalid("expected a JSON array of assignees at the top level, got %s", kindOf(v))
	}
	var r fieldReader
	assignees := r.assignees("assignees", v)
	if r.err != nil {
		return nil, r.err
	}
	return leadwire.NormalizeAssignees(assignees), nil
}
