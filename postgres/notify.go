package postgres

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The channels of PostgreSQL's LISTEN and NOTIFY by which a server tells
// the others at once, rather than at their next poll: that it made
// deliveries due (their dispatchers look for work) and that it stored new
// leads (their live inboxes read them). The payload is the schema, so that
// databases sharing a schema name's server hear only their own.
const (
	deliveriesChannel = "leadwire_deliveries"
	leadsChannel      = "leadwire_leads"
)

// notifyEvery is the least time between two notifications of a server: a
// burst of commits is one notification, which costs the database a commit
// of its own and wakes every other server.
const notifyEvery = 100 * time.Millisecond

// signals are the local wake-ups of one process, one channel per
// PostgreSQL channel, and the notifications it owes the other servers.
type signals struct {
	local map[string]chan struct{} // by PostgreSQL channel: DeliveriesQueued, LeadsStored

	mu      sync.Mutex
	pending []string      // the channels to notify
	notify  chan struct{} // wakes the notifier
}

func newSignals() *signals {
	return &signals{
		local:  map[string]chan struct{}{deliveriesChannel: make(chan struct{}, 1), leadsChannel: make(chan struct{}, 1)},
		notify: make(chan struct{}, 1),
	}
}

// wake signals this process's reader of channel.
func (g *signals) wake(channel string) {
	select {
	case g.local[channel] <- struct{}{}:
	default: // a wake-up is waiting already
	}
}

// committed wakes this process's reader of channel and, through the
// notifier, the other servers'.
func (g *signals) committed(channel string) {
	g.wake(channel)
	g.mu.Lock()
	if !slices.Contains(g.pending, channel) {
		g.pending = append(g.pending, channel)
	}
	g.mu.Unlock()
	select {
	case g.notify <- struct{}{}:
	default: // a notification is on its way already
	}
}

// deliveriesQueued wakes the dispatchers, this process's and the other
// servers', after a commit that made deliveries due.
func (s *Store) deliveriesQueued() { s.signals.committed(deliveriesChannel) }

// leadsStored wakes the live inboxes, this process's and the other
// servers', after a commit that stored new leads.
func (s *Store) leadsStored() { s.signals.committed(leadsChannel) }

// LeadsStored returns the channel signaled after a commit of this process,
// or of another server sharing the database, stored new leads; see
// leadwire.LeadService.
func (s *Store) LeadsStored() <-chan struct{} { return s.signals.local[leadsChannel] }

// notifier sends the notifications owed, at most one round every
// notifyEvery, until ctx ends. A notification lost to a fault of the
// database only delays the other servers until their next poll, or their
// agents until they reload.
func (s *Store) notifier(ctx context.Context) {
	g := s.signals
	for {
		select {
		case <-g.notify:
		case <-ctx.Done():
			return
		}
		g.mu.Lock()
		channels := g.pending
		g.pending = nil
		g.mu.Unlock()
		_, _ = s.pool.Exec(ctx, "SELECT pg_notify(c, current_schema()) FROM unnest($1::text[]) AS c", channels)
		select {
		case <-time.After(notifyEvery):
		case <-ctx.Done():
			return
		}
	}
}

// listener holds a connection of its own that listens for the other
// servers' notifications, until ctx ends; it connects again a second
// after losing the connection, and then wakes every reader for what
// happened meanwhile.
func (s *Store) listener(ctx context.Context, cfg *pgx.ConnConfig) {
	for again := false; ctx.Err() == nil; again = true {
		s.listen(ctx, cfg, again)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, again bool) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return
	}
	for channel := range s.signals.local {
		if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
			return
		}
		if again {
			s.signals.wake(channel)
		}
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if _, ours := s.signals.local[n.Channel]; ours && n.Payload == schema {
			s.signals.wake(n.Channel)
		}
	}
}
