// Package deliver hands captured leads to their destinations: a
// Dispatcher claims the due deliveries of the outbox (see
// leadwire.DeliveryService), gives each to the Deliverer of its
// destination's kind, records every attempt and retries with exponential
// backoff and jitter until the destination takes the lead, refuses it for
// good, or leadwire.DeliveryGiveUp has passed. The Deliverers live in
// packages of their own (webhook, relay, mail).
package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
)

// Job is one attempt to make: the delivery, its destination and its lead
// (without its timeline).
type Job struct {
	Delivery    *leadwire.Delivery
	Destination *leadwire.Destination
	Lead        *leadwire.Lead
}

// Result is how a Deliverer's attempt ended.
type Result struct {
	StatusCode int    // the destination's HTTP answer; 0 when none came or for other protocols
	Response   []byte // its first bytes
	// RetryAfter is how long the destination asked to wait (Retry-After).
	RetryAfter time.Duration
	// Err says why the attempt failed without an answer, or failed
	// whatever the answer.
	Err error
	// Permanent says retrying cannot help (a refused request, a lead the
	// destination cannot take).
	Permanent bool
}

// Deliverer hands a lead to destinations of one kind. Deliver must return
// once ctx ends.
type Deliverer interface {
	Deliver(ctx context.Context, j *Job) Result
}

// Defaults of Config.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultFirstRetry     = 10 * time.Second
	DefaultMaxRetry       = 6 * time.Hour
	DefaultPerDestination = 32
	DefaultMaxInFlight    = 256
	DefaultPoll           = time.Second
)

// Config is what a Dispatcher needs; zero durations and counts take the
// defaults above.
type Config struct {
	Deliveries leadwire.DeliveryService
	Leads      leadwire.LeadService
	Deliverers map[string]Deliverer // by destination kind

	Timeout    time.Duration // longest one attempt may take
	FirstRetry time.Duration // the wait before the first retry; each next one doubles
	MaxRetry   time.Duration // the longest wait between two attempts
	// PerDestination caps the attempts in flight to one destination, so
	// that one which hangs holds only its own deliveries; MaxInFlight caps
	// them all.
	PerDestination int
	MaxInFlight    int
	Poll           time.Duration // how often due retries are looked for
	Logger         *slog.Logger
}

// Dispatcher runs the deliveries of the outbox.
type Dispatcher struct {
	cfg   Config
	freed chan struct{} // an attempt ended: there is room for another

	mu       sync.Mutex
	inFlight map[string]int // by destination id
	total    int
}

// New returns a Dispatcher for cfg.
func New(cfg Config) *Dispatcher {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.Timeout, DefaultTimeout}, {&cfg.FirstRetry, DefaultFirstRetry}, {&cfg.MaxRetry, DefaultMaxRetry}, {&cfg.Poll, DefaultPoll}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.PerDestination <= 0 {
		cfg.PerDestination = DefaultPerDestination
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Dispatcher{cfg: cfg, freed: make(chan struct{}, 1), inFlight: map[string]int{}}
}

// Lease is how long a claim lasts: longer than an attempt with the time to
// record it. A worker that dies mid-attempt loses its claims after it.
func (d *Dispatcher) Lease() time.Duration { return 2*d.cfg.Timeout + 5*time.Second }

// Run delivers until ctx ends, then waits for the attempts in flight (each
// bounded by the timeout) and returns. It starts at once after a commit
// that made deliveries due, and looks for due retries every Poll.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	poll := time.NewTicker(d.cfg.Poll)
	defer poll.Stop()
	queued := d.cfg.Deliveries.DeliveriesQueued()
	for {
		d.start(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-queued:
		case <-d.freed:
		case <-poll.C:
		}
	}
}

// start claims the due deliveries there is room for and starts them.
func (d *Dispatcher) start(ctx context.Context, wg *sync.WaitGroup) {
	d.mu.Lock()
	room := d.cfg.MaxInFlight - d.total
	inFlight := make(map[string]int, len(d.inFlight))
	for id, n := range d.inFlight {
		inFlight[id] = n
	}
	d.mu.Unlock()
	if room <= 0 {
		return
	}
	claimed, err := d.cfg.Deliveries.ClaimDeliveries(ctx, leadwire.DeliveryClaim{
		Limit: room, Lease: d.Lease(), PerDestination: d.cfg.PerDestination, InFlight: inFlight})
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Warn("claiming deliveries failed; trying again", "err", err)
		}
		return
	}
	if len(claimed) == 0 {
		return
	}
	// One read of the destinations for the whole claim.
	all, err := d.cfg.Deliveries.FindDestinations(ctx)
	if err != nil {
		d.cfg.Logger.Warn("reading the destinations failed; the claimed deliveries are attempted after their claim", "err", err)
		return
	}
	dests := make(map[string]*leadwire.Destination, len(all))
	for _, dest := range all {
		dests[dest.ID] = dest
	}
	for _, del := range claimed {
		dest := dests[del.DestinationID]
		if dest == nil {
			continue // removed meanwhile, with its deliveries
		}
		d.mu.Lock()
		d.inFlight[del.DestinationID]++
		d.total++
		d.mu.Unlock()
		wg.Go(func() {
			release := sync.OnceFunc(func() { d.done(del.DestinationID) })
			defer release()
			d.attempt(ctx, del, dest, release)
		})
	}
}

