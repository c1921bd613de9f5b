package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/leadwire/leadwire"
)

const channelColumns = "id, name, brand_id, user_id, allowed_origins, screening, created_at"

// channelCacheTTL is how long a channel is served from memory: a change
// made by another process (leadwire channel update) holds within it, at
// the cost of one read per channel and period.
const channelCacheTTL = 5 * time.Second

// cachedChannel is a channel as read at a time.
type cachedChannel struct {
	c  *leadwire.Channel
	at time.Time
}

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
	s.cacheChannel(cloneChannel(c))
	return nil
}

// UpdateChannel applies u to the channel; see leadwire.ChannelService.
func (s *Store) UpdateChannel(ctx context.Context, id string, u leadwire.ChannelUpdate) (*leadwire.Channel, error) {
	c, err := s.readChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.AllowedOrigins != nil {
		c.AllowedOrigins = slices.Clone(*u.AllowedOrigins)
	}
	if u.Screening != nil {
		c.Screening = *u.Screening
		c.Screening.Disabled = slices.Clone(u.Screening.Disabled)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	origins, screening, err := c.SettingsJSON()
	if err != nil {
		return nil, err
	}
	if err := s.w.do(ctx, &updateChannelOp{id: c.ID, origins: origins, screening: screening}); err != nil {
		return nil, err
	}
	s.cacheChannel(cloneChannel(c))
	return c, nil
}

// FindChannelByID returns the channel with the given id.
func (s *Store) FindChannelByID(ctx context.Context, id string) (*leadwire.Channel, error) {
	c, err := s.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	return cloneChannel(c), nil
}

// channel returns the cached channel, shared and not to be modified. A
// miss, or an entry older than channelCacheTTL, reads the database:
// another process (the CLI) may have created or changed it.
func (s *Store) channel(ctx context.Context, id string) (*leadwire.Channel, error) {
	if v, ok := s.channels.Load(id); ok {
		if e := v.(cachedChannel); time.Since(e.at) < channelCacheTTL {
			return e.c, nil
		}
	}
	c, err := s.readChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	s.cacheChannel(c)
	return c, nil
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

func (s *Store) cacheChannel(c *leadwire.Channel) {
	s.channels.Store(c.ID, cachedChannel{c: c, at: time.Now()})
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
		s.cacheChannel(cloneChannel(c))
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

func cloneChannel(c *leadwire.Channel) *leadwire.Channel {
	clone := *c
	clone.AllowedOrigins = slices.Clone(c.AllowedOrigins)
	clone.Screening.Disabled = slices.Clone(c.Screening.Disabled)
	return &clone
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
