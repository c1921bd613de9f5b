package wire

import (
	"reflect"
	"testing"

	"github.com/leadwire/leadwire"
)

func TestDecodeAssignees(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    []leadwire.Assignee
	}{
		{"every field", "application/json", `[{"email":" ann@example.com ","phone_number":"(214) 555-0100","first_name":"Ann",
			"last_name":"Agent","mls":"NTREIS","mls_id":"A1"}]`,
			[]leadwire.Assignee{{Email: "ann@example.com", PhoneNumber: "+12145550100", FirstName: "Ann", LastName: "Agent", MLS: "NTREIS", MLSID: "A1"}}},
		{"mlsid wins over mls_id, numbers as ids", "application/json; charset=utf-8", `[{"mls_id":"A","mlsid":12,"phone_number":2145550100}]`,
			[]leadwire.Assignee{{MLSID: "12", PhoneNumber: "+12145550100"}}},
		{"empty assignees dropped, other keys ignored", "text/plain", `[{}, {"email":"b@example.com","team":"x"}, {"email":"  "}]`,
			[]leadwire.Assignee{{Email: "b@example.com"}}},
		{"empty list clears", "application/json", ` [] `, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAssignees(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeAssigneesErrors(t *testing.T) {
	tests := []struct {
		name, contentType, body, code string
		parts                         []string
	}{
		{"an object", "application/json", `{"email":"a@example.com"}`, leadwire.EINVALID, []string{"array", "got object"}},
		{"null", "application/json", `null`, leadwire.EINVALID, []string{"array", "got null"}},
		{"not JSON", "application/json", `[{"email":}]`, leadwire.EINVALID, []string{"malformed JSON at byte 11"}},
		{"empty body", "application/json", ``, leadwire.EINVALID, []string{"empty body"}},
		{"trailing data", "application/json", `[] []`, leadwire.EINVALID, []string{"after the top-level value"}},
		{"element not an object", "application/json", `[{}, "a@example.com"]`, leadwire.EINVALID, []string{`field "assignees[1]": expected an object, got string`}},
		{"wrong field type", "application/json", `[{"email":false}]`, leadwire.EINVALID, []string{`field "assignees[0].email": expected a string, got boolean`}},
		{"too deep", "application/json", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, leadwire.EINVALID, []string{"deeper than 32"}},
		{"not UTF-8", "application/json", "[{\"email\":\"\xff\"}]", leadwire.EINVALID, []string{"UTF-8"}},
		{"a form", "application/x-www-form-urlencoded", `email=a`, leadwire.EUNSUPPORTED, []string{"application/json"}},
		{"no content type", "", `[]`, leadwire.EUNSUPPORTED, []string{"missing content type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAssignees(tt.contentType, []byte(tt.body))
			assertError(t, err, tt.code, tt.parts...)
		})
	}
}

// FuzzDecodeAssignees checks that any body decodes to well-formed
// assignees or a client error, and that what decodes stays as it is when
// sent again.
func FuzzDecodeAssignees(f *testing.F) {
	for _, s := range []string{`[]`, `[{"email":"a@example.com","phone_number":2145550100,"first_name":"Ann","last_name":"Agent","mls_id":"X9","mls":"NTREIS"}]`,
		`[{},{"mlsid":"1","mls_id":"2"}]`, `{"email":"a"}`, `[1]`, `null`, `[[[]]]`, `[{"email":" x "}] x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := DecodeAssignees("application/json", []byte(body))
		if err != nil {
			checkClientError(t, err)
			return
		}
		for i, a := range got {
			if a == (leadwire.Assignee{}) {
				t.Fatalf("assignee %d is empty", i)
			}
		}
		if again := leadwire.NormalizeAssignees(append([]leadwire.Assignee(nil), got...)); !reflect.DeepEqual(again, got) {
			t.Fatalf("normalizing again changed %+v to %+v", got, again)
		}
	})
}
