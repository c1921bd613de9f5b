// Package server is leadwire's HTTP layer: the lead-capture API the browser
// and Go SDKs call, the SDK assets, the demo page, the authenticated API and
// the inbox's pages (inbox*.go, pages/inbox). It turns requests into calls
// on the root package's services and their errors into statuses.
package server

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
	"github.com/leadwire/leadwire/sdk"
)

// DefaultMaxBody is the largest request body accepted, in bytes.
const DefaultMaxBody = 64 << 10

// MaxHeaderBytes limits the request line and headers: SDK requests carry
// a few hundred bytes of them, and net/http's default (1 MiB) lets each
// connection hold a megabyte for nothing. Larger requests get a 431.
const MaxHeaderBytes = 64 << 10

// retryAfter is the Retry-After, in seconds, of a 503: the SDKs keep the
// request and send it again no sooner, backing off further on each 503.
const retryAfter = "5"

// corsMaxAge is how long browsers may cache a preflight answer, in seconds.
const corsMaxAge = "86400"

//go:embed openapi.yaml
var openAPI []byte

// Config is what the server needs.
type Config struct {
	Leads    leadwire.LeadService
	Channels leadwire.ChannelService
	Contacts leadwire.ContactService
	// Users authenticates the /api routes; nil refuses every credential.
	Users leadwire.UserService
	// Deliveries answers the /api routes of delivery; nil answers 404.
	Deliveries leadwire.DeliveryService
	// SecureCookies sets Secure on the session cookie of requests that
	// came over plain HTTP too: behind a proxy that terminates TLS.
	SecureCookies bool
	// DemoChannelID is the channel the demo page at / posts to.
	DemoChannelID string
	// MaxBody limits request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// MaxLeads limits the leads one capture creates (an XML lead list
	// holds several); 0 means wire.DefaultMaxLeads.
	MaxLeads int
	// Screener screens every capture before it is stored; nil stores
	// every capture unscreened.
	Screener leadwire.Screener
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; a request from anywhere else is its own client.
	TrustedProxies []netip.Prefix
	// Health reports whether a capture can be stored now, with an
	// EUNAVAILABLE error naming why not; GET /healthz answers it. nil
	// means always.
	Health func() error
	Logger *slog.Logger // nil means slog.Default()
}

// Server serves the lead-capture API.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	logins *loginLimiter
	feed   *leadFeed // wakes the inbox's open Leads pages
}

// route is one entry of the API. The same table builds the mux and is
// checked against openapi.yaml, so the document cannot miss a route.
type route struct {
	pattern string
	methods map[string]http.HandlerFunc
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), logins: newLoginLimiter(time.Now), feed: newLeadFeed()}
	if cfg.Leads != nil {
		go s.feed.follow(cfg.Leads.LeadsStored())
	}
	for _, r := range slices.Concat(s.routes(), s.inboxRoutes()) {
		s.mux.HandleFunc(r.pattern, s.dispatch(r))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, leadwire.Errorf(leadwire.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path))
	})
	return s
}

func (s *Server) routes() []route {
	return slices.Concat([]route{
		{"/leads/channels/{lead_channel}/webhook", map[string]http.HandlerFunc{
			http.MethodPost: s.capture, http.MethodOptions: preflight(http.MethodPost)}},
		{"/leads/{lead_id}/timeline", map[string]http.HandlerFunc{
			http.MethodPost: s.timeline, http.MethodOptions: preflight(http.MethodPost)}},
		{"/leads/{lead_id}/assignees", map[string]http.HandlerFunc{
			http.MethodPut: s.assignees, http.MethodOptions: preflight(http.MethodPut)}},
		{"/healthz", map[string]http.HandlerFunc{http.MethodGet: s.healthz}},
		{"/metrics", map[string]http.HandlerFunc{http.MethodGet: metrics.Handler().ServeHTTP}},
		{"/openapi.yaml", map[string]http.HandlerFunc{http.MethodGet: s.openAPI}},
		{"/sdk/{file}", map[string]http.HandlerFunc{http.MethodGet: s.sdkFile}},
		{"/{$}", map[string]http.HandlerFunc{http.MethodGet: sdk.Demo(s.cfg.DemoChannelID).ServeHTTP}},
	}, s.authRoutes(), s.apiRoutes(), s.deliveryRoutes())
}

