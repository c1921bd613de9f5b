package server

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/leadwire/leadwire"
)

//go:embed pages/*.html
var pages embed.FS

var setupPage = template.Must(template.ParseFS(pages, "pages/setup.html"))

// setupView is what the setup page shows.
type setupView struct {
	Token, Email, Name string
	MinPassword        int
	Error              string
	Done               bool
}

// setupForm serves the page the setup link serve logs opens: a form that
// creates the first owner. It works without JavaScript; the one-time token
// in the form is what makes a post from it legitimate.
func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, http.StatusOK, setupView{Token: r.URL.Query().Get("token")})
}

// setupSubmit creates the owner from the form and signs them in.
func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Users == nil {
		s.error(w, r, leadwire.Errorf(leadwire.EUNAUTHORIZED, "this server has no users"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, leadwire.Errorf(leadwire.EINVALID, "reading the form: %v", err))
		return
	}
	v := setupView{Token: r.PostForm.Get("token"), Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name")}
	u := &leadwire.User{Email: v.Email, Name: v.Name}
	if err := s.cfg.Users.SetupOwner(r.Context(), v.Token, u, r.PostForm.Get("password")); err != nil {
		code := leadwire.ErrorCode(err)
		if code == leadwire.EINTERNAL {
			s.error(w, r, err)
			return
		}
		v.Error = leadwire.ErrorMessage(err)
		s.renderSetup(w, statusOf[code], v)
		return
	}
	secret, err := s.cfg.Users.CreateSession(r.Context(), u.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(r, secret, int(leadwire.SessionLifetime.Seconds())))
	s.renderSetup(w, http.StatusOK, setupView{Email: u.Email, Done: true})
}

func (s *Server) renderSetup(w http.ResponseWriter, status int, v setupView) {
	v.MinPassword = leadwire.MinPasswordLength
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the page's URL holds the one-time token
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	setupPage.Execute(w, v)
}