func (d *Dispatcher) done(destinationID string) {
	d.mu.Lock()
	if d.inFlight[destinationID]--; d.inFlight[destinationID] == 0 {
		delete(d.inFlight, destinationID)
	}
	d.total--
	d.mu.Unlock()
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

// attempt makes one attempt of del and records it. It calls release once
// the destination answered: recording takes a commit, during which the
// destination can take the next lead, while the claim keeps this one from
// being claimed again.
func (d *Dispatcher) attempt(ctx context.Context, del *leadwire.Delivery, dest *leadwire.Destination, release func()) {
	lead, err := d.cfg.Leads.FindLeadByID(ctx, del.LeadID)
	if err != nil {
		// Erased meanwhile, with its deliveries; anything else is
		// attempted again once the claim ends.
		if leadwire.ErrorCode(err) != leadwire.ENOTFOUND && ctx.Err() == nil {
			d.cfg.Logger.Warn("reading a delivery's lead failed", "delivery", del.ID, "err", err)
		}
		return
	}
	start := time.Now()
	var res Result
	if dl := d.cfg.Deliverers[dest.Kind]; dl == nil {
		res = Result{Err: fmt.Errorf("this server does not deliver to %s destinations; configure it", dest.Kind)}
	} else {
		actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		res = dl.Deliver(actx, &Job{Delivery: del, Destination: dest, Lead: lead})
		if res.Err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			res.Err = fmt.Errorf("no answer within %s", d.cfg.Timeout)
		}
		cancel()
	}
	release()
	took := time.Since(start)
	outcome := d.outcome(del, res, start, took)
	if ctx.Err() != nil && res.Err != nil {
		// Stopping: the attempt was cut short, not failed. It is due again
		// at once, for the next start.
		outcome.Status, outcome.NextAttemptAt = leadwire.DeliveryPending, time.Now()
		outcome.Attempt.Error = "the server stopped during the attempt"
	}
	metrics.DeliveryAttempts.WithLabelValues(dest.Kind, outcome.Status).Inc()
	metrics.DeliverySeconds.WithLabelValues(dest.Kind).Observe(took.Seconds())
	if err := d.cfg.Deliveries.RecordAttempt(context.WithoutCancel(ctx), del.ID, outcome); err != nil {
		if leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
			d.cfg.Logger.Error("recording a delivery attempt failed; it is attempted again after its claim", "delivery", del.ID, "err", err)
		}
	}
}

// outcome decides what follows an attempt of del that began at start:
// done after a 2xx, or without an error from a Deliverer that does not
// speak HTTP; failed for good after a refusal (a 4xx other than 408
// and 429) or when the allowance of del has run out; otherwise retried
// after a backoff.
func (d *Dispatcher) outcome(del *leadwire.Delivery, res Result, start time.Time, took time.Duration) leadwire.DeliveryResult {
	a := leadwire.Attempt{DeliveryID: del.ID, At: start, StatusCode: res.StatusCode, Duration: took, Response: string(res.Response)}
	if res.Err != nil {
		a.Error = res.Err.Error()
	}
	code := res.StatusCode
	now := start.Add(took)
	switch {
	case res.Err == nil && (code == 0 || code >= 200 && code < 300):
		return leadwire.DeliveryResult{Attempt: a, Status: leadwire.DeliveryDelivered, NextAttemptAt: now}
	case res.Permanent || Refused(code):
		return leadwire.DeliveryResult{Attempt: a, Status: leadwire.DeliveryFailed, NextAttemptAt: now}
	case !now.Before(del.GiveUpAt):
		if a.Error == "" {
			a.Error = fmt.Sprintf("answered %d", code)
		}
		a.Error += fmt.Sprintf("; not delivered within %s of its capture: given up", leadwire.DeliveryGiveUp)
		return leadwire.DeliveryResult{Attempt: a, Status: leadwire.DeliveryFailed, NextAttemptAt: now}
	}
	next := now.Add(Backoff(del.Attempts+1, res.RetryAfter, d.cfg.FirstRetry, d.cfg.MaxRetry))
	if next.After(del.GiveUpAt) {
		next = del.GiveUpAt // a last attempt when the allowance ends
	}
	return leadwire.DeliveryResult{Attempt: a, Status: leadwire.DeliveryPending, NextAttemptAt: next}
}

// Refused reports whether an HTTP status refuses a request for good: a
// 4xx other than 408 (timeout) and 429 (too many requests).
func Refused(code int) bool {
	return code >= 400 && code < 500 && code != 408 && code != 429
}

// Backoff is the wait before retry number attempt (1, 2, ...): first,
// doubled for each retry before, capped at limit, with jitter between half
// and all of it so that deliveries failing together do not retry in step,
// and never shorter than what the destination asked for with Retry-After.
func Backoff(attempt int, retryAfter, first, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}
