package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/bulk"
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

// BenchmarkStartup opens a database of a CRM's size and claims the writer,
// which loads every contact into the writer's memory, as `leadwire serve`
// does before it captures. It reports the time per start-up and the bytes
// the memory holds per contact (heap after a GC, with the recent captures'
// idempotency keys included).
//
//	go test -run '^$' -bench Startup/1000000 -benchtime 3x ./sqlite
func BenchmarkStartup(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "leadwire.db")
			fillBulk(b, path, bulk.Options{Contacts: n, Leads: n, Recent: n / 100, Now: time.Now()})
			b.ResetTimer()
			for range b.N {
				s, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.ClaimWriter(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(memoryBytes(b, path))/float64(n), "B/contact")
		})
	}
}

// fillBulk creates the database at path and fills it as o says.
func fillBulk(tb testing.TB, path string, o bulk.Options) {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	if _, err := bulk.Fill(context.Background(), path, o); err != nil {
		tb.Fatal(err)
	}
}

// memoryBytes returns how many bytes of heap the writer's memory of the
// database at path holds once loaded.
func memoryBytes(tb testing.TB, path string) uint64 {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := loadMemory(context.Background(), s.w.conn, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	return after.HeapAlloc - before.HeapAlloc
}
