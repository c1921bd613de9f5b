package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/wire"
)

// maxIdempotencyKey bounds the Idempotency-Key header; SDKs send UUIDs.
const maxIdempotencyKey = 255

// capture answers POST /leads/channels/{lead_channel}/webhook.
func (s *Server) capture(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.channelForCORS(w, r)
	if !ok {
		return
	}
	key, body, err := s.readPost(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	contentType := r.Header.Get("Content-Type")
	leads, err := wire.DecodeLeads(contentType, body, s.cfg.MaxLeads)
	if err != nil {
		s.error(w, r, err)
		return
	}
	hash := sha256.New()
	io.WriteString(hash, contentType+"\x00")
	hash.Write(body)
	leads, _, err = s.cfg.Leads.CaptureLeads(r.Context(), &leadwire.Capture{
		ChannelID:      ch.ID,
		Leads:          leads,
		IdempotencyKey: key,
		RequestHash:    hex.EncodeToString(hash.Sum(nil)),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	// One lead is the documented object; an XML lead list of several
	// answers with all of them. The leads' raw payloads may share the
	// request body's bytes, so the answer gets a buffer of its own.
	out := append(make([]byte, 0, 2*len(body)+512), `{"code":"OK","data":`...)
	if len(leads) > 1 {
		out = append(out, '[')
	}
	for i, l := range leads {
		if i > 0 {
			out = append(out, ',')
		}
		doc, err := wire.NewLeadDoc(l)
		if err == nil {
			out, err = doc.AppendJSON(out)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
	}
	if len(leads) > 1 {
		out = append(out, ']')
	}
	writeBody(w, http.StatusOK, append(out, "}\n"...))
}

// channelForCORS finds the request's channel and checks the page's origin
// against it. It answers the request itself and returns false when the
// channel is unknown or the origin refused; the origin is echoed even then
// (see preflight).
func (s *Server) channelForCORS(w http.ResponseWriter, r *http.Request) (*leadwire.Channel, bool) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	allowOrigin(w, origin)
	ch, err := s.cfg.Channels.FindChannelByID(r.Context(), r.PathValue("lead_channel"))
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	if !ch.AllowsOrigin(origin) {
		s.error(w, r, leadwire.Errorf(leadwire.EFORBIDDEN, "origin %s may not post to this channel", origin))
		return nil, false
	}
	return ch, true
}

// timeline answers POST /leads/{lead_id}/timeline.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	allowOrigin(w, r.Header.Get("Origin"))
	key, body, err := s.readPost(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a, err := wire.DecodeActivity(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a.LeadID, a.IdempotencyKey = r.PathValue("lead_id"), key
	if err := s.cfg.Leads.AddActivity(r.Context(), a); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: wire.NewActivityDoc(a)})
}

func allowOrigin(w http.ResponseWriter, origin string) {
	if origin == "" {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
}

// preflight answers the CORS preflight of any POST route. It lets every
// origin through: a capture from a refused origin answers 403 with the
// origin echoed, so the page's script reads why instead of seeing a
// network failure it would queue and retry.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	allowOrigin(w, r.Header.Get("Origin"))
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// readPost returns the Idempotency-Key header of a POST (the SDKs send one
// per capture or tracking event and reuse it on every retry) and its whole
// body, refusing a body over the limit with ETOOLARGE before reading it
// when its length is announced.
func (s *Server) readPost(w http.ResponseWriter, r *http.Request) (key string, body []byte, err error) {
	key = r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return "", nil, leadwire.Errorf(leadwire.EINVALID, "Idempotency-Key is longer than %d characters", maxIdempotencyKey)
	}
	if r.ContentLength > s.cfg.MaxBody {
		return "", nil, tooLarge(s.cfg.MaxBody)
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return "", nil, tooLarge(s.cfg.MaxBody)
	case err != nil:
		return "", nil, leadwire.Errorf(leadwire.EINVALID, "reading the body: %v", err)
	}
	return key, body, nil
}

func tooLarge(limit int64) error {
	return leadwire.Errorf(leadwire.ETOOLARGE, "body is larger than the limit of %d bytes", limit)
}
