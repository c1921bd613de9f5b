package screen

import (
	"crypto/sha256"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/leadwire/leadwire"
)

// maxKeys bounds the memory of the rate buckets and of the recent bodies:
// past it, a sweep drops what no longer matters.
const maxKeys = 100_000

// bucket is a token bucket: it holds up to its capacity, refills at a
// steady rate, and each capture takes one token.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b for the time since it was last used and takes a token.
// When none is left it returns how long until one is.
func (b *bucket) take(now time.Time, capacity, perSecond float64) (wait time.Duration) {
	b.tokens = min(capacity, b.tokens+now.Sub(b.last).Seconds()*perSecond)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	}
	b.tokens--
	return 0
}

// buckets holds the rate buckets by key: "a" + channel + address for an
// address on a channel, "c" + channel for a channel.
type buckets struct {
	m         map[string]*bucket
	lastSweep time.Time
}

func (b *buckets) init() { b.m = map[string]*bucket{} }

// get returns the bucket of key, full when new.
func (b *buckets) get(key string, now time.Time, capacity float64) *bucket {
	k, ok := b.m[key]
	if !ok {
		k = &bucket{tokens: capacity, last: now}
		b.m[key] = k
	}
	return k
}

// sweep drops the buckets idle for an hour: full again at the default
// rates, and as good as new. It runs once a minute, or once a second while
// the map is over maxKeys, when it also drops buckets at random down to
// half of that: a flood from that many addresses resets some of their
// limits rather than fill the server's memory.
func (b *buckets) sweep(now time.Time) {
	if !sweepDue(&b.lastSweep, now, len(b.m)) {
		return
	}
	for k, v := range b.m {
		if now.Sub(v.last) > time.Hour {
			delete(b.m, k)
		}
	}
	shrink(b.m)
}

// sweepDue reports whether a map of n keys last swept at *last is due a
// sweep now, and records it.
func sweepDue(last *time.Time, now time.Time, n int) bool {
	since := now.Sub(*last)
	if since < time.Minute && (n < maxKeys || since < time.Second) {
		return false
	}
	*last = now
	return true
}

// shrink drops keys of m at random, when it holds more than maxKeys,
// down to half of that.
func shrink[V any](m map[string]V) {
	if len(m) <= maxKeys {
		return
	}
	for k := range m {
		if len(m) <= maxKeys/2 {
			return
		}
		delete(m, k)
	}
}

// limit takes a token from the address's and the channel's buckets and
// returns the reason and the wait of a refusal, or "" when both had one.
func (s *Screener) limit(in *input) (string, time.Duration) {
	set := in.set
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets.sweep(in.now)
	if set.Enabled(ReasonAddressRate) && countsAsVisitor(in.c.Source.Address) {
		n := float64(orDefault(set.AddressRate, leadwire.DefaultAddressRate))
		b := s.buckets.get("a"+in.ch.ID+addressKey(in.c.Source.Address), in.now, n)
		if wait := b.take(in.now, n, n/3600); wait > 0 {
			return ReasonAddressRate, wait
		}
	}
	if set.Enabled(ReasonChannelRate) {
		burst := float64(orDefault(set.ChannelBurst, leadwire.DefaultChannelBurst))
		rate := float64(orDefault(set.ChannelRate, leadwire.DefaultChannelRate)) / 60
		if wait := s.buckets.get("c"+in.ch.ID, in.now, burst).take(in.now, burst, rate); wait > 0 {
			return ReasonChannelRate, wait
		}
	}
	return "", 0
}

// countsAsVisitor reports whether an address is a visitor's, to be
// limited on its own. A loopback address is the server's own machine: a
// script there, or a reverse proxy not declared with --trusted-proxy,
// behind which every visitor would share the address and the limit.
func countsAsVisitor(address string) bool {
	ip, err := netip.ParseAddr(address)
	return err == nil && !ip.Unmap().IsLoopback()
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// addressKey is what an address is counted by: an IPv6 client by its
// /64, the least a home or office is given, so that it cannot draw a new
// address for every post.
func addressKey(address string) string {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return address
	}
	if ip = ip.Unmap(); ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip.String()
}

// Repeated bodies: the same message from more than repeatAddresses
// addresses within repeatWindow is a campaign, not a coincidence. Short
// messages ("Call me") are left alone: people write them alike.
const (
	repeatAddresses = 3
	repeatWindow    = time.Hour
	minRepeatLength = 24
)

// bodies remembers, by channel and message, the addresses that sent it
// lately.
type bodies struct {
	m         map[string]*senders // by the SHA-256 of channel and message
	lastSweep time.Time
}

type senders struct {
	addresses []string // at most repeatAddresses+1
	last      time.Time
}

func (b *bodies) init() { b.m = map[string]*senders{} }

// repeatedBody quarantines a message that more than repeatAddresses other
// addresses sent to the channel within the window.
func repeatedBody(s *Screener, in *input) float64 {
	text := messageText(in.c)
	if len(text) < minRepeatLength || in.c.Source.Address == "" {
		return 0
	}
	sum := sha256.Sum256([]byte(in.ch.ID + "\x00" + text))
	key := string(sum[:])
	address := addressKey(in.c.Source.Address)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sweepDue(&s.bodies.lastSweep, in.now, len(s.bodies.m)) {
		for k, v := range s.bodies.m {
			if in.now.Sub(v.last) > repeatWindow {
				delete(s.bodies.m, k)
			}
		}
		shrink(s.bodies.m)
	}
	e, ok := s.bodies.m[key]
	if !ok || in.now.Sub(e.last) > repeatWindow {
		e = &senders{}
		s.bodies.m[key] = e
	}
	e.last = in.now
	for _, a := range e.addresses {
		if a == address {
			return 0 // the same visitor sending again: the rate limit's business
		}
	}
	if len(e.addresses) >= repeatAddresses {
		return 1
	}
	e.addresses = append(e.addresses, address)
	return 0
}

// messageText is what the visitors of a capture wrote, folded so that
// spacing and case do not make two copies differ.
func messageText(c *leadwire.Capture) string {
	var b strings.Builder
	for _, l := range c.Leads {
		m, _ := l.Payload.Extra["message"].(string)
		for _, s := range []string{l.Payload.Note, m} {
			space := true
			for _, r := range s {
				if unicode.IsSpace(r) {
					space = true
					continue
				}
				if space && b.Len() > 0 {
					b.WriteByte(' ')
				}
				space = false
				b.WriteRune(unicode.ToLower(r))
			}
		}
	}
	return b.String()
}
