package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
)

// BenchmarkCapture runs captures through the real handler and store, in
// parallel so that they share commits as they do under load; -benchmem
// shows what one capture allocates.
func BenchmarkCapture(b *testing.B) {
	s := testserver.Start(b)
	// Screened, each capture from a visitor of its own, without the
	// channel's flood limit, which a benchmark exceeds by design.
	s.Unlimited(b, s.ChannelID)
	url := "/leads/channels/" + s.ChannelID + "/webhook"
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			body := fmt.Sprintf(`{"first_name":"Jordan","last_name":"Rivera","email":"v%d@example.com",`+
				`"phone_number":"(214) %03d-%04d","tag":["buyer"],"note":"Open house on Saturday?",`+
				`"referer_url":"https://homes.example.com/listings/1","message":"Call in the evening"}`, n, 200+n/10000%800, n%10000)
			req := httptest.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprint("k", n))
			// Each capture from a visitor of its own, as on a busy site.
			req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", n>>16&255, n>>8&255, n&255)
			rec := httptest.NewRecorder()
			s.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkTimeline records activities through the real handler and
// store; each one reads its lead first, for the channel's allowed origins.
func BenchmarkTimeline(b *testing.B) {
	s := testserver.Start(b)
	req := httptest.NewRequest("POST", "/leads/channels/"+s.ChannelID+"/webhook", strings.NewReader(`{"email":"v@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	url := "/leads/" + s.Leads(b)[0].ID + "/timeline"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", url, strings.NewReader(`{"action":"ContactViewedListing","listing":{"mls_number":"1841395151"}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "https://site.example")
			rec := httptest.NewRecorder()
			s.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}
