package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
	sqlitedriver "modernc.org/sqlite"
)

func init() {
	// new_id is newID in SQL, for the deliveries a statement inserts for
	// every destination at once.
	sqlitedriver.MustRegisterScalarFunction("new_id", 0,
		func(*sqlitedriver.FunctionContext, []driver.Value) (driver.Value, error) {
			return newID().String(), nil
		})
}

// enqueueDeliveriesQuery inserts the deliveries of lead ?1 of channel ?3
// at ?2, one per enabled destination of the channel or of every channel;
// a delivery canceled when the lead was marked spam is pending again.
const enqueueDeliveriesQuery = `INSERT INTO deliveries (id, lead_id, destination_id, status, next_attempt_at,
		give_up_at, created_at, updated_at)
	SELECT new_id(), ?1, id, 'pending', ?2, ?2 + ?4, ?2, ?2 FROM destinations
	WHERE enabled AND channel_id IN ('', ?3)
	ON CONFLICT (lead_id, destination_id) DO UPDATE SET status = 'pending', next_attempt_at = ?2,
		give_up_at = ?2 + ?4, claimed_until = 0, updated_at = ?2 WHERE status = 'canceled'`

// enqueueDeliveries inserts the deliveries of a lead inside the writer's
// transaction and has the dispatcher woken once it commits.
func (w *writer) enqueueDeliveries(leadID, channelID string, at int64) error {
	if !w.destinations {
		return nil
	}
	res, err := w.insertDeliveries.Exec(leadID, at, channelID, leadwire.DeliveryGiveUp.Milliseconds())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n > 0 {
		w.deliveriesQueued = true
	}
	return nil
}

// cancelDeliveries cancels the pending deliveries of a lead marked spam.
func (w *writer) cancelDeliveries(leadID string, at int64) error {
	_, err := w.conn.ExecContext(context.Background(), `UPDATE deliveries SET status = 'canceled',
		claimed_until = 0, last_error = 'the lead was marked spam', updated_at = ?
		WHERE lead_id = ? AND status = 'pending'`, at, leadID)
	return err
}

// DeliveriesQueued returns the channel the writer signals after a commit
// that made deliveries due; see leadwire.DeliveryService.
func (s *Store) DeliveriesQueued() <-chan struct{} { return s.w.queued }

const destinationColumns = "id, kind, url, channel_id, secret, previous_secret, previous_secret_until, enabled, created_at"

func scanDestination(row interface{ Scan(...any) error }) (*leadwire.Destination, error) {
	d := new(leadwire.Destination)
	var until, created int64
	if err := row.Scan(&d.ID, &d.Kind, &d.URL, &d.ChannelID, &d.Secret, &d.PreviousSecret, &until, &d.Enabled, &created); err != nil {
		return nil, err
	}
	if until != 0 {
		d.PreviousSecretUntil = fromMillis(until)
	}
	d.CreatedAt = fromMillis(created)
	return d, nil
}

// CreateDestination validates d and stores it; see leadwire.DeliveryService.
func (s *Store) CreateDestination(ctx context.Context, d *leadwire.Destination) error {
	if err := leadwire.AuthorizeOwner(ctx, "manage destinations"); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.ChannelID != "" {
		if _, err := s.channel(ctx, d.ChannelID); err != nil {
			return err
		}
	}
	id := newID().String()
	var at int64
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		at = now.UnixMilli()
		_, err := w.conn.ExecContext(context.Background(), "INSERT INTO destinations ("+destinationColumns+
			") VALUES (?, ?, ?, ?, ?, '', 0, 1, ?)", id, d.Kind, d.URL, d.ChannelID, d.Secret, at)
		w.destinations = w.destinations || err == nil // for the captures later in this batch
		return err
	}))
	if err != nil {
		return err
	}
	d.ID, d.Enabled, d.CreatedAt = id, true, fromMillis(at)
	return nil
}

// FindDestinations returns every destination, oldest first.
func (s *Store) FindDestinations(ctx context.Context) ([]*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "see destinations"); err != nil {
		return nil, err
	}
	return queryAll(ctx, s.read, scanDestination, "SELECT "+destinationColumns+" FROM destinations ORDER BY created_at, id")
}

// queryAll runs query and returns its rows, each read with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	return all, rows.Err()
}

// FindDestinationByID returns the destination with its secrets.
func (s *Store) FindDestinationByID(ctx context.Context, id string) (*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "see destinations"); err != nil {
		return nil, err
	}
	d, err := scanDestination(s.read.QueryRowContext(ctx, "SELECT "+destinationColumns+" FROM destinations WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, destinationNotFound(id)
	}
	return d, err
}

func destinationNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "destination %q not found", id)
}

