package leadwire

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Destination kinds: where a delivery hands a lead.
const (
	KindWebhook      = "webhook"      // a signed POST of the lead document (Standard Webhooks)
	KindRechat       = "rechat"       // a Rechat channel's webhook
	KindFollowUpBoss = "followupboss" // Follow Up Boss's events API
	KindMail         = "mail"         // an e-mail alert
)

// FollowUpBossEvents is the URL of Follow Up Boss's events API, where a
// followupboss destination sends leads unless it names another.
const FollowUpBossEvents = "https://api.followupboss.com/v1/events"

// DestinationKinds lists the destination kinds.
var DestinationKinds = []string{KindWebhook, KindRechat, KindFollowUpBoss, KindMail}

// SecretGrace is how long a destination's previous secret still signs
// after RotateSecret, so a receiver can change to the new one meanwhile.
const SecretGrace = 24 * time.Hour

// Destination is a system every lead of a channel (or of every channel)
// is handed to: a webhook receiver, another CRM, a mailbox.
type Destination struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"` // one of DestinationKinds
	URL       string `json:"url,omitempty"`
	ChannelID string `json:"channel_id,omitempty"` // "" for every channel
	// Secret signs webhooks ("whsec_" and base64) or is the API key of
	// another CRM. It is never listed; only the command that creates or
	// rotates it shows it.
	Secret string `json:"-"`
	// PreviousSecret still signs until PreviousSecretUntil, after a
	// rotation.
	PreviousSecret      string    `json:"-"`
	PreviousSecretUntil time.Time `json:"-"`
	Enabled             bool      `json:"enabled"`
	CreatedAt           time.Time `json:"created_at"`
}

// NotifyList returns the addresses of a mail destination's URL
// ("mailto:a@example.com,b@example.com"), who get every alert beside the
// lead's agents. Errors: EINVALID for a URL of another form.
func (d *Destination) NotifyList() ([]string, error) {
	if d.URL == "" {
		return nil, nil
	}
	list, ok := strings.CutPrefix(d.URL, "mailto:")
	if !ok {
		return nil, Errorf(EINVALID, "url %q of a mail destination is not mailto:ADDRESS,ADDRESS...", d.URL)
	}
	addrs, err := mail.ParseAddressList(list)
	if err != nil {
		return nil, Errorf(EINVALID, "url %q of a mail destination: %v", d.URL, err)
	}
	emails := make([]string, len(addrs))
	for i, a := range addrs {
		emails[i] = a.Address
	}
	return emails, nil
}

// Secrets returns the secrets that sign at now, newest first.
func (d *Destination) Secrets(now time.Time) []string {
	secrets := []string{d.Secret}
	if d.PreviousSecret != "" && now.Before(d.PreviousSecretUntil) {
		secrets = append(secrets, d.PreviousSecret)
	}
	return secrets
}

// Validate trims d's fields and reports an EINVALID error for an unknown
// kind or a URL its kind cannot use. A webhook without a secret gets a new
// one.
func (d *Destination) Validate() error {
	d.Kind, d.URL, d.ChannelID = strings.TrimSpace(d.Kind), strings.TrimSpace(d.URL), strings.TrimSpace(d.ChannelID)
	if !slices.Contains(DestinationKinds, d.Kind) {
		return Errorf(EINVALID, "kind %q is not one of %s", d.Kind, strings.Join(DestinationKinds, ", "))
	}
	if d.Kind == KindFollowUpBoss && d.URL == "" {
		d.URL = FollowUpBossEvents
	}
	if d.Kind == KindMail {
		if _, err := d.NotifyList(); err != nil {
			return err
		}
	} else if u, err := url.Parse(d.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Errorf(EINVALID, "url %q is not an http:// or https:// URL", d.URL)
	}
	if d.Kind == KindFollowUpBoss && d.Secret == "" {
		return Errorf(EINVALID, "a Follow Up Boss destination needs its API key")
	}
	if d.Kind == KindWebhook && d.Secret == "" {
		d.Secret = NewWebhookSecret()
	}
	return nil
}

// NewWebhookSecret returns a new webhook signing secret: "whsec_" and 32
// random bytes in base64, as the Standard Webhooks specification writes
// them.
func NewWebhookSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return b
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // the destination accepted it
	DeliveryFailed    = "failed"    // refused for good, or not accepted within DeliveryGiveUp
	DeliveryCanceled  = "canceled"  // the lead was marked spam before it went out
)

// DeliveryGiveUp is how long a delivery is retried before it fails for
// good.
const DeliveryGiveUp = 24 * time.Hour

