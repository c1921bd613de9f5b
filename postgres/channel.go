package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/chancache"
)

const channelColumns = "id::text, name, brand_id, user_id, allowed_origins, screening, created_at"

// CreateChannel validates c, gives it an ID and CreatedAt and stores it.
func (s *Store) CreateChannel(ctx context.Context, c *leadwire.Channel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	origins, screening, err := c.SettingsJSON()
	if err != nil {
		return err
	}
	id, at := newID().String(), s.nowMillis()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO channels (id, name, brand_id, user_id, allowed_origins, screening, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, c.Name, c.BrandID, c.UserID, origins, screening, at)
		return err
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt = id, fromMillis(at)
	s.channels.Put(chancache.Clone(c))
	return nil
}

// UpdateChannel applies u to the channel; see leadwire.ChannelService.
func (s *Store) UpdateChannel(ctx context.Context, id string, u leadwire.ChannelUpdate) (*leadwire.Channel, error) {
	c, err := s.readChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := c.Apply(u); err != nil {
		return nil, err
	}
	origins, screening, err := c.SettingsJSON()
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE channels SET allowed_origins = $1, screening = $2 WHERE id = $3", origins, screening, c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.channels.Put(chancache.Clone(c))
	return c, nil
}

// FindChannelByID returns the channel with the given id.
func (s *Store) FindChannelByID(ctx context.Context, id string) (*leadwire.Channel, error) {
	c, err := s.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	return chancache.Clone(c), nil
}

// channel returns the channel, shared and not to be modified, from the
// cache of channels (chancache.TTL).
func (s *Store) channel(ctx context.Context, id string) (*leadwire.Channel, error) {
	return s.channels.Get(ctx, id, s.readChannel)
}

// readChannel reads the channel from the database.
func (s *Store) readChannel(ctx context.Context, id string) (*leadwire.Channel, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	c, err := scanChannel(s.pool.QueryRow(ctx, "SELECT "+channelColumns+" FROM channels WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	if err != nil {
		return nil, storageFault(err)
	}
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
		s.channels.Put(chancache.Clone(c))
		channels = append(channels, c)
	}
	return channels, storageFault(rows.Err())
}

func scanChannel(row pgx.Row) (*leadwire.Channel, error) {
	var c leadwire.Channel
	var origins, screening string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.BrandID, &c.UserID, &origins, &screening, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(origins), &c.AllowedOrigins); err != nil {
		return nil, err
	}
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = nil
	}
	if err := json.Unmarshal([]byte(screening), &c.Screening); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMillis(created)
	return &c, nil
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