// RemoveDestination deletes a destination, its deliveries and their
// attempts.
func (s *Store) RemoveDestination(ctx context.Context, id string) error {
	if err := leadwire.AuthorizeOwner(ctx, "manage destinations"); err != nil {
		return err
	}
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		for _, q := range []string{
			"DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE destination_id = ?)",
			"DELETE FROM deliveries WHERE destination_id = ?",
		} {
			if _, err := w.conn.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := w.conn.ExecContext(ctx, "DELETE FROM destinations WHERE id = ?", id)
		return notFoundIfNone(res, err, destinationNotFound(id))
	}))
}

// notFoundIfNone returns err, or notFound when the statement changed no
// row.
func notFoundIfNone(res sql.Result, err, notFound error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound
	}
	return nil
}

// RotateSecret gives a webhook destination a new secret, the current one
// signing for leadwire.SecretGrace more.
func (s *Store) RotateSecret(ctx context.Context, id string) (*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "manage destinations"); err != nil {
		return nil, err
	}
	secret := leadwire.NewWebhookSecret()
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		var kind string
		err := w.conn.QueryRowContext(context.Background(), "SELECT kind FROM destinations WHERE id = ?", id).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			return destinationNotFound(id)
		}
		if err != nil {
			return err
		}
		if kind != leadwire.KindWebhook {
			return leadwire.Errorf(leadwire.EINVALID, "destination %s is a %s destination; only webhooks have a signing secret", id, kind)
		}
		_, err = w.conn.ExecContext(context.Background(), `UPDATE destinations SET previous_secret = secret,
			previous_secret_until = ?, secret = ? WHERE id = ?`, now.Add(leadwire.SecretGrace).UnixMilli(), secret, id)
		return err
	}))
	if err != nil {
		return nil, err
	}
	return s.FindDestinationByID(ctx, id)
}

const deliveryColumns = "id, lead_id, destination_id, status, attempts, next_attempt_at, last_error, give_up_at, created_at, updated_at"

