package mail_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/delivertest"
)

var (
	latencyRate = flag.Int("mail-rate", 0, "run TestCaptureToMailLatency at this many captures a second")
	latencyFor  = flag.Duration("mail-for", 10*time.Second, "how long TestCaptureToMailLatency captures")
)

// TestCaptureToMailLatency measures the time from sending a capture to
// its alert being accepted by the SMTP server (STARTTLS, AUTH PLAIN, on
// loopback), at -mail-rate captures a second for -mail-for, the leads
// routed in turn to two agents:
//
//	go test ./deliver/mail -run CaptureToMailLatency -mail-rate 500 -v
func TestCaptureToMailLatency(t *testing.T) {
	if *latencyRate <= 0 {
		t.Skip("give -mail-rate to measure")
	}
	box := newMailbox(t)
	s := start(t, box, smtpPassword)
	for _, email := range []string{"ann@brokerage.example", "bob@brokerage.example"} {
		s.NewUser(t, leadwire.User{Email: email})
		if err := s.Store.AddChannelMember(context.Background(), s.ChannelID, email); err != nil {
			t.Fatal(err)
		}
	}
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindMail})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := s.URL + "/leads/channels/" + s.ChannelID + "/webhook"
	total := int(float64(*latencyRate) * latencyFor.Seconds())
	sent := make(map[string]time.Time, total) // by the lead's email
	var mu sync.Mutex
	delivertest.AtRate(*latencyRate, total, func(i int) {
		email := fmt.Sprintf("lead-%d@example.com", i)
		mu.Lock()
		sent[email] = time.Now()
		mu.Unlock()
		res, err := client.Post(url, "application/json", strings.NewReader(`{"email":"`+email+`"}`))
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
	})
	got := box.wait(t, total)
	var latencies []time.Duration
	for _, r := range got {
		_, text := parts(t, r.msg)
		for email, at := range sent {
			if strings.Contains(text, email) {
				latencies = append(latencies, r.at.Sub(at))
			}
		}
	}
	p50, p99, largest := delivertest.Percentiles(latencies)
	t.Logf("%d captures at %d/s: capture to alert accepted by the SMTP server p50 %s p99 %s max %s",
		total, *latencyRate, p50, p99, largest)
}
