package server

import (
	"context"
	"net/http"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/wire"
)

// apiRoutes are the authenticated JSON API's routes over leads and
// contacts, and Rechat's brand API. Every one goes through requireUser;
// the services filter by the user it puts in the context.
func (s *Server) apiRoutes() []route {
	auth := s.requireUser
	return []route{
		{"/api/leads", map[string]http.HandlerFunc{http.MethodGet: auth(s.apiListLeads)}},
		{"/api/leads/{lead_id}", map[string]http.HandlerFunc{
			http.MethodGet: auth(s.apiGetLead), http.MethodPatch: auth(s.apiPatchLead)}},
		{"/api/leads/{lead_id}/assignees", map[string]http.HandlerFunc{http.MethodPut: auth(s.apiAssignees)}},
		{"/api/contacts/{contact_id}", map[string]http.HandlerFunc{
			http.MethodGet: auth(s.apiGetContact), http.MethodDelete: auth(s.apiEraseContact)}},
		{"/api/export/leads.csv", map[string]http.HandlerFunc{http.MethodGet: auth(s.apiExportLeads)}},
		{"/leads", map[string]http.HandlerFunc{http.MethodPost: auth(s.brandCapture)}},
	}
}

// listBody is the answer of GET /api/leads: a page and the cursor of the
// next one, null after the last.
type listBody struct {
	Code string            `json:"code"`
	Data []wire.APILeadDoc `json:"data"`
	Next *string           `json:"next"`
}

// apiListLeads answers GET /api/leads.
func (s *Server) apiListLeads(w http.ResponseWriter, r *http.Request) {
	f, err := parseLeadFilter(r.URL.Query(), true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	leads, next, err := s.cfg.Leads.SearchLeads(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	body := listBody{Code: "OK", Data: make([]wire.APILeadDoc, 0, len(leads))}
	if next != "" {
		body.Next = &next
	}
	for _, l := range leads {
		d, err := wire.NewAPILeadDoc(l)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body.Data = append(body.Data, d)
	}
	writeJSON(w, http.StatusOK, body)
}

// apiGetLead answers GET /api/leads/{lead_id}. FindLeadByID answers a
// lead the caller may not see as one that does not exist: an agent must
// not learn that another agent's lead is there.
func (s *Server) apiGetLead(w http.ResponseWriter, r *http.Request) {
	l, err := s.cfg.Leads.FindLeadByID(r.Context(), r.PathValue("lead_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeLeadDetail(w, r, l)
}

// apiPatchLead answers PATCH /api/leads/{lead_id}: {"status"?, "notes"?}.
func (s *Server) apiPatchLead(w http.ResponseWriter, r *http.Request) {
	_, body, err := s.readPost(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, err := wire.DecodeLeadUpdate(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// UpdateLead refuses a lead the caller may not see as unknown.
	l, err := s.cfg.Leads.UpdateLead(r.Context(), r.PathValue("lead_id"), u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeLeadDetail(w, r, l)
}

// apiAssignees answers PUT /api/leads/{lead_id}/assignees as the public
// route does, without its origin check, and answers the lead as GET
// /api/leads/{lead_id} does. ReplaceAssignees answers a lead the caller
// may not see as one that does not exist.
func (s *Server) apiAssignees(w http.ResponseWriter, r *http.Request) {
	if l, ok := s.replaceAssignees(w, r, r.PathValue("lead_id")); ok {
		s.writeLeadDetail(w, r, l)
	}
}

// writeLeadDetail answers with l, its timeline, its contact and the
// contact's other leads the caller may see.
func (s *Server) writeLeadDetail(w http.ResponseWriter, r *http.Request, l *leadwire.Lead) {
	c, others, next, err := s.leadDetail(r.Context(), l)
	if err != nil {
		s.error(w, r, err)
		return
	}
	doc, err := wire.NewLeadDetailDoc(l, c, others, next)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: doc})
}

// maxContactLeads is how many of a contact's leads its page and the page
// of each of its leads list, newest first; the older ones are pages of
// GET /api/leads?contact=ID away. A portal that sends every lead under
// one address of its own makes a contact of thousands of leads.
const maxContactLeads = 100

// leadDetail fills l's timeline and returns its contact, the contact's
// newest other leads the caller may see and the cursor of the older ones
// ("" for none): what the API and the inbox show of one lead.
func (s *Server) leadDetail(ctx context.Context, l *leadwire.Lead) (c *leadwire.Contact, others []*leadwire.Lead, next string, err error) {
	if c, err = s.cfg.Contacts.FindContactByID(ctx, l.ContactID); err != nil {
		return nil, nil, "", err
	}
	leads, next, err := s.contactLeads(ctx, l.ContactID)
	if err != nil {
		return nil, nil, "", err
	}
	for _, o := range leads {
		if o.ID != l.ID {
			others = append(others, o)
		}
	}
	// SearchLeads, UpdateLead and ReplaceAssignees leave the timeline out;
	// FindLeads reads it with the lead.
	withTimeline, err := s.cfg.Leads.FindLeads(ctx, leadwire.LeadFilter{LeadID: l.ID, Status: l.Status})
	if err != nil {
		return nil, nil, "", err
	}
	if len(withTimeline) == 1 {
		l.Timeline = withTimeline[0].Timeline
	}
	return c, others, next, nil
}

// contactLeads returns the newest leads of a contact the caller may see,
// at most maxContactLeads, and the cursor of the older ones.
func (s *Server) contactLeads(ctx context.Context, contactID string) ([]*leadwire.Lead, string, error) {
	return s.cfg.Leads.SearchLeads(ctx, leadwire.LeadFilter{ContactID: contactID, Limit: maxContactLeads})
}

// apiGetContact answers GET /api/contacts/{contact_id}: the contact and
// its newest leads the caller may see.
func (s *Server) apiGetContact(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.cfg.Contacts.FindContactByID(ctx, r.PathValue("contact_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	leads, next, err := s.contactLeads(ctx, c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	doc, err := wire.NewContactDoc(c, leads, next)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: doc})
}

// apiEraseContact answers DELETE /api/contacts/{contact_id} with 204 once
// the contact, its leads and their timelines are erased. EraseContact
// answers an agent 404 for a contact they may not see, 403 for one they
// may.
func (s *Server) apiEraseContact(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Contacts.EraseContact(r.Context(), r.PathValue("contact_id")); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// brandCapture answers Rechat's brand API, POST /leads with
// {"metadata":{"lead_channel":ID},"lead":{...}}: the lead is captured as
// the channel's webhook captures it, Idempotency-Key included, and the
// answer is the webhook's. An X-RECHAT-BRAND header must name the
// channel's brand: a token is for one brokerage, not a way into another's
// channels.
func (s *Server) brandCapture(w http.ResponseWriter, r *http.Request) {
	key, body, err := s.readPost(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	channelID, leadBody, err := wire.DecodeBrandLead(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ch, err := s.cfg.Channels.FindChannelByID(r.Context(), channelID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if brand := r.Header.Get("X-RECHAT-BRAND"); brand != "" && brand != ch.BrandID {
		s.error(w, r, leadwire.Errorf(leadwire.EFORBIDDEN, "the brand %q of X-RECHAT-BRAND is not the brand of channel %q", brand, ch.ID))
		return
	}
	// As a JSON webhook body: the lead object is the raw payload, and a
	// retry through either route with the same key is one request.
	s.captureBody(w, r, ch, key, "application/json", leadBody, 1)
}
