// Package testserver runs a real leadwire server, the real HTTP handler
// over a real SQLite file, on loopback for the tests of every package.
package testserver

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/screen"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/sqlite"
)

// Server is a running leadwire server.
type Server struct {
	URL       string        // base URL of the API, without a trailing slash
	ChannelID string        // the "Website" channel every new database starts with
	Store     *sqlite.Store // the store behind it
	DB        string        // the path of its database file
	Handler   http.Handler  // the real handler, to mount behind another listener

	addr string
	http *http.Server
}

// Start starts a server on a new database in t.TempDir(); t.Cleanup
// stops it. configure, when given, changes the server's configuration
// (its limits, say) before the server is built.
func Start(t testing.TB, configure ...func(*server.Config)) *Server {
	t.Helper()
	db := filepath.Join(t.TempDir(), "leadwire.db")
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	// As the server does: claimed, its memory loading in the background.
	if err := store.ClaimWriter(); err != nil {
		t.Fatal(err)
	}
	ch, _, err := leadwire.EnsureDefaultChannel(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Leads: store, Channels: store, Contacts: store, Users: store, Deliveries: store, DemoChannelID: ch.ID, Health: store.Health,
		Screener: screen.New(screen.Config{})}
	for _, c := range configure {
		c(&cfg)
	}
	s := &Server{
		ChannelID: ch.ID,
		Store:     store,
		DB:        db,
		Handler:   server.New(cfg),
		addr:      "127.0.0.1:0",
	}
	s.Up(t)
	s.URL = "http://" + s.addr
	t.Cleanup(func() {
		if s.http != nil {
			s.http.Close()
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Up listens on the server's address (a free one the first time).
func (s *Server) Up(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.http = &http.Server{Handler: s.Handler, MaxHeaderBytes: server.MaxHeaderBytes}
	go s.http.Serve(ln)
}

// Down closes the listener and every connection: clients get "connection
// refused" until Up.
func (s *Server) Down(t testing.TB) {
	t.Helper()
	if err := s.http.Close(); err != nil {
		t.Fatal(err)
	}
	s.http = nil
}

// Leads returns every lead, newest first, each with its timeline.
func (s *Server) Leads(t testing.TB) []*leadwire.Lead {
	t.Helper()
	leads, err := s.Store.FindLeads(context.Background(), leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return leads
}

// NewChannel creates a channel and returns its id.
func (s *Server) NewChannel(t testing.TB, c leadwire.Channel) string {
	t.Helper()
	if err := s.Store.CreateChannel(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// Unscreened turns screening off on a channel, for tests of what happens
// to leads once stored, whatever their content.
func (s *Server) Unscreened(t testing.TB, channelID string) {
	t.Helper()
	if _, err := s.Store.UpdateChannel(context.Background(), channelID,
		leadwire.ChannelUpdate{Screening: &leadwire.ScreeningSettings{Off: true}}); err != nil {
		t.Fatal(err)
	}
}

// Unlimited turns a channel's flood limit off (it stays screened
// otherwise), for tests that send more leads at once than any site, which
// a fast machine sends faster than the limit allows.
func (s *Server) Unlimited(t testing.TB, channelID string) {
	t.Helper()
	if _, err := s.Store.UpdateChannel(context.Background(), channelID,
		leadwire.ChannelUpdate{Screening: &leadwire.ScreeningSettings{Disabled: []string{screen.ReasonChannelRate}}}); err != nil {
		t.Fatal(err)
	}
}

// Password is the password of the users NewUser creates.
const Password = "correct horse battery staple"

// NewUser creates a user with Password (an agent unless u.Role says
// otherwise) and an API token for them named after their email, and
// returns the user and the token's secret, for Authorization: Bearer.
func (s *Server) NewUser(t testing.TB, u leadwire.User) (*leadwire.User, string) {
	t.Helper()
	ctx := context.Background()
	if err := s.Store.CreateUser(ctx, &u, Password); err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Store.CreateToken(ctx, u.Email, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	return &u, token
}
