package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
)

const channelColumns = "id::text, name, brand_id, user_id, allowed_origins, created_at"

// CreateChannel validates c, gives it an ID and CreatedAt and stores it.
func (s *Store) CreateChannel(ctx context.Context, c *leadwire.Channel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	origins, err := json.Marshal(c.AllowedOrigins)
	if err != nil {
		return err
	}
	if c.AllowedOrigins == nil {
		origins = []byte("[]")
	}
	id, at := newID().String(), s.nowMillis()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO channels (id, name, brand_id, user_id, allowed_origins, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, c.Name, c.BrandID, c.UserID, string(origins), at)
		return err
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt = id, fromMillis(at)
	s.channels.Store(c.ID, cloneChannel(c))
	return nil
}

// FindChannelByID returns the channel with the given id.
func (s *Store) FindChannelByID(ctx context.Context, id string) (*leadwire.Channel, error) {
	c, err := s.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	return cloneChannel(c), nil
}

// channel returns the cached channel, shared and not to be modified. A miss
// reads the database: another server or the CLI may have created it.
func (s *Store) channel(ctx context.Context, id string) (*leadwire.Channel, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	if c, ok := s.channels.Load(id); ok {
		return c.(*leadwire.Channel), nil
	}
	c, err := scanChannel(s.pool.QueryRow(ctx, "SELECT "+channelColumns+" FROM channels WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	if err != nil {
		return nil, storageFault(err)
	}
	s.channels.Store(id, c)
	return c, nil
}

// FindChannels returns every channel, oldest first.
func (s *Store) FindChannels(ctx context.Context) ([]*leadwire.Channel, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+channelColumns+" FROM channels ORDER BY created_at, id")
	if err != nil {
		return nil, storageFault(err)
	}
	defer rows.Close()
	var channels []*leadwire.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		s.channels.Store(c.ID, cloneChannel(c))
		channels = append(channels, c)
	}
	return channels, storageFault(rows.Err())
}

func scanChannel(row pgx.Row) (*leadwire.Channel, error) {
	var c leadwire.Channel
	var origins string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.BrandID, &c.UserID, &origins, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(origins), &c.AllowedOrigins); err != nil {
		return nil, err
	}
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = nil
	}
	c.CreatedAt = fromMillis(created)
	return &c, nil
}

func cloneChannel(c *leadwire.Channel) *leadwire.Channel {
	clone := *c
	clone.AllowedOrigins = slices.Clone(c.AllowedOrigins)
	return &clone
}

// defaultChannelLock is the advisory lock EnsureDefaultChannel holds.
const defaultChannelLock = migrationLock + 1

// EnsureDefaultChannel is leadwire.EnsureDefaultChannel holding a lock
// that every server takes, so that servers starting together on an empty
// database create one default channel, not one each.
func (s *Store) EnsureDefaultChannel(ctx context.Context) (c *leadwire.Channel, created bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, storageFault(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(defaultChannelLock)); err != nil {
		return nil, false, storageFault(err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(defaultChannelLock))
	return leadwire.EnsureDefaultChannel(ctx, s)
}