// dispatch answers a route's methods; any other method is a 405 that
// lists the allowed ones.
func (s *Server) dispatch(rt route) http.HandlerFunc {
	allowed := strings.Join(slices.Sorted(maps.Keys(rt.methods)), ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if h, ok := rt.methods[method]; ok {
			h(w, r)
			return
		}
		w.Header().Set("Allow", allowed)
		s.error(w, r, leadwire.Errorf(leadwire.EMETHOD, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allowed))
	}
}

// ServeHTTP recovers from panics so a bug answers 500 instead of
// dropping the connection, and logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.error(w, r, leadwire.Errorf(leadwire.EINTERNAL, "panic: %v", v))
		}
	}()
	// The mux would redirect a path with an empty or dot segment, like
	// the webhook of an empty channel id, to its cleaned form; an API
	// client is better told that nothing is there.
	if p := r.URL.Path; p != cleanPath(p) {
		s.error(w, r, leadwire.Errorf(leadwire.ENOTFOUND, "no route for %s %s", r.Method, p))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath is path.Clean keeping a trailing slash, as the mux cleans.
func cleanPath(p string) string {
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// healthz answers 200 while a capture can be stored now and 503 with the
// reason otherwise (starting, disk full, read-only, database deleted), so
// that a load balancer or supervisor acts before leads are refused.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Health != nil {
		if err := s.cfg.Health(); err != nil {
			s.error(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: map[string]string{"status": "ok"}})
}

func (s *Server) sdkFile(w http.ResponseWriter, r *http.Request) {
	if !sdk.Serve(w, r, r.PathValue("file")) {
		s.error(w, r, leadwire.Errorf(leadwire.ENOTFOUND, "no SDK file %s; there are rechat.min.js, rechat.js, rechat.esm.js, rechat.d.ts and rechat.min.css", r.PathValue("file")))
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(openAPI)
}

type okBody struct {
	Code string `json:"code"`
	Data any    `json:"data"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusOf maps error codes to HTTP statuses, in one place.
var statusOf = map[string]int{
	leadwire.EINVALID:      http.StatusBadRequest,
	leadwire.EFORBIDDEN:    http.StatusForbidden,
	leadwire.ENOTFOUND:     http.StatusNotFound,
	leadwire.EMETHOD:       http.StatusMethodNotAllowed,
	leadwire.ECONFLICT:     http.StatusConflict,
	leadwire.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	leadwire.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	leadwire.EUNAVAILABLE:  http.StatusServiceUnavailable,
	leadwire.EUNAUTHORIZED: http.StatusUnauthorized,
	leadwire.ETOOMANY:      http.StatusTooManyRequests,
	leadwire.EINTERNAL:     http.StatusInternalServerError,
}

// error writes err as a JSON error. Internal errors are logged with a
// request id and the client sees only that id. An unavailable store is
// logged with its cause, and the client is told when to come back.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := leadwire.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, leadwire.EINTERNAL
	}
	msg := leadwire.ErrorMessage(err)
	switch code {
	case leadwire.EINTERNAL:
		id := requestID()
		s.cfg.Logger.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; request id " + id
	case leadwire.EUNAVAILABLE:
		s.cfg.Logger.Warn("unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, errorBody{code, msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages quote XML; nothing here is HTML
	if err := enc.Encode(v); err != nil {
		// Answers are made of strings, numbers and decoded JSON, so this
		// is a bug; the client still gets a JSON answer.
		writeBody(w, http.StatusInternalServerError, []byte(`{"code":"internal","message":"internal error"}`+"\n"))
		return
	}
	writeBody(w, status, b.Bytes())
}

// writeBody writes a JSON answer.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

func requestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
