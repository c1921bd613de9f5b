package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/chancache"
)

const channelColumns = "id, name, brand_id, user_id, allowed_origins, screening, created_at"

// CreateChannel validates c, gives it an ID and CreatedAt and stores it.
func (s *Store) CreateChannel(ctx context.Context, c *leadwire.Channel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	origins, screening, err := c.SettingsJSON()
	if err != nil {
		return err
	}
	o := &channelOp{name: c.Name, brandID: c.BrandID, userID: c.UserID, origins: origins, screening: screening}
	if err := s.w.do(ctx, o); err != nil {
		return err
	}
	c.ID, c.CreatedAt = o.id, o.createdAt
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
	if err := s.w.do(ctx, &updateChannelOp{id: c.ID, origins: origins, screening: screening}); err != nil {
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
	c, err := scanChannel(s.read.QueryRowContext(ctx, "SELECT "+channelColumns+" FROM channels WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	return c, err
}

// FindChannels returns every channel, oldest first.
func (s *Store) FindChannels(ctx context.Context) ([]*leadwire.Channel, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+channelColumns+" FROM channels ORDER BY created_at, id")
	if err != nil {
		return nil, err
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
	return channels, rows.Err()
}

func scanChannel(row interface{ Scan(...any) error }) (*leadwire.Channel, error) {
	var c leadwire.Channel
	var origins, screening []byte
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.BrandID, &c.UserID, &origins, &screening, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(origins, &c.AllowedOrigins); err != nil {
		return nil, err
	}
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = nil
	}
	if err := json.Unmarshal(screening, &c.Screening); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMillis(created)
	return &c, nil
}

// channelOp stores a new channel.
type channelOp struct {
	name, brandID, userID, origins, screening string

	id        string
	createdAt time.Time
}

func (o *channelOp) apply(w *writer, now time.Time) error {
	o.id, o.createdAt = newID().String(), fromMillis(now.UnixMilli())
	_, err := w.insertChannel.Exec(o.id, o.name, o.brandID, o.userID, o.origins, o.screening, now.UnixMilli())
	return err
}

// updateChannelOp replaces a channel's allowed origins and screening
// settings.
type updateChannelOp struct {
	id, origins, screening string
}

func (o *updateChannelOp) apply(w *writer, now time.Time) error {
	_, err := w.conn.ExecContext(context.Background(), "UPDATE channels SET allowed_origins = ?, screening = ? WHERE id = ?",
		o.origins, o.screening, o.id)
	return err
}
