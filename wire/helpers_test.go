package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

// assertJSON fails unless v marshals to the same JSON value as want.
func assertJSON(t *testing.T, what string, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	assertSameJSON(t, what, b, want)
}

// assertSameJSON fails unless got and want hold the same JSON value.
func assertSameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: got invalid JSON %s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

// assertError fails unless err is a *leadwire.Error with code whose
// message contains every part.
func assertError(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	var e *leadwire.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *leadwire.Error", err, err)
	}
	if e.Code != code {
		t.Errorf("code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not mention %q", e.Message, p)
		}
	}
}

// decodeOne decodes body and requires exactly one lead.
func decodeOne(t *testing.T, contentType, body string) *leadwire.Lead {
	t.Helper()
	leads, err := DecodeLeads(contentType, []byte(body), 0)
	if err != nil {
		t.Fatalf("DecodeLeads: %v", err)
	}
	if len(leads) != 1 {
		t.Fatalf("got %d leads, want 1", len(leads))
	}
	return leads[0]
}