// Delivery is one lead to hand to one destination. Its ID is stable over
// every attempt, so a receiver drops repeats by it (at-least-once
// delivery); a lead has at most one delivery per destination.
type Delivery struct {
	ID            string    `json:"id"`
	LeadID        string    `json:"lead_id"`
	DestinationID string    `json:"destination_id"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"` // when pending
	LastError     string    `json:"last_error,omitempty"`
	GiveUpAt      time.Time `json:"give_up_at"` // it fails for good when not delivered by then
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Attempt is one try of a delivery, as recorded.
type Attempt struct {
	DeliveryID string        `json:"delivery_id"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code,omitempty"` // 0 when no answer came
	Duration   time.Duration `json:"duration_ns"`
	Response   string        `json:"response,omitempty"` // the first bytes of the answer
	Error      string        `json:"error,omitempty"`
}

// MaxAttemptResponse is how many bytes of an answer an Attempt keeps.
const MaxAttemptResponse = 512

// DeliveryClaim asks for due deliveries.
type DeliveryClaim struct {
	Limit int           // at most this many
	Lease time.Duration // claimed for this long; then others may claim them again
	// PerDestination caps the deliveries of one destination claimed and
	// in flight; InFlight holds, by destination id, those in flight.
	PerDestination int
	InFlight       map[string]int
}

// DeliveryResult is how an attempt ended: Status is DeliveryPending (with
// NextAttemptAt) to retry, or DeliveryDelivered or DeliveryFailed.
type DeliveryResult struct {
	Attempt       Attempt
	Status        string
	NextAttemptAt time.Time
}

// DeliveryFilter selects deliveries. Zero values select everything.
type DeliveryFilter struct {
	Status string // one of the Delivery statuses
	LeadID string
	Limit  int
}

// DeliveryService keeps destinations and the outbox of deliveries. The
// deliveries of a lead are created with the lead, in the same commit, for
// every enabled destination of its channel or of every channel, except
// for a lead stored as StatusSpam: it gets them when it is marked
// otherwise. Destinations, claims and attempts are for an owner (or a
// caller acting as nobody: the command line, the dispatcher), others get
// EFORBIDDEN; an agent sees, and may send again, the deliveries of the
// leads they may see, and no other delivery exists for them.
type DeliveryService interface {
	// CreateDestination validates d, gives it an ID and CreatedAt and
	// stores it, enabled. Errors: EINVALID, ENOTFOUND for an unknown
	// channel.
	CreateDestination(ctx context.Context, d *Destination) error
	// FindDestinations returns every destination, oldest first.
	FindDestinations(ctx context.Context) ([]*Destination, error)
	// FindDestinationByID returns the destination with its secrets.
	// Errors: ENOTFOUND.
	FindDestinationByID(ctx context.Context, id string) (*Destination, error)
	// RemoveDestination deletes a destination with its deliveries and
	// their attempts. Errors: ENOTFOUND.
	RemoveDestination(ctx context.Context, id string) error
	// RotateSecret gives a webhook destination a new secret and keeps the
	// current one signing for SecretGrace; it returns the destination.
	// Errors: ENOTFOUND, EINVALID for a destination of another kind.
	RotateSecret(ctx context.Context, id string) (*Destination, error)

	// ClaimDeliveries claims pending deliveries that are due, oldest due
	// first, for c.Lease: a worker that dies loses its claims when they
	// expire.
	ClaimDeliveries(ctx context.Context, c DeliveryClaim) ([]*Delivery, error)
	// RecordAttempt records an attempt of a claimed delivery and its
	// outcome, and ends the claim.
	RecordAttempt(ctx context.Context, id string, r DeliveryResult) error
	// FindDeliveries returns the deliveries of the leads the caller may
	// see, newest first.
	FindDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// FindAttempts returns a delivery's attempts, oldest first.
	FindAttempts(ctx context.Context, deliveryID string) ([]*Attempt, error)
	// RetryDelivery makes a failed or canceled delivery pending again, due
	// now, with a new allowance of DeliveryGiveUp. Errors: ENOTFOUND,
	// ECONFLICT for a delivery that is pending or delivered.
	// FindAttempts and RetryDelivery see the deliveries FindDeliveries
	// lists.
	RetryDelivery(ctx context.Context, id string) error
	// DeliveriesQueued returns a channel that receives a value after
	// deliveries became due in this process (a capture, a retry), so a
	// dispatcher starts at once rather than at its next poll.
	DeliveriesQueued() <-chan struct{}

	// RouteLead returns the agents who get a lead's alert: the enabled
	// users whose emails or MLS ids are among the lead's assignees'; for a lead with
	// none, the next agent of its channel's members in turn who has not
	// paused, made its assignee as ReplaceAssignees with key does, so the
	// change is on its timeline, once. None when no agent fits. Errors:
	// ENOTFOUND for a lead erased meanwhile.
	RouteLead(ctx context.Context, lead *Lead, key string) ([]*User, error)
	// PauseUser pauses (or resumes) the user with email: a paused agent
	// gets no lead in turn, though leads assigned to them by name still
	// reach them. An agent may pause only themselves. Errors: ENOTFOUND,
	// EFORBIDDEN.
	PauseUser(ctx context.Context, email string, paused bool) error
}

// AuthorizeOwner reports an EFORBIDDEN error saying the caller may not
// do what unless ctx acts as an owner or as nobody.
func AuthorizeOwner(ctx context.Context, what string) error {
	if u := UserFromContext(ctx); u != nil && u.Role != RoleOwner {
		return Errorf(EFORBIDDEN, "only an owner may %s", what)
	}
	return nil
}

// AssigneeKeys returns what finds the users among assignees: their email
// keys (EmailKey) and their MLS ids, each list without empty values.
func AssigneeKeys(assignees []Assignee) (emails, mlsIDs []string) {
	emails, mlsIDs = []string{}, []string{}
	for _, a := range assignees {
		if k := EmailKey(a.Email); k != "" {
			emails = append(emails, k)
		}
		if id := strings.TrimSpace(a.MLSID); id != "" {
			mlsIDs = append(mlsIDs, id)
		}
	}
	return emails, mlsIDs
}
