package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
)

// sessionCookie holds the secret of an inbox session.
const sessionCookie = "leadwire_session"

// csrfHeader carries the CSRF token of a session on every change made
// with the session cookie: a page of another site can make the browser
// send the cookie, but cannot read the token nor set a header.
const csrfHeader = "X-CSRF-Token"

// authRoutes are the routes that start and end sessions, tell who is
// signed in and set up the first owner.
func (s *Server) authRoutes() []route {
	return []route{
		{"/api/session", map[string]http.HandlerFunc{
			http.MethodPost: s.signIn, http.MethodDelete: s.requireUser(s.signOut)}},
		{"/api/me", map[string]http.HandlerFunc{http.MethodGet: s.requireUser(s.me)}},
		{"/api/setup", map[string]http.HandlerFunc{http.MethodPost: s.setup}},
		{"/inbox/setup", map[string]http.HandlerFunc{http.MethodGet: s.setupForm, http.MethodPost: s.setupSubmit}},
	}
}

// requireUser answers 401 unless the request carries a valid credential,
// and otherwise runs h with the user in the request's context, where the
// services read it to filter what they return: the HTTP layer cannot
// forget a check. A credential is an API token (Authorization: Bearer) or
// the inbox's session cookie; a change made with the cookie must also
// come from the server's own pages and carry the session's CSRF token.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.authenticate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r.WithContext(leadwire.NewContextWithUser(r.Context(), u)))
	}
}

// authenticate returns the user the request's credential acts as. The
// Authorization header, when sent, is the credential, whatever cookie
// comes along.
func (s *Server) authenticate(r *http.Request) (*leadwire.User, error) {
	if s.cfg.Users == nil {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "this server has no users")
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the Authorization header must be Bearer TOKEN")
		}
		return s.cfg.Users.UserByToken(r.Context(), strings.TrimSpace(token))
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "a credential is required: send Authorization: Bearer TOKEN, or sign in")
	}
	u, err := s.cfg.Users.UserBySession(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return u, nil
	}
	if err := sameOrigin(r); err != nil {
		return nil, err
	}
	if got := r.Header.Get(csrfHeader); !hmac.Equal([]byte(got), []byte(csrfToken(c.Value))) {
		return nil, leadwire.Errorf(leadwire.EFORBIDDEN, "a change made with the session cookie needs the %s header given at sign-in", csrfHeader)
	}
	return u, nil
}

// crossOrigin refuses, by Sec-Fetch-Site and Origin, the unsafe requests a
// page of another origin makes a browser send.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin refuses a request a page of another site made the browser
// send: a change with the session cookie, or a sign-in that would sign
// the browser in to someone else's account.
func sameOrigin(r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return leadwire.Errorf(leadwire.EFORBIDDEN, "a request from another site's page is refused here")
	}
	return nil
}

// csrfToken is the CSRF token of the session whose secret is session:
// derived from it, so nothing more is stored, and useless without it.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("leadwire csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signedIn is the answer to a sign-in and to /api/me: the user, and the
// CSRF token when the session cookie is the credential.
type signedIn struct {
	*leadwire.User
	CSRFToken string `json:"csrf_token,omitempty"`
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signIn checks an email and password, starts a session and sets its
// cookie. Failures are counted per account and per address and slow down
// further attempts.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !s.readSignIn(w, r, &c) {
		return
	}
	if c.Email == "" || c.Password == "" {
		s.error(w, r, leadwire.Errorf(leadwire.EINVALID, "email and password are both required"))
		return
	}
	u, retry, err := s.passwordUser(r, c.Email, c.Password)
	if err != nil {
		if retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
		}
		s.error(w, r, err)
		return
	}
	s.startSession(w, r, u)
}

