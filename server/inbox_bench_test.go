package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/bulk"
	"github.com/leadwire/leadwire/internal/testserver"
)

// inboxBench starts a server on 100,000 leads, the newest 20,000 of them
// a second apart up to now (a busy month's worth within the dashboard's
// 30 days), and signs an owner in to the inbox.
func inboxBench(b *testing.B) *inboxClient {
	s := testserver.Start(b)
	if _, err := bulk.Fill(context.Background(), s.DB, bulk.Options{Contacts: 50_000, Leads: 100_000, Recent: 20_000, Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	s.NewUser(b, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})
	c := newInboxClient(b, s)
	c.signIn("owner@example.com", testserver.Password)
	return c
}

// BenchmarkInboxPages: the Leads page (50 leads), a search, and the
// dashboard over the about 25,000 leads of its 30 days, among 100,000.
func BenchmarkInboxPages(b *testing.B) {
	c := inboxBench(b)
	for _, page := range []struct{ name, path, want string }{
		{"leads", "/inbox/", "Older"},
		{"search", "/inbox/?q=person123", "Person Number"},
		{"dashboard", "/inbox/dashboard", "<svg"},
	} {
		b.Run(page.name, func(b *testing.B) {
			c.get(page.path) // the first search indexes the leads filled in
			for b.Loop() {
				if p := c.get(page.path); p.status != 200 || !strings.Contains(p.body, page.want) {
					b.Fatalf("GET %s: %d", page.path, p.status)
				}
			}
		})
	}
}
