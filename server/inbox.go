package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
)

// The inbox is the people's side of the server: pages rendered here with
// html/template from the templates in pages/inbox, on the same services
// as the API, and one script and one style sheet from pages/inbox/static.
// Its forms work without the script; the script adds the live list.

//go:embed pages/inbox
var inboxFiles embed.FS

// inboxCSP allows the inbox's own script and styles only: no inline
// script or style, no other site in a frame or as a form's target.
// Images may come from anywhere, since a listing's photo is on the
// website's own servers.
const inboxCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// inboxTemplates holds each page, parsed with the layout it shares.
var inboxTemplates = func() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(inboxFuncs).ParseFS(inboxFiles, "pages/inbox/layout.html"))
	names, err := fs.Glob(inboxFiles, "pages/inbox/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		name = path.Base(name)
		if name != "layout.html" {
			pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(inboxFiles, "pages/inbox/"+name))
		}
	}
	return pages
}()

// staticFile is a file of pages/inbox/static with its content hash,
// which the pages put in its URL so that a new version is never read
// from a cache.
type staticFile struct {
	body []byte
	hash string
	typ  string
}

var inboxStatic = func() map[string]staticFile {
	files := map[string]staticFile{}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	entries, err := inboxFiles.ReadDir("pages/inbox/static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := inboxFiles.ReadFile("pages/inbox/static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		files[e.Name()] = staticFile{body: b, hash: hex.EncodeToString(sum[:8]), typ: types[path.Ext(e.Name())]}
	}
	return files
}()

// page is what every inbox page shows around its content: who is signed
// in, the navigation and the CSRF token its forms carry.
type page struct {
	Title string
	Nav   string // the current navigation entry: leads, spam, dashboard, channels
	User  *leadwire.User
	CSRF  string
	Error string // what went wrong, shown on top
	// channels are the channels by id, read once per page when needed.
	channels map[string]*leadwire.Channel
}

// Owner reports whether the signed-in user is an owner.
func (p *page) Owner() bool { return p.User != nil && p.User.Role == leadwire.RoleOwner }

// inboxHandler is a page or a form's target, for a signed-in user.
type inboxHandler func(w http.ResponseWriter, r *http.Request, p *page)

// inboxRoutes are the inbox's pages and the targets of their forms.
func (s *Server) inboxRoutes() []route {
	in := s.signedIn
	return []route{
		{"/inbox/{$}", map[string]http.HandlerFunc{http.MethodGet: in(s.inboxLeads)}},
		{"/inbox/dashboard", map[string]http.HandlerFunc{http.MethodGet: in(s.inboxDashboard)}},
		{"/inbox/events", map[string]http.HandlerFunc{http.MethodGet: in(s.inboxEvents)}},
		{"/inbox/leads/{lead_id}", map[string]http.HandlerFunc{http.MethodGet: in(s.inboxLead)}},
		{"/inbox/leads/{lead_id}/status", map[string]http.HandlerFunc{http.MethodPost: in(s.inboxStatus)}},
		{"/inbox/leads/{lead_id}/assignees", map[string]http.HandlerFunc{http.MethodPost: in(s.inboxAssign)}},
		{"/inbox/leads/{lead_id}/notes", map[string]http.HandlerFunc{http.MethodPost: in(s.inboxNote)}},
		{"/inbox/channels", map[string]http.HandlerFunc{
			http.MethodGet: in(s.ownerOnly(s.inboxChannels)), http.MethodPost: in(s.ownerOnly(s.inboxCreateChannel))}},
		{"/inbox/channels/{channel_id}/members", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxAddMembers))}},
		{"/inbox/channels/{channel_id}/members/remove", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxRemoveMember))}},
		{"/inbox/channels/{channel_id}/settings", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxChannelSettings))}},
		{"/inbox/deliveries", map[string]http.HandlerFunc{http.MethodGet: in(s.inboxDeliveries)}},
		{"/inbox/deliveries/{delivery_id}/retry", map[string]http.HandlerFunc{http.MethodPost: in(s.inboxRetryDelivery)}},
		{"/inbox/destinations", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxCreateDestination))}},
		{"/inbox/destinations/{destination_id}/remove", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxRemoveDestination))}},
		{"/inbox/destinations/{destination_id}/rotate", map[string]http.HandlerFunc{http.MethodPost: in(s.ownerOnly(s.inboxRotateSecret))}},
		{"/inbox/signin", map[string]http.HandlerFunc{http.MethodGet: s.signInForm, http.MethodPost: s.signInSubmit}},
		{"/inbox/signout", map[string]http.HandlerFunc{http.MethodPost: in(s.signOutSubmit)}},
		{"/inbox/static/{file}", map[string]http.HandlerFunc{http.MethodGet: s.inboxFile}},
	}
}

