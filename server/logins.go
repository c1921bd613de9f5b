package server

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
)

// Sign-ins are slowed down per account and per client address: after
// maxFailures failures with no pause of failureWindow between them, the
// key is locked for lockout, and each further failure doubles the lock up
// to maxLockout. An address gets more failures than an account, since an
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

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, keys: map[string]*loginFailures{}}
}

// wait returns how long sign-ins with any of keys must wait, 0 when they
// may go ahead.
func (l *loginLimiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var d time.Duration
	for _, k := range keys {
		if f := l.keys[k]; f != nil {
			d = max(d, f.blocked.Sub(now))
		}
	}
	return d
}

// fail records a failed sign-in under key, which locks it from its
// limit-th failure on.
func (l *loginLimiter) fail(key string, limit int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.keys[key]
	if f == nil || (now.Sub(f.last) > failureWindow && !now.Before(f.blocked)) {
		if len(l.keys) >= maxLoginKeys {
			l.sweep(now)
		}
		f = &loginFailures{}
		l.keys[key] = f
	}
	f.count++
	f.last = now
	if over := f.count - limit; over >= 0 {
		f.blocked = now.Add(min(lockout<<min(over, 20), maxLockout))
	}
}

// succeed forgets the failures of key.
func (l *loginLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// sweep drops the keys whose failures are over and forgotten.
func (l *loginLimiter) sweep(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.last) > failureWindow && !now.Before(f.blocked) {
			delete(l.keys, k)
		}
	}
}

// throttled answers 429 with Retry-After when sign-ins for email or from
// the request's address are locked.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, email string) bool {
	d := s.logins.wait(accountKey(email), addressKey(r))
	if d <= 0 {
		return false
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.error(w, r, leadwire.Errorf(leadwire.ETOOMANY, "too many failed sign-ins for this account or from this address; retry in %d seconds", secs))
	return true
}

func accountKey(email string) string { return "account:" + leadwire.EmailKey(email) }

// addressKey is the client's IP address; an IPv6 client is counted by its
// /64, the least a home or office is given, so that it cannot draw a new
// address for every guess.
func addressKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "address:" + host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return "address:" + ip.String()
}
