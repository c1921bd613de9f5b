package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// BenchmarkCaptureParallel captures realistic leads from many goroutines,
// as concurrent webhook requests do: each with its own idempotency key,
// every third one from a visitor seen before. "per-request" commits every
// capture on its own, for comparison with group commit.
func BenchmarkCaptureParallel(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{
		{"group", maxBatch},
		{"per-request", 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "leadwire.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.w.maxBatch = bc.maxBatch
			ch := leadwire.Channel{Name: "Site", BrandID: "brand-1"}
			if err := s.CreateChannel(context.Background(), &ch); err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			b.SetParallelism(64) // many requests in flight, as on a busy server
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					visitor := i
					if i%3 == 0 {
						visitor = i / 3 // a repeat visitor
					}
					p := leadwire.Payload{
						FirstName: "Visitor", LastName: fmt.Sprint(visitor),
						Email:       fmt.Sprintf("visitor%d@example.com", visitor),
						PhoneNumber: fmt.Sprintf("+1214%07d", visitor%10_000_000),
						Tag:         []string{"open-house"}, LeadSource: "Website form", SourceType: "Website",
						RefererURL: "https://example.com/listings/123", ListingID: "123",
						Note: "I would like to see this home on Saturday.",
					}
					raw, err := json.Marshal(p)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{
						ChannelID: ch.ID, IdempotencyKey: uuid.NewString(), RequestHash: "sha256:abc",
						Leads: []*leadwire.Lead{{Payload: p, Raw: raw}},
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
