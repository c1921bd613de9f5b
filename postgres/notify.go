package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// deliveriesChannel is the channel of PostgreSQL's LISTEN and NOTIFY by
// which a server that made deliveries due wakes the dispatchers of the
// others at once, rather than at their next poll. The payload is the
// schema, so that databases sharing a schema name's server wake only
// their own.
const deliveriesChannel = "leadwire_deliveries"

// wake signals this process's dispatcher.
func (s *Store) wake() {
	select {
	case s.queued <- struct{}{}:
	default: // the dispatcher has a wake-up waiting already
	}
}

// deliveriesQueued wakes the dispatchers, this process's and the other
// servers', after a commit that made deliveries due.
func (s *Store) deliveriesQueued() {
	s.wake()
	select {
	case s.notify <- struct{}{}:
	default: // a notification is on its way already
	}
}

// notifier sends one NOTIFY for each burst of commits that queued
// deliveries, until ctx ends. A notification lost to a fault of the
// database only delays the other servers until their next poll.
func (s *Store) notifier(ctx context.Context) {
	for {
		select {
		case <-s.notify:
		case <-ctx.Done():
			return
		}
		_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, current_schema())", deliveriesChannel)
	}
}

// listener holds a connection of its own that listens for the other
// servers' notifications, until ctx ends; it connects again a second
// after losing the connection, and then wakes the dispatcher for what
// was queued meanwhile.
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
	if _, err := conn.Exec(ctx, "LISTEN "+deliveriesChannel); err != nil {
		return
	}
	if again {
		s.wake()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if n.Payload == schema {
			s.wake()
		}
	}
}
