// Package chancache keeps the channels a store reads in memory for a few
// seconds: every capture needs its channel, and channels rarely change.
package chancache

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
)

// TTL is how long a channel is served from memory: a change made by
// another process (another server, leadwire channel update) holds
// everywhere within it, at the cost of one read per channel, process and
// period.
const TTL = 5 * time.Second

// Cache holds channels by id. The zero Cache is empty and ready.
type Cache struct {
	m sync.Map // id -> entry
}

type entry struct {
	c  *leadwire.Channel
	at time.Time
}

// Get returns the channel with id, shared and not to be modified: from
// memory when it was read less than TTL ago, else from read, which it
// then keeps.
func (c *Cache) Get(ctx context.Context, id string, read func(context.Context, string) (*leadwire.Channel, error)) (*leadwire.Channel, error) {
	if v, ok := c.m.Load(id); ok {
		if e := v.(entry); time.Since(e.at) < TTL {
			return e.c, nil
		}
	}
	ch, err := read(ctx, id)
	if err != nil {
		return nil, err
	}
	c.Put(ch)
	return ch, nil
}

// Put keeps ch, which must not be modified afterwards.
func (c *Cache) Put(ch *leadwire.Channel) {
	c.m.Store(ch.ID, entry{c: ch, at: time.Now()})
}

// Clone returns a copy of ch that shares nothing with it.
func Clone(ch *leadwire.Channel) *leadwire.Channel {
	clone := *ch
	clone.AllowedOrigins = slices.Clone(ch.AllowedOrigins)
	clone.Screening.Disabled = slices.Clone(ch.Screening.Disabled)
	return &clone
}
