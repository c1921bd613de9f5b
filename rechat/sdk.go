package rechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Base URLs of the hosted API.
const (
	DefaultAPIURL = "https://api.rechat.com"
	SandboxAPIURL = "https://api.sandbox.rechat.com"
)

// Settings configure an Sdk. The zero value talks to the production API
// with the tracker and the offline outbox on.
type Settings struct {
	// APIURL is the base URL of the API, e.g. the address of a leadwire
	// server. It wins over Sandbox. Default: DefaultAPIURL.
	APIURL string
	// Sandbox selects SandboxAPIURL when APIURL is empty.
	Sandbox bool
	// HTTPClient sends the requests. Default: a client with a 10 s dial
	// timeout and a 30 s overall timeout.
	HTTPClient *http.Client

	// Tracker configures the tracker cookie.
	Tracker TrackerSettings
	// DisableTracker stops Leads.Form from setting the tracker cookie and
	// makes Tracker.FromRequest ignore it.
	DisableTracker bool

	// OfflineSync configures the outbox.
	OfflineSync OfflineSyncSettings
	// DisableOfflineSync makes calls that cannot reach the API fail
	// instead of queueing.
	DisableOfflineSync bool
}

// TrackerSettings configure the cookie holding the visitor's lead id. The
// browser SDK reads and writes the same cookie, so it is not HttpOnly.
type TrackerSettings struct {
	CookieName string        // default: DefaultTrackerCookie
	MaxAge     time.Duration // default: one year
	Domain     string        // default: the host of the page
	Path       string        // default: "/"
	Secure     bool          // send the cookie over HTTPS only
}

// DefaultTrackerCookie is the tracker cookie's name, shared with the
// browser SDK.
const DefaultTrackerCookie = "rechat-sdk-tracker"

// OfflineSyncSettings configure the outbox that keeps captures and
// tracking events while the API cannot be reached.
type OfflineSyncSettings struct {
	// Dir holds the outbox. Several processes may share it. Default: a
	// folder per API URL under os.UserCacheDir().
	Dir string
	// MaxQueueSize bounds the number of queued items. Default: 500.
	MaxQueueSize int
	// MinRetryDelay and MaxRetryDelay bound the background sender's
	// exponential backoff. Defaults: 1 s and 5 min.
	MinRetryDelay, MaxRetryDelay time.Duration
	// PollInterval is how often an idle sender looks for items queued by
	// other processes (or left by crashed ones). Default: 1 min.
	PollInterval time.Duration
}

// Sdk is a client of the lead-capture API. It is safe for concurrent use.
// Call Close when done to stop its background sender.
type Sdk struct {
	// Leads captures leads, binds forms and tracks visitors.
	Leads *LeadsService

	sender *sender // nil when offline sync is disabled
}

// NewSdk returns an Sdk for settings. With offline sync on it creates the
// outbox directory and starts a background sender, which first delivers
// whatever earlier runs left queued.
func NewSdk(settings Settings) (*Sdk, error) {
	base, err := apiURL(settings)
	if err != nil {
		return nil, err
	}
	httpClient := settings.HTTPClient
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	c := &client{base: base, http: httpClient}
	sdk := &Sdk{}
	if !settings.DisableOfflineSync {
		sdk.sender, err = newSender(c, base, settings.OfflineSync)
		if err != nil {
			return nil, err
		}
	}
	tracker := &TrackerService{settings: settings.Tracker, disabled: settings.DisableTracker, client: c, sender: sdk.sender}
	if tracker.settings.CookieName == "" {
		tracker.settings.CookieName = DefaultTrackerCookie
	}
	if tracker.settings.MaxAge == 0 {
		tracker.settings.MaxAge = 365 * 24 * time.Hour
	}
	if tracker.settings.Path == "" {
		tracker.settings.Path = "/"
	}
	sdk.Leads = &LeadsService{Tracker: tracker, client: c, sender: sdk.sender}
	if sdk.sender != nil {
		go sdk.sender.run()
	}
	return sdk, nil
}

// Close stops the background sender after one last attempt to deliver the
// outbox, bounded by ctx. Items it could not deliver stay queued on disk
// for the next Sdk using the same directory; Close then returns the reason.
func (s *Sdk) Close(ctx context.Context) error {
	if s.sender == nil {
		return nil
	}
	return s.sender.close(ctx)
}

func apiURL(s Settings) (string, error) {
	base := s.APIURL
	switch {
	case base != "":
	case s.Sandbox:
		base = SandboxAPIURL
	default:
		base = DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("rechat: APIURL %q is not an http(s) URL", base)
	}
	return strings.TrimRight(base, "/"), nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 20 * time.Second
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// defaultOutboxDir keeps one outbox per API, so that leads queued for a
// sandbox are never delivered to production.
func defaultOutboxDir(base string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("rechat: no cache directory for the outbox (set OfflineSync.Dir): %w", err)
	}
	sum := sha256.Sum256([]byte(base))
	return filepath.Join(cache, "rechat", "outbox-"+hex.EncodeToString(sum[:6])), nil
}

// errClosed is returned by a second Close.
var errClosed = errors.New("rechat: sdk is closed")