func scanDelivery(row interface{ Scan(...any) error }) (*leadwire.Delivery, error) {
	d := new(leadwire.Delivery)
	var next, giveUp, created, updated int64
	if err := row.Scan(&d.ID, &d.LeadID, &d.DestinationID, &d.Status, &d.Attempts, &next, &d.LastError,
		&giveUp, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.GiveUpAt, d.CreatedAt, d.UpdatedAt = fromMillis(next), fromMillis(giveUp), fromMillis(created), fromMillis(updated)
	return d, nil
}

// claimQuery claims, at ?1 until ?2, up to ?4 due deliveries of
// destination ?3, oldest due first: an index range of one destination, so
// a claim costs the same however many deliveries wait for others. On
// PostgreSQL the inner SELECT takes FOR UPDATE SKIP LOCKED, so that
// servers sharing the database never claim the same rows.
const claimQuery = `UPDATE deliveries SET claimed_until = ?2 WHERE id IN (
	SELECT id FROM deliveries
	WHERE destination_id = ?3 AND status = 'pending' AND next_attempt_at <= ?1 AND claimed_until <= ?1
	ORDER BY next_attempt_at LIMIT ?4)
	RETURNING ` + deliveryColumns

// ClaimDeliveries claims due deliveries, destination by destination; see
// leadwire.DeliveryService.
func (s *Store) ClaimDeliveries(ctx context.Context, c leadwire.DeliveryClaim) ([]*leadwire.Delivery, error) {
	if err := leadwire.AuthorizeOwner(ctx, "deliver leads"); err != nil {
		return nil, err
	}
	if c.Limit <= 0 || c.Lease <= 0 || c.PerDestination <= 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "a claim needs a positive limit, lease and number per destination")
	}
	var claimed []*leadwire.Delivery
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		claimed = claimed[:0]
		ctx := context.Background()
		ids, err := queryAll(ctx, w.conn, scanString, "SELECT id FROM destinations WHERE enabled ORDER BY created_at, id")
		if err != nil {
			return err
		}
		at := now.UnixMilli()
		for _, id := range ids {
			n := min(c.PerDestination-c.InFlight[id], c.Limit-len(claimed))
			if n <= 0 {
				continue
			}
			some, err := queryAll(ctx, w.conn, scanDelivery, claimQuery, at, at+c.Lease.Milliseconds(), id, n)
			if err != nil {
				return err
			}
			claimed = append(claimed, some...)
		}
		return nil
	}))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(claimed, func(a, b *leadwire.Delivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	return claimed, nil
}

// RecordAttempt records an attempt and its outcome and ends the claim; a
// delivery no longer pending (canceled meanwhile) keeps its status.
func (s *Store) RecordAttempt(ctx context.Context, id string, r leadwire.DeliveryResult) error {
	if err := leadwire.AuthorizeOwner(ctx, "deliver leads"); err != nil {
		return err
	}
	a := r.Attempt
	if len(a.Response) > leadwire.MaxAttemptResponse {
		a.Response = a.Response[:leadwire.MaxAttemptResponse]
	}
	a.Response = strings.ToValidUTF8(a.Response, "\uFFFD")
	lastError := a.Error
	if lastError == "" && r.Status != leadwire.DeliveryDelivered {
		lastError = fmt.Sprintf("answered %d", a.StatusCode)
	}
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		res, err := w.conn.ExecContext(ctx, `UPDATE deliveries SET status = iif(status = 'pending', ?, status),
			attempts = attempts + 1, next_attempt_at = ?, claimed_until = 0, last_error = ?, updated_at = ? WHERE id = ?`,
			r.Status, r.NextAttemptAt.UnixMilli(), lastError, now.UnixMilli(), id)
		if err := notFoundIfNone(res, err, deliveryNotFound(id)); err != nil {
			return err
		}
		_, err = w.conn.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, at, status_code, duration_ms,
			response, error) VALUES (?, ?, ?, ?, ?, ?)`, id, a.At.UnixMilli(), a.StatusCode, a.Duration.Milliseconds(), a.Response, a.Error)
		return err
	}))
}

func deliveryNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "delivery %q not found", id)
}

// FindDeliveries returns the deliveries of the leads the caller may see,
// newest first.
func (s *Store) FindDeliveries(ctx context.Context, f leadwire.DeliveryFilter) ([]*leadwire.Delivery, error) {
	if f.Limit < 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "limit must not be negative")
	}
	query, args, err := s.visibleDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	query = "SELECT " + deliveryColumns + " FROM deliveries WHERE " + query
	if f.Status != "" {
		query, args = query+" AND status = ?", append(args, f.Status)
	}
	if f.LeadID != "" {
		query, args = query+" AND lead_id = ?", append(args, f.LeadID)
	}
	query += " ORDER BY rowid DESC"
	if f.Limit > 0 {
		query, args = query+" LIMIT ?", append(args, f.Limit)
	}
	return queryAll(ctx, s.read, scanDelivery, query, args...)
}

// visibleDeliveries returns the condition on deliveries of the leads the
// caller may see: an agent's leads' deliveries are theirs to see and
// send again, any other does not exist for them.
func (s *Store) visibleDeliveries(ctx context.Context) (string, []any, error) {
	visible, args, err := s.visibility(ctx)
	if err != nil || visible == "" {
		return "true", nil, err
	}
	return "lead_id IN (SELECT id FROM leads WHERE " + visible + ")", args, nil
}

// FindAttempts returns a delivery's attempts, oldest first.
func (s *Store) FindAttempts(ctx context.Context, deliveryID string) ([]*leadwire.Attempt, error) {
	visible, args, err := s.visibleDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.read, func(row interface{ Scan(...any) error }) (*leadwire.Attempt, error) {
		a := &leadwire.Attempt{DeliveryID: deliveryID}
		var at, ms int64
		if err := row.Scan(&at, &a.StatusCode, &ms, &a.Response, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromMillis(at), time.Duration(ms)*time.Millisecond
		return a, nil
	}, `SELECT at, status_code, duration_ms, response, error
		FROM delivery_attempts WHERE delivery_id = (SELECT id FROM deliveries WHERE id = ? AND `+visible+`)
		ORDER BY at, rowid`, append([]any{deliveryID}, args...)...)
}

func scanString(row interface{ Scan(...any) error }) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}

// RetryDelivery makes a failed or canceled delivery pending again, due
// now.
func (s *Store) RetryDelivery(ctx context.Context, id string) error {
	visible, args, err := s.visibleDeliveries(ctx)
	if err != nil {
		return err
	}
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		var status string
		err := w.conn.QueryRowContext(ctx, "SELECT status FROM deliveries WHERE id = ? AND "+visible,
			append([]any{id}, args...)...).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return deliveryNotFound(id)
		}
		if err != nil {
			return err
		}
		if status != leadwire.DeliveryFailed && status != leadwire.DeliveryCanceled {
			return leadwire.Errorf(leadwire.ECONFLICT, "delivery %s is %s; only a failed or canceled one can be sent again", id, status)
		}
		at := now.UnixMilli()
		if _, err := w.conn.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?1,
			give_up_at = ?1 + ?2, claimed_until = 0, updated_at = ?1 WHERE id = ?3`,
			at, leadwire.DeliveryGiveUp.Milliseconds(), id); err != nil {
			return err
		}
		w.deliveriesQueued = true
		return nil
	}))
}

// ReleaseDeliveryClaims ends every claim on deliveries. Only the process
// that holds the writer's claim (ClaimWriter) delivers from a SQLite file,
// so at its start the claims there are those of a process that died: its
// deliveries are due at once rather than when the claims would expire.
func (s *Store) ReleaseDeliveryClaims(ctx context.Context) error {
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		res, err := w.conn.ExecContext(context.Background(), "UPDATE deliveries SET claimed_until = 0 WHERE claimed_until > 0")
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n > 0 {
			w.deliveriesQueued = true
		}
		return err
	}))
}
