package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/bulk"
)

// BenchmarkSearchLeads1M measures pages of SearchLeads on a million leads
// of 200,000 contacts, as internal/bulk writes them, and reports the p50
// and p99 of each kind of page: the newest 50, 50 deep in the list, a
// search for a name a few hundred leads hold, and one for a word every
// lead holds. Filling and indexing the database takes a minute or two.
//
//	go test ./sqlite -run '^$' -bench SearchLeads1M -benchtime 1x
func BenchmarkSearchLeads1M(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "leadwire.db")
	fillBulk(b, path, bulk.Options{Contacts: 200_000, Leads: 1_000_000, Now: time.Now()})
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if err := s.searchable(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("indexing 1,000,000 leads for search took %v", time.Since(start).Round(time.Millisecond))
	_, deep, err := s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 200})
	if err != nil {
		b.Fatal(err)
	}
	for range 100 { // 20,000 leads down
		_, deep, err = s.SearchLeads(ctx, leadwire.LeadFilter{Limit: 200, Cursor: deep})
		if err != nil {
			b.Fatal(err)
		}
	}
	owner := leadwire.NewContextWithUser(ctx, &leadwire.User{ID: "o", Email: "owner@example.com", Role: leadwire.RoleOwner})
	for _, tc := range []struct {
		name string
		f    leadwire.LeadFilter
	}{
		{"newest", leadwire.LeadFilter{Limit: 50}},
		{"status=contacted", leadwire.LeadFilter{Limit: 50, Status: leadwire.StatusContacted}},
		{"deep", leadwire.LeadFilter{Limit: 50, Cursor: deep}},
		{"q=person4242", leadwire.LeadFilter{Limit: 50, Query: "person4242"}},
		{"q=saturday", leadwire.LeadFilter{Limit: 50, Query: "saturday"}},
		{"q=satur", leadwire.LeadFilter{Limit: 50, Query: "satur"}},
		{"q=saturday+morning", leadwire.LeadFilter{Limit: 50, Query: "saturday morning"}},
		{"q=214-000-4242", leadwire.LeadFilter{Limit: 50, Query: "214-000-4242"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			for range b.N {
				for range 200 {
					t0 := time.Now()
					if _, _, err := s.SearchLeads(owner, tc.f); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(t0))
				}
			}
			slices.Sort(times)
			p := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
