package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// typicalLeadJSON is a lead as a listing page sends it.
const typicalLeadJSON = `{"first_name":"Jordan","last_name":"Rivera","email":"visitor-42@example.com","phone_number":"(214) 200-0042","tag":["buyer","website"],"lead_source":"Listing page","note":"Is the open house on Saturday still on? We are pre-approved.","referer_url":"https://homes.example.com/listings/1841395151?rechat_ad_campaign_id=spring","listing_id":"1841395151","mlsid":"NTREIS","source_type":"Website","ad_campaign_id":"spring","assignees":[{"email":"agent@homes.example.com","mlsid":"0512345"}],"message":"Please call in the evening","preferred_time":"evening","budget":"650000"}`

// parseJSONObjectCases are bodies the quick parser must read exactly as
// encoding/json does; ok says whether encoding/json accepts them.
var parseJSONObjectCases = []struct {
	name string
	body string
	ok   bool
}{
	{"empty object", `{}`, true},
	{"typical lead", typicalLeadJSON, true},
	{"whitespace everywhere", " \t\r\n{ \"a\" :\t[ 1 , { } , [ ] ] ,\n\"b\" : { \"c\" : null } }\r\n ", true},
	{"empty array", `{"a":[]}`, true},
	{"empty nested object", `{"a":{}}`, true},
	{"nested", `{"a":[[1,[2,{"b":[true,false,null]}]],{"c":{"d":"e"}}]}`, true},
	{"literals", `{"t":true,"f":false,"n":null}`, true},
	{"duplicate keys keep the last", `{"a":1,"b":2,"a":"three"}`, true},
	{"duplicate documented keys", `{"email":"a@x.co","email":null}`, true},
	{"keys outside the field list", `{"message":"hi","utm":{"source":"fb"}}`, true},
	{"empty key and value", `{"":""}`, true},
	{"non-ASCII text", `{"note":"Café ☕ 😀","città":"Zürich"}`, true},
	{"escapes", `{"a":"\"\\\/\b\f\n\r\t","b\n":"x\u0041y"}`, true},
	{"escaped key matching a field", `{"em\u0061il":"a@x.co"}`, true},
	{"surrogate pair", `{"a":"\ud83d\ude00"}`, true},
	{"lone high surrogate", `{"a":"\ud83d"}`, true},
	{"lone low surrogate", `{"a":"\ude00x"}`, true},
	{"reversed surrogates", `{"a":"\ude00\ud83d"}`, true},
	{"surrogate then plain escape", `{"a":"\ud83d\u0041"}`, true},
	{"escaped NUL", `{"a":"\u0000"}`, true},
	{"DEL unescaped", "{\"a\":\"\x7f\"}", true},
	{"brackets in strings", `{"a":"[{\"","b":"}]"}`, true},
	{"zero", `{"a":0}`, true},
	{"minus zero", `{"a":-0}`, true},
	{"integer", `{"a":1234567890123456789012345678901234567890}`, true},
	{"negative", `{"a":-12}`, true},
	{"fraction", `{"a":0.5}`, true},
	{"exponent", `{"a":1e5}`, true},
	{"signed exponent", `{"a":1.5E-3,"b":2e+10,"c":-0.0e0}`, true},
	{"numbers in arrays", `{"a":[1,-2,3.5,4E2]}`, true},
	{"depth 32", strings.Repeat(`{"a":`, MaxDepth-1) + `{}` + strings.Repeat(`}`, MaxDepth-1), true},
	{"depth 32 in arrays", `{"a":` + strings.Repeat(`[`, MaxDepth-1) + strings.Repeat(`]`, MaxDepth-1) + `}`, true},

	{"depth 33", strings.Repeat(`{"a":`, MaxDepth) + `{}` + strings.Repeat(`}`, MaxDepth), false},
	{"depth 33 in arrays", `{"a":` + strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth) + `}`, false},
	{"leading zero", `{"a":01}`, false},
	{"minus leading zero", `{"a":-01}`, false},
	{"trailing dot", `{"a":1.}`, false},
	{"leading dot", `{"a":.5}`, false},
	{"plus sign", `{"a":+1}`, false},
	{"lone minus", `{"a":-}`, false},
	{"empty exponent", `{"a":1e}`, false},
	{"signed empty exponent", `{"a":1e+}`, false},
	{"hex", `{"a":0x10}`, false},
	{"infinity", `{"a":Infinity}`, false},
	{"NaN", `{"a":NaN}`, false},
	{"truncated literal", `{"a":tru}`, false},
	{"literal with suffix", `{"a":truex}`, false},
	{"capitalised literal", `{"a":True}`, false},
	{"control character in string", "{\"a\":\"x\ny\"}", false},
	{"tab in string", "{\"a\":\"x\ty\"}", false},
	{"control character in key", "{\"a\x01\":1}", false},
	{"bad escape", `{"a":"\x"}`, false},
	{"short unicode escape", `{"a":"\u12"}`, false},
	{"escaped end of body", `{"a":"\`, false},
	{"unterminated string", `{"a":"x`, false},
	{"single quotes", `{'a':1}`, false},
	{"unquoted key", `{a:1}`, false},
	{"missing colon", `{"a" 1}`, false},
	{"missing value", `{"a":}`, false},
	{"trailing comma in object", `{"a":1,}`, false},
	{"trailing comma in array", `{"a":[1,]}`, false},
	{"leading comma in array", `{"a":[,1]}`, false},
	{"missing comma", `{"a":1 "b":2}`, false},
	{"unclosed object", `{"a":1`, false},
	{"unclosed array", `{"a":[1}`, false},
	{"mismatched brackets", `{"a":[1}]`, false},
	{"trailing garbage", `{}x`, false},
	{"two objects", `{} {}`, false},
	{"trailing bracket", `{}}`, false},
	{"trailing NUL", "{}\x00", false},
	{"byte order mark", "\ufeff{}", false},
	{"vertical tab", "\v{}", false},
	{"non-breaking space", "{\u00a0}", false},
	{"comment", `{/**/}`, false},
	{"empty body", ``, false},
	{"whitespace only", " \n", false},
	{"top-level array", `[1,2]`, false},
	{"top-level string", `"x"`, false},
	{"top-level number", `12`, false},
	{"top-level null", `null`, false},
}

// decodeBoth decodes body with the quick parser and with encoding/json
// alone and fails unless they agree: the quick parser accepts exactly what
// encoding/json accepts, with the same tree. A body that is not UTF-8 may
// be left to encoding/json.
func decodeBoth(t *testing.T, body []byte) (ok bool) {
	t.Helper()
	fast, fastOK := parseJSONObject(body)
	slow, err := decodeJSONObjectStd(body)
	switch {
	case fastOK && err != nil:
		t.Fatalf("quick parser accepts %q, encoding/json does not: %v", body, err)
	case !fastOK && err == nil && utf8.Valid(body):
		t.Fatalf("quick parser rejects %q, encoding/json reads %#v", body, slow)
	case fastOK && !reflect.DeepEqual(fast, slow):
		t.Fatalf("%q:\n quick parser  %#v\n encoding/json %#v", body, fast, slow)
	}
	return err == nil
}

func TestParseJSONObject(t *testing.T) {
	for _, tt := range parseJSONObjectCases {
		t.Run(tt.name, func(t *testing.T) {
			if ok := decodeBoth(t, []byte(tt.body)); ok != tt.ok {
				t.Errorf("encoding/json accepts %q: %v, want %v", tt.body, ok, tt.ok)
			}
		})
	}
}

func TestParseJSONObjectTree(t *testing.T) {
	// Numbers keep their literal text, and empty containers are empty
	// rather than nil, as the tree of encoding/json.
	got, ok := parseJSONObject([]byte(`{"n":-0.50e+01,"a":[],"o":{},"s":"\u00e9"}`))
	want := map[string]any{"n": json.Number("-0.50e+01"), "a": []any{}, "o": map[string]any{}, "s": "é"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v; want %#v", got, ok, want)
	}
	if got["a"].([]any) == nil || got["o"].(map[string]any) == nil {
		t.Error("empty containers read as nil")
	}
}

func TestParseJSONObjectInvalidUTF8(t *testing.T) {
	// The caller rejects such bodies first; the quick parser must still
	// not panic, nor read them differently from encoding/json.
	for _, body := range []string{
		"{\"a\":\"\xff\"}", "{\"\xc3\":1}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\\n\xff\"}", "{\"a\":\xff}", "\xff",
	} {
		decodeBoth(t, []byte(body))
	}
}

func TestDecodeJSONObjectErrorsUnchanged(t *testing.T) {
	// Every body the quick parser refuses gets the message of
	// encoding/json, byte offset included.
	for _, tt := range parseJSONObjectCases {
		if tt.ok {
			continue
		}
		_, got := decodeJSONObject([]byte(tt.body))
		_, want := decodeJSONObjectStd([]byte(tt.body))
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: error %v, want %v", tt.name, got, want)
		}
	}
}

func FuzzParseJSONObject(f *testing.F) {
	// The seeds of FuzzDecodeJSON and FuzzDecodeActivity.
	for _, s := range Seeds(f) {
		if s.Fuzz == fuzzJSON || s.Fuzz == fuzzActivity {
			f.Add(s.Body)
		}
	}
	for _, tt := range parseJSONObjectCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeBoth(t, body)
	})
}

func BenchmarkDecodeJSONObject(b *testing.B) {
	body := []byte(typicalLeadJSON)
	for _, bm := range []struct {
		name   string
		decode func([]byte) (map[string]any, error)
	}{
		{"fast", decodeJSONObject},
		{"encoding/json", decodeJSONObjectStd},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
