package server

import (
	"net/http"
	"strings"

	"github.com/leadwire/leadwire"
)

// authRoutes are the routes that start and end sessions and tell who is
// signed in.
func (s *Server) authRoutes() []route {
	return nil
}

// requireUser answers 401 unless the request carries a valid credential,
// and otherwise runs h with the user in the request's context, where the
// services read it to filter what they return: the HTTP layer cannot
// forget a check. A credential is an API token (Authorization: Bearer).
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

// authenticate returns the user the request's credential acts as.
func (s *Server) authenticate(r *http.Request) (*leadwire.User, error) {
	if s.cfg.Users == nil {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "this server has no users")
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "a credential is required: send Authorization: Bearer TOKEN")
	}
	return s.cfg.Users.UserByToken(r.Context(), strings.TrimSpace(token))
}
