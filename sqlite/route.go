package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/leadwire/leadwire"
)

// PauseUser pauses or resumes the user with email; see
// leadwire.DeliveryService.
func (s *Store) PauseUser(ctx context.Context, email string, paused bool) error {
	if u := leadwire.UserFromContext(ctx); u != nil && u.Role != leadwire.RoleOwner && leadwire.EmailKey(u.Email) != leadwire.EmailKey(email) {
		return leadwire.Errorf(leadwire.EFORBIDDEN, "an agent may pause only themselves")
	}
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		res, err := w.conn.ExecContext(context.Background(), "UPDATE users SET paused = ? WHERE email_key = ?", paused, leadwire.EmailKey(email))
		return notFoundIfNone(res, err, userNotFound(email))
	}))
}

// RouteLead returns the agents who get a lead's alert; see
// leadwire.DeliveryService.
func (s *Store) RouteLead(ctx context.Context, lead *leadwire.Lead, key string) ([]*leadwire.User, error) {
	if err := leadwire.AuthorizeOwner(ctx, "route leads"); err != nil {
		return nil, err
	}
	if len(lead.Payload.Assignees) > 0 {
		return s.assignedUsers(ctx, lead.Payload.Assignees)
	}
	var next *leadwire.User
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		u, err := scanUser(w.conn.QueryRowContext(ctx, "SELECT "+userColumns+` FROM channel_members m
			JOIN users u ON u.id = m.user_id
			WHERE m.channel_id = ?1 AND u.role = 'agent' AND NOT u.disabled AND NOT u.paused
			ORDER BY u.id > coalesce((SELECT last_user_id FROM channel_rotation WHERE channel_id = ?1), '') DESC, u.id
			LIMIT 1`, lead.ChannelID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no agent to take it: the notify list alone hears of it
		}
		if err != nil {
			return err
		}
		next = u
		if _, err := w.conn.ExecContext(ctx, `INSERT INTO channel_rotation (channel_id, last_user_id) VALUES (?1, ?2)
			ON CONFLICT (channel_id) DO UPDATE SET last_user_id = ?2`, lead.ChannelID, u.ID); err != nil {
			return err
		}
		// Recorded on the timeline as any change of assignees, in the
		// same commit; the key makes a repeat change nothing.
		assign := &assigneesOp{leadID: lead.ID, key: key,
			after: leadwire.NormalizeAssignees([]leadwire.Assignee{{Email: u.Email, FirstName: u.Name}})}
		return assign.apply(w, now)
	}))
	if err != nil || next == nil {
		return nil, err
	}
	return []*leadwire.User{next}, nil
}

// assignedUsers returns the enabled users whose emails or MLS ids are
// among the assignees'.
func (s *Store) assignedUsers(ctx context.Context, assignees []leadwire.Assignee) ([]*leadwire.User, error) {
	emails, mlsIDs := leadwire.AssigneeKeys(assignees)
	e, err := json.Marshal(emails)
	if err != nil {
		return nil, err
	}
	m, err := json.Marshal(mlsIDs)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.read, func(row interface{ Scan(...any) error }) (*leadwire.User, error) { return scanUser(row) },
		"SELECT "+userColumns+` FROM users u
		WHERE (u.email_key IN (SELECT value FROM json_each(?)) OR u.mls_id IN (SELECT value FROM json_each(?)))
			AND NOT u.disabled ORDER BY u.email_key`, string(e), string(m))
}
