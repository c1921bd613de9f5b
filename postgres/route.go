package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
)

// PauseUser pauses or resumes the user with email; see
// leadwire.DeliveryService.
func (s *Store) PauseUser(ctx context.Context, email string, paused bool) error {
	if u := leadwire.UserFromContext(ctx); u != nil && u.Role != leadwire.RoleOwner && leadwire.EmailKey(u.Email) != leadwire.EmailKey(email) {
		return leadwire.Errorf(leadwire.EFORBIDDEN, "an agent may pause only themselves")
	}
	tag, err := s.pool.Exec(ctx, "UPDATE users SET paused = $1 WHERE email_key = $2", paused, leadwire.EmailKey(email))
	if err != nil {
		return storageFault(err)
	}
	if tag.RowsAffected() == 0 {
		return userNotFound(email)
	}
	return nil
}

// RouteLead returns the agents who get a lead's alert; see
// leadwire.DeliveryService. The channel's row of channel_rotation is
// locked while the next agent is chosen and made the assignee, so servers
// routing leads of one channel at once take turns in one order.
func (s *Store) RouteLead(ctx context.Context, lead *leadwire.Lead, key string) ([]*leadwire.User, error) {
	if err := leadwire.AuthorizeOwner(ctx, "route leads"); err != nil {
		return nil, err
	}
	if len(lead.Payload.Assignees) > 0 {
		emails, mlsIDs := leadwire.AssigneeKeys(lead.Payload.Assignees)
		return queryAll(ctx, s.pool, func(row pgx.Row) (*leadwire.User, error) { return scanUser(row) },
			"SELECT "+userColumns+` FROM users u WHERE (u.email_key = ANY($1) OR u.mls_id = ANY($2)) AND NOT u.disabled
			ORDER BY u.email_key`, emails, mlsIDs)
	}
	if !leadwire.IsCanonicalID(lead.ID) || !leadwire.IsCanonicalID(lead.ChannelID) {
		return nil, leadNotFound(lead.ID)
	}
	at := s.nowMillis()
	var next *leadwire.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		next = nil
		if _, err := tx.Exec(ctx, `INSERT INTO channel_rotation (channel_id, last_user_id) VALUES ($1, '')
			ON CONFLICT (channel_id) DO NOTHING`, lead.ChannelID); err != nil {
			return err
		}
		var last string
		if err := tx.QueryRow(ctx, "SELECT last_user_id FROM channel_rotation WHERE channel_id = $1 FOR UPDATE",
			lead.ChannelID).Scan(&last); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+` FROM channel_members m
			JOIN users u ON u.id = m.user_id
			WHERE m.channel_id = $1 AND u.role = 'agent' AND NOT u.disabled AND NOT u.paused
			ORDER BY u.id::text > $2 DESC, u.id LIMIT 1`, lead.ChannelID, last))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // no agent to take it: the notify list alone hears of it
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE channel_rotation SET last_user_id = $1 WHERE channel_id = $2", u.ID, lead.ChannelID); err != nil {
			return err
		}
		// Recorded on the timeline as any change of assignees, in the
		// same commit; the key makes a repeat change nothing.
		change := assigneesChange{After: leadwire.NormalizeAssignees([]leadwire.Assignee{{Email: u.Email, FirstName: u.Name}})}
		if err := replaceAssignees(ctx, tx, lead.ID, change, key, at); err != nil {
			return err
		}
		next = u
		return nil
	})
	if err != nil || next == nil {
		return nil, err
	}
	return []*leadwire.User{next}, nil
}
