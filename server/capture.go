package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
	"github.com/leadwire/leadwire/wire"
)

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
	s.captureBody(w, r, ch, key, r.Header.Get("Content-Type"), body, s.cfg.MaxLeads)
}

// captureBody decodes a webhook body of contentType, screens it, stores
// its leads on the channel and answers with them: the capture path the
// webhook and Rechat's brand API share. A quarantined capture is answered
// as an accepted one.
func (s *Server) captureBody(w http.ResponseWriter, r *http.Request, ch *leadwire.Channel, key, contentType string, body []byte, maxLeads int) {
	start := time.Now()
	leads, err := wire.DecodeLeads(contentType, body, maxLeads)
	if err != nil {
		s.countCapture(ch.ID, err, false)
		s.error(w, r, err)
		return
	}
	c := &leadwire.Capture{
		ChannelID:      ch.ID,
		Leads:          leads,
		IdempotencyKey: key,
		RequestHash:    requestHash(contentType, body),
		Source:         s.source(r),
	}
	for _, l := range leads {
		c.Controls.Merge(l.Payload.TakeControls())
	}
	if s.cfg.Screener != nil {
		sc := s.cfg.Screener.Screen(r.Context(), ch, c)
		switch sc.Verdict {
		case leadwire.VerdictRefuse:
			if sc.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((sc.RetryAfter+time.Second-1)/time.Second)))
			}
			s.countCapture(ch.ID, sc.Err, false)
			s.error(w, r, sc.Err)
			return
		case leadwire.VerdictQuarantine:
			for _, l := range leads {
				l.Status, l.SpamReasons = leadwire.StatusSpam, sc.Reasons
			}
		}
	}
	leads, replayed, err := s.cfg.Leads.CaptureLeads(r.Context(), c)
	s.countCapture(ch.ID, err, replayed)
	if err != nil {
		s.error(w, r, err)
		return
	}
	metrics.CaptureSeconds.Observe(time.Since(start).Seconds())
	// The leads' raw payloads may share the request body's bytes, so the
	// answer gets a buffer of its own.
	s.writeLeads(w, r, make([]byte, 0, 2*len(body)+512), leads)
}

// countCapture counts a capture request by its channel and result.
func (s *Server) countCapture(channelID string, err error, replayed bool) {
	result := "ok"
	switch {
	case err != nil:
		result = leadwire.ErrorCode(err)
	case replayed:
		result = "replayed"
	}
	metrics.Captures.WithLabelValues(channelID, result).Inc()
}

// writeLeads answers {"code":"OK","data":...} with the leads' documents,
// built in buf. One lead is the documented object; an XML lead list of
// several answers with all of them.
func (s *Server) writeLeads(w http.ResponseWriter, r *http.Request, buf []byte, leads []*leadwire.Lead) {
	out := append(buf, `{"code":"OK","data":`...)
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
	echoOrigin(w, r)
	return s.allowedChannel(w, r, r.PathValue("lead_channel"))
}

// leadForCORS finds the lead of a /leads/{lead_id}/... route and checks
// the page's origin against the lead's channel, as channelForCORS does for
// captures: a channel's allowed origins hold for everything sent about its
// leads, not only for the leads themselves.
func (s *Server) leadForCORS(w http.ResponseWriter, r *http.Request) (*leadwire.Lead, bool) {
	echoOrigin(w, r)
	l, err := s.cfg.Leads.FindLeadByID(r.Context(), r.PathValue("lead_id"))
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	if _, ok := s.allowedChannel(w, r, l.ChannelID); !ok {
		return nil, false
	}
	return l, true
}

// allowedChannel returns the channel with id when the page's origin may
// send to it, and otherwise answers the request and returns false.
func (s *Server) allowedChannel(w http.ResponseWriter, r *http.Request, id string) (*leadwire.Channel, bool) {
	ch, err := s.cfg.Channels.FindChannelByID(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	if origin := r.Header.Get("Origin"); !ch.AllowsOrigin(origin) {
		s.error(w, r, leadwire.Errorf(leadwire.EFORBIDDEN, "origin %s may not post to this channel", origin))
		return nil, false
	}
	return ch, true
}

// timeline answers POST /leads/{lead_id}/timeline.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	lead, ok := s.leadForCORS(w, r)
	if !ok {
		return
	}
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
	a.LeadID, a.IdempotencyKey = lead.ID, key
	if err := s.cfg.Leads.AddActivity(r.Context(), a); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: wire.NewActivityDoc(a)})
}

// assignees answers PUT /leads/{lead_id}/assignees: the body's list
// replaces the lead's assignees, and the answer is the lead as a capture
// answers it. As for the timeline, knowing the lead id is the permission.
func (s *Server) assignees(w http.ResponseWriter, r *http.Request) {
	lead, ok := s.leadForCORS(w, r)
	if !ok {
		return
	}
	if lead, ok = s.replaceAssignees(w, r, lead.ID); ok {
		s.writeLeads(w, r, make([]byte, 0, 1024), []*leadwire.Lead{lead})
	}
}

// replaceAssignees replaces the assignees of the lead with leadID by the
// request body's list and returns the lead as it is then; on failure it
// answers the request itself and returns false. The public and the
// authenticated route share it.
func (s *Server) replaceAssignees(w http.ResponseWriter, r *http.Request, leadID string) (*leadwire.Lead, bool) {
	key, body, err := s.readPost(w, r)
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	list, err := wire.DecodeAssignees(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	lead, err := s.cfg.Leads.ReplaceAssignees(r.Context(), leadID, list, key)
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	return lead, true
}

// echoOrigin lets the page read the answer, whatever it is.
func echoOrigin(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	allowOrigin(w, r.Header.Get("Origin"))
}

func allowOrigin(w http.ResponseWriter, origin string) {
	if origin == "" {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
}

// preflight answers the CORS preflight of a route that takes method. It
// lets every origin through: a request from a refused origin answers 403
// with the origin echoed, so the page's script reads why instead of
// seeing a network failure it would queue and retry.
func preflight(method string) http.HandlerFunc {
	methods := method + ", OPTIONS"
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		echoOrigin(w, r)
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, Idempotency-Key")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	}
}
