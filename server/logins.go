package server

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
)

// Sign-ins are slowed down per account and per client address: after
// accountFailures (addressFailures) failures with no pause of
// failureWindow between them, the key is locked for lockout, and each
// further failure doubles the lock up to maxLockout. An address gets more failures than an account, since an
// office's agents may sign in from one address.
const (
	accountFailures = 5
	addressFailures = 20
	failureWindow   = 15 * time.Minute
	lockout         = time.Minute
	maxLockout      = time.Hour
	// maxLoginKeys bounds the memory kept: past it, keys idle for the
	// window are dropped.
	maxLoginKeys = 10_000
)

// loginLimiter counts failed sign-ins by key: "account:EMAIL" and
// "address:IP". It lives in the server's memory: a restart forgets it,
// which costs an attacker a restart per lock.
type loginLimiter struct {
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]*loginFailures
}

type loginFailures struct {
	count   int
	last    time.Time // the last failure
	blocked time.Time // no sign-in before this
}

// forgotten reports whether failureWindow has passed since the last
// failure and the lock: a lock longer than the window does not wipe the
// count that doubles it.
func (f *loginFailures) forgotten(now time.Time) bool {
	return now.Sub(f.last) > failureWindow && now.Sub(f.blocked) > failureWindow
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, keys: map[string]*loginFailures{}}
}

// loginKey is what failures are counted by, with how many it may have.
type loginKey struct {
	key   string
	limit int
}

func accountKey(email string) loginKey {
	return loginKey{"account:" + leadwire.EmailKey(email), accountFailures}
}

// try returns how long a sign-in under keys must wait. When it need not,
// try counts the attempt as a failure of every key before the password
// is checked, so that attempts sent in parallel cannot all pass before
// the first failure is counted; forgive takes it back.
func (l *loginLimiter) try(keys ...loginKey) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var d time.Duration
	for _, k := range keys {
		if f := l.keys[k.key]; f != nil {
			d = max(d, f.blocked.Sub(now))
		}
	}
	if d > 0 {
		return d
	}
	for _, k := range keys {
		l.fail(k, now)
	}
	return 0
}

// fail records a failed sign-in under k, which locks it from its limit-th
// failure on.
func (l *loginLimiter) fail(k loginKey, now time.Time) {
	f := l.keys[k.key]
	if f == nil || f.forgotten(now) {
		if len(l.keys) >= maxLoginKeys {
			l.sweep(now)
		}
		f = &loginFailures{}
		l.keys[k.key] = f
	}
	f.count++
	f.last = now
	if over := f.count - k.limit; over >= 0 {
		f.blocked = now.Add(min(lockout<<min(over, 20), maxLockout))
	}
}

// forgive takes back the failure try counted under k for an attempt that
// did not fail, or with all every failure of k: an account whose
// password was given is no longer under attack from that guesser.
func (l *loginLimiter) forgive(k loginKey, all bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[k.key]
	if f == nil {
		return
	}
	if f.count--; all || f.count <= 0 {
		delete(l.keys, k.key)
	} else if f.count < k.limit {
		f.blocked = time.Time{}
	}
}

// sweep drops the keys whose failures are over and forgotten.
func (l *loginLimiter) sweep(now time.Time) {
	for k, f := range l.keys {
		if f.forgotten(now) {
			delete(l.keys, k)
		}
	}
}

// addressKey is the client's IP address (see clientAddress); an IPv6 client is counted by its
// /64, the least a home or office is given, so that it cannot draw a new
// address for every guess.
func addressKey(address string) loginKey {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip = ip.Unmap(); ip.Is6() {
			ip = netip.PrefixFrom(ip, 64).Masked().Addr()
		}
		host = ip.String()
	}
	return loginKey{"address:" + host, addressFailures}
}
