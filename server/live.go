package server

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
)

// leadFeed wakes the inbox's open Leads pages when the store has new
// leads (LeadsStored), captured by this server or by another one sharing
// its database. It carries no leads: each page's stream asks the services
// for the new leads of its own filter, as its user, so what a page is sent
// is decided where everything else an agent sees is decided, and a burst
// of captures costs each page one read.
type leadFeed struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	closed chan struct{} // closed when the server shuts down
}

func newLeadFeed() *leadFeed {
	return &leadFeed{subs: map[chan struct{}]struct{}{}, closed: make(chan struct{})}
}

// notify wakes every stream; a stream already woken stays woken once.
func (f *leadFeed) notify() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// follow wakes every stream each time stored fires, until the server
// shuts down.
func (f *leadFeed) follow(stored <-chan struct{}) {
	for {
		select {
		case <-stored:
			f.notify()
		case <-f.closed:
			return
		}
	}
}

// subscribe returns a channel woken by notify, and the function that
// stops it.
func (f *leadFeed) subscribe() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	f.mu.Lock()
	f.subs[c] = struct{}{}
	f.mu.Unlock()
	return c, func() {
		f.mu.Lock()
		delete(f.subs, c)
		f.mu.Unlock()
	}
}

// close ends every stream, so that a server shutting down is not kept
// waiting by pages that stay open.
func (f *leadFeed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
}

// CloseEvents ends the inbox's event streams; call it when the server
// shuts down (http.Server.RegisterOnShutdown), or the streams keep the
// shutdown waiting.
func (s *Server) CloseEvents() { s.feed.close() }

// Timing of a stream: a page is sent what arrived at most eventsEvery
// after it was woken (a burst of captures is one read), and a comment
// every heartbeat keeps proxies from closing an idle stream.
// sinceMargin is how far before the page was read the first read looks:
// a lead is stamped before its batch commits, so one the page missed may
// be a little older than the page.
const (
	eventsEvery = 100 * time.Millisecond
	heartbeat   = 25 * time.Second
	sinceMargin = time.Minute
	// eventsMax is the most leads one read sends; a page that missed
	// more is behind anyway and shows the newest.
	eventsMax = 200
	// maxSent bounds the ids a stream remembers.
	maxSent = 1000
)

// inboxEvents streams the new leads of a Leads page as Server-Sent
// Events: each an event "lead" whose data is the page's row for it. The
// query holds the page's filter and since, when the page was read (Unix
// milliseconds). Each read walks the leads of the filter the user may
// see, newest first, down to a lead already sent or older than since,
// and sends them oldest first. The page skips a lead it already shows,
// so a reconnection that sends some again does no harm.
func (s *Server) inboxEvents(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	ms, err := strconv.ParseInt(q.Get("since"), 10, 64)
	if err != nil || ms <= 0 {
		s.inboxError(w, r, p, leadwire.Errorf(leadwire.EINVALID, "since must be the Unix milliseconds the page was read at"))
		return
	}
	q.Del("since")
	f, err := parseLeadFilter(q, false)
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	since := time.UnixMilli(ms).Add(-sinceMargin)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // the stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would hold the events back
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(": leads\n\n"))
	if rc.Flush() != nil {
		return
	}
	woken, stop := s.feed.subscribe()
	defer stop()
	ctx := r.Context()
	sent := map[string]bool{}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	// One read at once: what arrived between the page and the stream.
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.feed.closed:
			return
		case <-tick.C:
			if _, err := w.Write([]byte(": still here\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			continue
		case <-woken:
		case <-wake:
		}
		var fresh []*leadwire.Lead
		_, err := s.leadsSince(ctx, f, since, eventsMax, func(l *leadwire.Lead) bool {
			if sent[l.ID] {
				return false
			}
			fresh = append(fresh, l)
			return true
		})
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Warn("inbox events", "err", err)
			}
			return // the page's EventSource connects again
		}
		if len(sent)+len(fresh) > maxSent {
			clear(sent) // the newest are remembered below; since bounds the rest
		}
		var b bytes.Buffer
		for i := len(fresh) - 1; i >= 0; i-- { // oldest first, each put on top
			sent[fresh[i].ID] = true
			if err := s.writeEvent(&b, ctx, p, fresh[i]); err != nil {
				s.cfg.Logger.Warn("inbox events", "err", err)
				return
			}
		}
		if b.Len() > 0 {
			if _, err := w.Write(b.Bytes()); err != nil || rc.Flush() != nil {
				return
			}
		}
		select {
		case <-time.After(eventsEvery):
		case <-ctx.Done():
			return
		}
	}
}

// leadsSince calls fn with the leads of f the caller may see, newest
// first, down to the first one created before since, at most max of them;
// capped reports that there were more. fn returning false stops the walk.
// It pages without a Since filter: the leads table has no index on
// created_at (captures would pay for it), so a filter on it reads every
// older lead before it knows none is left, where the newest-first walk
// stops one page after since.
func (s *Server) leadsSince(ctx context.Context, f leadwire.LeadFilter, since time.Time, max int, fn func(*leadwire.Lead) bool) (capped bool, err error) {
	f.Since, f.Limit, f.Cursor = time.Time{}, min(max, maxPageSize), ""
	n := 0
	for {
		leads, next, err := s.cfg.Leads.SearchLeads(ctx, f)
		if err != nil {
			return false, err
		}
		for _, l := range leads {
			if l.CreatedAt.Before(since) {
				return false, nil
			}
			if n == max {
				return true, nil
			}
			n++
			if !fn(l) {
				return false, nil
			}
		}
		if next == "" {
			return false, nil
		}
		f.Cursor = next
	}
}

// writeEvent writes the event of one new lead: its id, and its row of the
// Leads page, one data line per line of HTML.
func (s *Server) writeEvent(b *bytes.Buffer, ctx context.Context, p *page, l *leadwire.Lead) error {
	var row bytes.Buffer
	if err := inboxTemplates["leads.html"].ExecuteTemplate(&row, "row", s.leadRowView(ctx, p, l)); err != nil {
		return err
	}
	b.WriteString("event: lead\nid: " + l.ID + "\n")
	for _, line := range strings.Split(strings.TrimSpace(row.String()), "\n") {
		b.WriteString("data: " + strings.TrimRight(line, "\r") + "\n")
	}
	b.WriteString("\n")
	return nil
}