// signedIn runs h for the user of the request's session cookie, and
// sends anyone else to the sign-in page. A form's post must come from
// the inbox's own pages and carry the session's CSRF token.
func (s *Server) signedIn(h inboxHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var u *leadwire.User
		if err == nil && c.Value != "" && s.cfg.Users != nil {
			u, err = s.cfg.Users.UserBySession(r.Context(), c.Value)
		}
		if u == nil {
			if leadwire.ErrorCode(err) == leadwire.EINTERNAL && s.cfg.Users != nil && c != nil {
				s.inboxError(w, r, &page{Title: "Error"}, err)
				return
			}
			if r.Method != http.MethodGet {
				s.inboxError(w, r, &page{Title: "Signed out"}, leadwire.Errorf(leadwire.EUNAUTHORIZED, "your session has ended; sign in again"))
				return
			}
			http.Redirect(w, r, "/inbox/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		p := &page{User: u, CSRF: csrfToken(c.Value)}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
			err := sameOrigin(r)
			if err == nil {
				if perr := r.ParseForm(); perr != nil {
					err = leadwire.Errorf(leadwire.EINVALID, "reading the form: %v", perr)
				}
			}
			if err == nil && !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(p.CSRF)) {
				err = leadwire.Errorf(leadwire.EFORBIDDEN, "the form is out of date; reload the page and send it again")
			}
			if err != nil {
				s.inboxError(w, r, p, err)
				return
			}
		}
		h(w, r.WithContext(leadwire.NewContextWithUser(r.Context(), u)), p)
	}
}

// render writes a page with the inbox's headers.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page, view any) {
	var b bytes.Buffer
	if err := inboxTemplates[name].ExecuteTemplate(&b, "layout.html", struct {
		*page
		View any
	}{p, view}); err != nil {
		s.cfg.Logger.Error("rendering an inbox page", "page", name, "err", err)
		status, b = http.StatusInternalServerError, *bytes.NewBufferString("internal error\n")
	}
	inboxHeaders(w.Header())
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func inboxHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", inboxCSP)
}

// inboxError shows what went wrong on a page of its own, with the status
// of its code; an internal error is logged and shown by its request id.
func (s *Server) inboxError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	code := leadwire.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, leadwire.EINTERNAL
	}
	p.Error = leadwire.ErrorMessage(err)
	if code == leadwire.EINTERNAL {
		id := requestID()
		s.cfg.Logger.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		p.Error = "Something went wrong on the server (request id " + id + ")."
	}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	s.render(w, r, status, "error.html", p, nil)
}

// signInView is what the sign-in page shows.
type signInView struct {
	Email, Next string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin.html", &page{Title: "Sign in"}, signInView{Next: localNext(r.URL.Query().Get("next"))})
}

// signInSubmit signs in from the form, under the API's limits on failed
// sign-ins, and goes on to the page the user asked for. A wrong password
// and an unknown email get the same answer.
func (s *Server) signInSubmit(w http.ResponseWriter, r *http.Request) {
	p := &page{Title: "Sign in"}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	err := sameOrigin(r)
	if err == nil && s.cfg.Users == nil {
		err = leadwire.Errorf(leadwire.EUNAUTHORIZED, "this server has no users")
	}
	if err == nil {
		if perr := r.ParseForm(); perr != nil {
			err = leadwire.Errorf(leadwire.EINVALID, "reading the form: %v", perr)
		}
	}
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	v := signInView{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localNext(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	if v.Email == "" || password == "" {
		p.Error = "Enter your email and your password."
		s.render(w, r, http.StatusBadRequest, "signin.html", p, v)
		return
	}
	u, retry, err := s.passwordUser(r, v.Email, password)
	if err == nil {
		var secret string
		if secret, err = s.cfg.Users.CreateSession(r.Context(), u.ID); err == nil {
			http.SetCookie(w, s.cookie(r, secret, int(leadwire.SessionLifetime.Seconds())))
			http.Redirect(w, r, v.Next, http.StatusSeeOther)
			return
		}
	}
	switch leadwire.ErrorCode(err) {
	case leadwire.EUNAUTHORIZED:
		p.Error = "The email or the password is wrong."
		s.render(w, r, http.StatusUnauthorized, "signin.html", p, v)
	case leadwire.ETOOMANY:
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		p.Error = leadwire.ErrorMessage(err)
		s.render(w, r, http.StatusTooManyRequests, "signin.html", p, v)
	default:
		s.inboxError(w, r, p, err)
	}
}

// localNext is where to go after signing in: next when it is a page of
// the inbox, so that a link cannot send the user to another site.
func localNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/inbox/") ||
		strings.HasPrefix(next, "/inbox//") || strings.ContainsAny(next, "\\\r\n") {
		return "/inbox/"
	}
	return next
}

// signOutSubmit ends the session and clears its cookie.
func (s *Server) signOutSubmit(w http.ResponseWriter, r *http.Request, p *page) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Users.DeleteSession(r.Context(), c.Value); err != nil {
			s.inboxError(w, r, p, err)
			return
		}
	}
	http.SetCookie(w, s.cookie(r, "", -1))
	http.Redirect(w, r, "/inbox/signin", http.StatusSeeOther)
}

// inboxFile serves the inbox's script and style sheet. A URL with the
// file's hash (?v=) may be cached for good.
func (s *Server) inboxFile(w http.ResponseWriter, r *http.Request) {
	f, ok := inboxStatic[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.typ)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
