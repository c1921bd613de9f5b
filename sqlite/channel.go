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

const channelColumns = "id, name, brand_id, user_id, allowed_origins, created_at"

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
	o := &channelOp{name: c.Name, brandID: c.BrandID, userID: c.UserID, origins: string(origins)}
	if err := s.w.do(ctx, o); err != nil {
		return err
	}
	c.ID, c.CreatedAt = o.id, o.createdAt
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
// reads the database: another process (the CLI) may have created it.
func (s *Store) channel(ctx context.Context, id string) (*leadwire.Channel, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	if c, ok := s.channels.Load(id); ok {
		return c.(*leadwire.Channel), nil
	}
	c, err := scanChannel(s.read.QueryRowContext(ctx, "SELECT "+channelColumns+" FROM channels WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "channel %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	s.channels.Store(id, c)
	return c, nil
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
		s.channels.Store(c.ID, cloneChannel(c))
		channels = append(channels, c)
	}
	return channels, rows.Err()
}

func scanChannel(row interface{ Scan(...any) error }) (*leadwire.Channel, error) {
	var c leadwire.Channel
	var origins []byte
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.BrandID, &c.UserID, &origins, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(origins, &c.AllowedOrigins); err != nil {
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

// channelOp stores a new channel.
type channelOp struct {
	name, brandID, userID, origins string

	id        string
	createdAt time.Time
}

func (o *channelOp) apply(w *writer, now time.Time) error {
	o.id, o.createdAt = newID().String(), fromMillis(now.UnixMilli())
	_, err := w.insertChannel.Exec(o.id, o.name, o.brandID, o.userID, o.origins, now.UnixMilli())
	return err
}
