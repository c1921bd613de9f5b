package search

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/leadwire/leadwire"
)

func TestQueryWords(t *testing.T) {
	for q, want := range map[string][]string{
		"Jane smith-Ortiz":  {"Jane", "smith", "Ortiz"},
		"+1 (214) 555-0100": {"2145550100"},
		"555.0100":          {"5550100"},
		"5pm":               {"5pm"},
		`"jane" OR bob*`:    {"jane", "OR", "bob"},
		"jane.smith@ex.org": {"jane", "smith", "ex", "org"},
	} {
		if got, err := QueryWords(q); err != nil || !slices.Equal(got, want) {
			t.Errorf("QueryWords(%q) = %q, %v; want %q", q, got, err, want)
		}
	}
	for _, q := range []string{"", " ,;-", "a b c d e f g h i j k l m n o p q", string(make([]byte, 201))} {
		if _, err := QueryWords(q); leadwire.ErrorCode(err) != leadwire.EINVALID {
			t.Errorf("QueryWords(%q) = %v, want EINVALID", q, err)
		}
	}
}

// FuzzQueryWords: whatever is typed, the words of a search are letters
// and digits only, which is what lets a store put them into its query
// language (a tsquery, an FTS5 query) quoted, without escaping.
func FuzzQueryWords(f *testing.F) {
	for _, q := range []string{"jane", "(214) 555-0100", `"x" OR y* NEAR(a b)`, "a':*|!&\\", "ünïcødé 名前"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		words, err := QueryWords(q)
		if err != nil {
			return
		}
		if len(words) == 0 || len(words) > MaxQueryWords {
			t.Fatalf("QueryWords(%q) = %q", q, words)
		}
		for _, w := range words {
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
					t.Fatalf("QueryWords(%q) has the word %q with %q", q, w, r)
				}
			}
		}
	})
}

func TestLeadWords(t *testing.T) {
	p := leadwire.Payload{FirstName: "Jane", LastName: "Smith-Ortiz", Email: "jane@example.org", PhoneNumber: "+12145550100",
		PhoneNumberOriginal: "(214) 555-0100", Extra: leadwire.Fields{"message": "Call me"}, Note: "José; ÑANDÚ! " + strings.Repeat("x", MaxWordLen+1),
		Address: &leadwire.Address{City: "Plano", PostalCode: "75024"}}
	got := LeadWords(&p)
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) || slices.Contains(got, "") {
		t.Errorf("LeadWords = %q: not each word once, sorted", got)
	}
	if slices.ContainsFunc(got, func(w string) bool { return len(w) > MaxWordLen }) {
		t.Errorf("LeadWords holds a word longer than %d bytes", MaxWordLen)
	}
	for _, w := range []string{"jane", "smith", "ortiz", "example", "org", "12145550100", "2145550100", "5550100", "call", "plano", "75024", "josé", "ñandú"} {
		if !slices.Contains(got, w) {
			t.Errorf("LeadWords = %q, without %q", got, w)
		}
	}
}

// FuzzCursor: a cursor parses only in the one spelling FormatCursor gives.
func FuzzCursor(f *testing.F) {
	for _, c := range []string{FormatCursor(1), FormatCursor(1 << 40), "AAAAAAAAAAA", "x", ""} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		n, err := ParseCursor(c)
		if err != nil {
			if leadwire.ErrorCode(err) != leadwire.EINVALID {
				t.Fatalf("ParseCursor(%q) = %v, want EINVALID", c, err)
			}
			return
		}
		if n <= 0 || FormatCursor(n) != c {
			t.Fatalf("ParseCursor(%q) = %d, formatted back as %q", c, n, FormatCursor(n))
		}
	})
}

// BenchmarkLeadWords: the words of a listing page's lead, which every
// capture on PostgreSQL computes.
func BenchmarkLeadWords(b *testing.B) {
	p := leadwire.Payload{FirstName: "Jordan", LastName: "Rivera", Email: "visitor-1841@example.com", PhoneNumber: "+12145550100",
		PhoneNumberOriginal: "(214) 555-0100", Note: "Is the open house on Saturday still on? We are pre-approved.",
		Extra: leadwire.Fields{"message": "Please call in the evening"}}
	b.ReportAllocs()
	for b.Loop() {
		LeadWords(&p)
	}
}