// passwordUser returns the user with email and password, for the API's
// sign-in and the inbox's alike. Failures are counted per account and
// per address; while either is locked, it answers ETOOMANY and the
// seconds to wait (retry) without checking the password.
func (s *Server) passwordUser(r *http.Request, email, password string) (u *leadwire.User, retry int, err error) {
	if d := s.logins.try(accountKey(email), addressKey(s.clientAddress(r))); d > 0 {
		retry = int((d + time.Second - 1) / time.Second)
		return nil, retry, leadwire.Errorf(leadwire.ETOOMANY, "too many failed sign-ins for this account or from this address; retry in %d seconds", retry)
	}
	u, err = s.cfg.Users.Authenticate(r.Context(), email, password)
	if leadwire.ErrorCode(err) != leadwire.EUNAUTHORIZED {
		// Signed in, or the store failed: no guess was refused.
		s.logins.forgive(accountKey(email), err == nil)
		s.logins.forgive(addressKey(s.clientAddress(r)), false)
	}
	return u, 0, err
}

// startSession starts a session for u, sets its cookie and answers u with
// the session's CSRF token.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *leadwire.User) {
	secret, err := s.cfg.Users.CreateSession(r.Context(), u.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(r, secret, int(leadwire.SessionLifetime.Seconds())))
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: signedIn{u, csrfToken(secret)}})
}

// cookie is the session cookie: out of reach of scripts, sent on
// navigations from other sites (a link in an email) but not on their
// posts, and only over TLS when the request came over it or the server
// is told it sits behind a proxy that terminates TLS.
func (s *Server) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.cfg.SecureCookies}
}

// signOut ends the session of the cookie and clears it.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && r.Header.Get("Authorization") == "" {
		if err := s.cfg.Users.DeleteSession(r.Context(), c.Value); err != nil {
			s.error(w, r, err)
			return
		}
	}
	http.SetCookie(w, s.cookie(r, "", -1))
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: nil})
}

// me answers the signed-in user.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	answer := signedIn{User: leadwire.UserFromContext(r.Context())}
	if c, err := r.Cookie(sessionCookie); err == nil && r.Header.Get("Authorization") == "" {
		answer.CSRFToken = csrfToken(c.Value)
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: answer})
}

type ownerSetup struct {
	Token    string `json:"token"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// setup creates the first owner with the one-time secret of the setup
// link serve logs, and signs them in.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	var o ownerSetup
	if !s.readSignIn(w, r, &o) {
		return
	}
	if o.Token == "" {
		s.error(w, r, leadwire.Errorf(leadwire.EINVALID, "token is required: the token of the setup link the server logged"))
		return
	}
	u := &leadwire.User{Email: o.Email, Name: o.Name}
	if err := s.cfg.Users.SetupOwner(r.Context(), o.Token, u, o.Password); err != nil {
		s.error(w, r, err)
		return
	}
	s.startSession(w, r, u)
}

// readSignIn reads into v the JSON body of a request that signs in
// without a credential (sign-in, owner setup), and answers the error when
// it cannot. Such requests are refused from another site's page, which
// would sign the browser in to an account of the attacker's.
func (s *Server) readSignIn(w http.ResponseWriter, r *http.Request, v any) bool {
	err := sameOrigin(r)
	if err == nil && s.cfg.Users == nil {
		err = leadwire.Errorf(leadwire.EUNAUTHORIZED, "this server has no users")
	}
	if err == nil {
		err = s.readJSON(w, r, v)
	}
	if err != nil {
		s.error(w, r, err)
		return false
	}
	return true
}

// readJSON decodes a JSON object body into v, naming what was wrong when
// it cannot.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt := mediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return leadwire.Errorf(leadwire.EUNSUPPORTED, "send the body as application/json, not %q", mt)
	}
	_, body, err := s.readPost(w, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return leadwire.Errorf(leadwire.EINVALID, "malformed JSON at byte %d: %v", syntax.Offset, err)
		case errors.As(err, &typ) && typ.Field != "":
			return leadwire.Errorf(leadwire.EINVALID, "%s must be a %s, not a JSON %s", typ.Field, typ.Type, typ.Value)
		case errors.As(err, &typ):
			return leadwire.Errorf(leadwire.EINVALID, "the body must be a JSON object, not a JSON %s", typ.Value)
		}
		return leadwire.Errorf(leadwire.EINVALID, "malformed JSON: %v", err)
	}
	return nil
}

// mediaType is the media type of a Content-Type, in lower case, without
// its parameters.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
