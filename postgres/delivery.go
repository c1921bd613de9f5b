package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
)

// enqueueDeliveries inserts, at $2, the deliveries of the leads l, which
// the statement's WITH names (columns id, channel_id, seq, status): one
// per enabled destination of the lead's channel or of every channel. A
// delivery canceled when the lead was marked spam is pending again. A
// give-up time is $2 + $3. The capture runs it in its batch's statement
// inserting the leads (insertLeads), and UpdateLead for a lead no longer
// spam (leadsByID).
const enqueueDeliveries = `INSERT INTO deliveries (id, lead_id, destination_id, status, next_attempt_at,
		give_up_at, created_at, updated_at)
	SELECT uuid_v7($2), l.id, d.id, 'pending', $2::bigint, $2::bigint + $3::bigint, $2::bigint, $2::bigint
	FROM l JOIN destinations d ON d.enabled AND d.channel_id IN ('', l.channel_id::text)
	WHERE l.status != 'spam'
	ORDER BY l.seq, d.created_at, d.id
	ON CONFLICT (lead_id, destination_id) DO UPDATE SET status = 'pending', next_attempt_at = $2,
		give_up_at = $2 + $3, claimed_until = 0, updated_at = $2 WHERE deliveries.status = 'canceled'`

// leadsByID names l the leads $1 for enqueueDeliveries.
const leadsByID = `WITH l AS (SELECT id, channel_id, seq, status FROM leads WHERE id = ANY($1::text[]::uuid[])) `

// DeliveriesQueued returns the channel signaled after a commit of this
// process, or of another server sharing the database (see notify.go),
// made deliveries due; see leadwire.DeliveryService.
func (s *Store) DeliveriesQueued() <-chan struct{} { return s.signals.local[deliveriesChannel] }

const destinationColumns = "id::text, kind, url, channel_id, secret, previous_secret, previous_secret_until, enabled, created_at"

func scanDestination(row pgx.Row) (*leadwire.Destination, error) {
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

// queryAll runs query and returns its rows, each read with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, storageFault(err)
	}
	defer rows.Close()
	var all []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, storageFault(err)
		}
		all = append(all, v)
	}
	return all, storageFault(rows.Err())
}

func destinationNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "destination %q not found", id)
}

func deliveryNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "delivery %q not found", id)
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
		if _, err := s.readChannel(ctx, d.ChannelID); err != nil {
			return err
		}
	}
	id, at := newID().String(), s.nowMillis()
	if _, err := s.pool.Exec(ctx, `INSERT INTO destinations (id, kind, url, channel_id, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, d.Kind, d.URL, d.ChannelID, d.Secret, at); err != nil {
		return storageFault(err)
	}
	d.ID, d.Enabled, d.CreatedAt = id, true, fromMillis(at)
	return nil
}

// FindDestinations returns every destination, oldest first.
func (s *Store) FindDestinations(ctx context.Context) ([]*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "see destinations"); err != nil {
		return nil, err
	}
	return queryAll(ctx, s.pool, scanDestination, "SELECT "+destinationColumns+" FROM destinations ORDER BY created_at, id")
}

// FindDestinationByID returns the destination with its secrets.
func (s *Store) FindDestinationByID(ctx context.Context, id string) (*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "see destinations"); err != nil {
		return nil, err
	}
	if !leadwire.IsCanonicalID(id) {
		return nil, destinationNotFound(id)
	}
	d, err := scanDestination(s.pool.QueryRow(ctx, "SELECT "+destinationColumns+" FROM destinations WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, destinationNotFound(id)
	}
	return d, storageFault(err)
}

// RemoveDestination deletes a destination, its deliveries and their
// attempts.
func (s *Store) RemoveDestination(ctx context.Context, id string) error {
	if err := leadwire.AuthorizeOwner(ctx, "manage destinations"); err != nil {
		return err
	}
	if !leadwire.IsCanonicalID(id) {
		return destinationNotFound(id)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, q := range []string{
			"DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE destination_id = $1)",
			"DELETE FROM deliveries WHERE destination_id = $1",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, "DELETE FROM destinations WHERE id = $1", id)
		if err == nil && tag.RowsAffected() == 0 {
			return destinationNotFound(id)
		}
		return err
	})
}

// RotateSecret gives a webhook destination a new secret, the current one
// signing for leadwire.SecretGrace more.
func (s *Store) RotateSecret(ctx context.Context, id string) (*leadwire.Destination, error) {
	if err := leadwire.AuthorizeOwner(ctx, "manage destinations"); err != nil {
		return nil, err
	}
	if !leadwire.IsCanonicalID(id) {
		return nil, destinationNotFound(id)
	}
	secret, until := leadwire.NewWebhookSecret(), s.Now().Add(leadwire.SecretGrace).UnixMilli()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var kind string
		err := tx.QueryRow(ctx, "SELECT kind FROM destinations WHERE id = $1 FOR UPDATE", id).Scan(&kind)
		if errors.Is(err, pgx.ErrNoRows) {
			return destinationNotFound(id)
		}
		if err != nil {
			return err
		}
		if kind != leadwire.KindWebhook {
			return leadwire.Errorf(leadwire.EINVALID, "destination %s is a %s destination; only webhooks have a signing secret", id, kind)
		}
		_, err = tx.Exec(ctx, `UPDATE destinations SET previous_secret = secret,
			previous_secret_until = $1, secret = $2 WHERE id = $3`, until, secret, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindDestinationByID(ctx, id)
}

const deliveryColumns = "id::text, lead_id::text, destination_id::text, status, attempts, next_attempt_at, last_error, give_up_at, created_at, updated_at"

func scanDelivery(row pgx.Row) (*leadwire.Delivery, error) {
	d := new(leadwire.Delivery)
	var next, giveUp, created, updated int64
	if err := row.Scan(&d.ID, &d.LeadID, &d.DestinationID, &d.Status, &d.Attempts, &next, &d.LastError,
		&giveUp, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.GiveUpAt, d.CreatedAt, d.UpdatedAt = fromMillis(next), fromMillis(giveUp), fromMillis(created), fromMillis(updated)
	return d, nil
}

// claimDeliveries claims, at $1 until $2, up to $4 due deliveries of
// destination $3, oldest due first. FOR UPDATE SKIP LOCKED passes over
// the rows another server is claiming right now, and a row it claimed
// and committed meanwhile is read again and no longer due: two servers
// never claim one delivery, and neither waits for the other.
const claimDeliveries = `UPDATE deliveries SET claimed_until = $2 WHERE id IN (
	SELECT id FROM deliveries
	WHERE destination_id = $3 AND status = 'pending' AND next_attempt_at <= $1 AND claimed_until <= $1
	ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
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
	ids, err := queryAll(ctx, s.pool, scanString, "SELECT id::text FROM destinations WHERE enabled ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	at := s.nowMillis()
	var claimed []*leadwire.Delivery
	for _, id := range ids {
		n := min(c.PerDestination-c.InFlight[id], c.Limit-len(claimed))
		if n <= 0 {
			continue
		}
		// Each statement commits on its own: what it claimed is the
		// caller's whatever the next one does.
		some, err := queryAll(ctx, s.pool, scanDelivery, claimDeliveries, at, at+c.Lease.Milliseconds(), id, n)
		if err != nil {
			return claimed, err
		}
		claimed = append(claimed, some...)
	}
	slices.SortFunc(claimed, func(a, b *leadwire.Delivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	return claimed, nil
}

func scanString(row pgx.Row) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}

// RecordAttempt records an attempt and its outcome and ends the claim; a
// delivery no longer pending (canceled meanwhile) keeps its status.
func (s *Store) RecordAttempt(ctx context.Context, id string, r leadwire.DeliveryResult) error {
	if err := leadwire.AuthorizeOwner(ctx, "deliver leads"); err != nil {
		return err
	}
	if !leadwire.IsCanonicalID(id) {
		return deliveryNotFound(id)
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
	at := s.nowMillis()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = CASE WHEN status = 'pending' THEN $1 ELSE status END,
			attempts = attempts + 1, next_attempt_at = $2, claimed_until = 0, last_error = $3, updated_at = $4 WHERE id = $5`,
			r.Status, r.NextAttemptAt.UnixMilli(), lastError, at, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return deliveryNotFound(id)
		}
		_, err = tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, at, status_code, duration_ms, response, error)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, a.At.UnixMilli(), a.StatusCode, a.Duration.Milliseconds(), a.Response, a.Error)
		return err
	})
}

// visibleDeliveries returns the selection of the deliveries of the leads
// the caller may see: an agent's leads' deliveries are theirs to see and
// send again, any other does not exist for them.
func visibleDeliveries(ctx context.Context) selection {
	var leads, sel selection
	leads.visibility(ctx)
	if len(leads.where) == 0 {
		return sel
	}
	// The conditions of the leads' selection number their arguments from
	// $1; sel starts with them.
	sel.args = leads.args
	sel.where = []string{"deliveries.lead_id IN (SELECT leads.id FROM leads WHERE " + strings.Join(leads.where, " AND ") + ")"}
	return sel
}

func (sel selection) condition() string {
	if len(sel.where) == 0 {
		return "true"
	}
	return strings.Join(sel.where, " AND ")
}

// FindDeliveries returns the deliveries of the leads the caller may see,
// newest first.
func (s *Store) FindDeliveries(ctx context.Context, f leadwire.DeliveryFilter) ([]*leadwire.Delivery, error) {
	if f.Limit < 0 {
		return nil, leadwire.Errorf(leadwire.EINVALID, "limit must not be negative")
	}
	if f.LeadID != "" && !leadwire.IsCanonicalID(f.LeadID) {
		return nil, nil // no lead has that id
	}
	sel := visibleDeliveries(ctx)
	if f.Status != "" {
		sel.where = append(sel.where, "deliveries.status = "+sel.arg(f.Status))
	}
	if f.LeadID != "" {
		sel.where = append(sel.where, "deliveries.lead_id = "+sel.arg(f.LeadID)+"::uuid")
	}
	query := "SELECT " + deliveryColumns + " FROM deliveries WHERE " + sel.condition() + " ORDER BY seq DESC"
	if f.Limit > 0 {
		query += " LIMIT " + sel.arg(f.Limit)
	}
	return queryAll(ctx, s.pool, scanDelivery, query, sel.args...)
}

// FindAttempts returns a delivery's attempts, oldest first.
func (s *Store) FindAttempts(ctx context.Context, deliveryID string) ([]*leadwire.Attempt, error) {
	if !leadwire.IsCanonicalID(deliveryID) {
		return nil, nil
	}
	sel := visibleDeliveries(ctx)
	sel.where = append(sel.where, "deliveries.id = "+sel.arg(deliveryID)+"::uuid")
	return queryAll(ctx, s.pool, func(row pgx.Row) (*leadwire.Attempt, error) {
		a := &leadwire.Attempt{DeliveryID: deliveryID}
		var at, ms int64
		if err := row.Scan(&at, &a.StatusCode, &ms, &a.Response, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromMillis(at), time.Duration(ms)*time.Millisecond
		return a, nil
	}, `SELECT at, status_code, duration_ms, response, error FROM delivery_attempts
		WHERE delivery_id = (SELECT id FROM deliveries WHERE `+sel.condition()+`)
		ORDER BY at, seq`, sel.args...)
}

// RetryDelivery makes a failed or canceled delivery pending again, due
// now.
func (s *Store) RetryDelivery(ctx context.Context, id string) error {
	if !leadwire.IsCanonicalID(id) {
		return deliveryNotFound(id)
	}
	sel := visibleDeliveries(ctx)
	sel.where = append(sel.where, "deliveries.id = "+sel.arg(id)+"::uuid")
	at := s.nowMillis()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM deliveries WHERE "+sel.condition()+" FOR UPDATE", sel.args...).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return deliveryNotFound(id)
		}
		if err != nil {
			return err
		}
		if status != leadwire.DeliveryFailed && status != leadwire.DeliveryCanceled {
			return leadwire.Errorf(leadwire.ECONFLICT, "delivery %s is %s; only a failed or canceled one can be sent again", id, status)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1,
			give_up_at = $1::bigint + $2::bigint, claimed_until = 0, updated_at = $1 WHERE id = $3`,
			at, leadwire.DeliveryGiveUp.Milliseconds(), id)
		return err
	})
	if err == nil {
		s.deliveriesQueued()
	}
	return err
}

// deleteDeliveries deletes the deliveries of the leads and their
// attempts, before the leads go.
func deleteDeliveries(ctx context.Context, tx pgx.Tx, leadIDs []string) error {
	for _, q := range []string{
		`DELETE FROM delivery_attempts WHERE delivery_id IN
			(SELECT id FROM deliveries WHERE lead_id = ANY($1::text[]::uuid[]))`,
		"DELETE FROM deliveries WHERE lead_id = ANY($1::text[]::uuid[])",
	} {
		if _, err := tx.Exec(ctx, q, leadIDs); err != nil {
			return err
		}
	}
	return nil
}

var _ leadwire.DeliveryService = (*Store)(nil)
