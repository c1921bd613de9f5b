package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/leadwire/leadwire"
)

// deliveryRoutes are the authenticated routes of delivery: an agent pausing
// themselves, and the deliveries of the leads the caller may see.
func (s *Server) deliveryRoutes() []route {
	auth := s.requireUser
	return []route{
		{"/api/me/pause", map[string]http.HandlerFunc{
			http.MethodPut: auth(s.apiPause(true)), http.MethodDelete: auth(s.apiPause(false))}},
		{"/api/deliveries", map[string]http.HandlerFunc{http.MethodGet: auth(s.apiListDeliveries)}},
		{"/api/deliveries/{delivery_id}/retry", map[string]http.HandlerFunc{http.MethodPost: auth(s.apiRetryDelivery)}},
	}
}

// deliveryStatuses are the statuses GET /api/deliveries filters on.
var deliveryStatuses = []string{leadwire.DeliveryPending, leadwire.DeliveryDelivered, leadwire.DeliveryFailed, leadwire.DeliveryCanceled}

// deliveriesPage is how many deliveries GET /api/deliveries lists.
const deliveriesPage = 100

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request) (leadwire.DeliveryService, bool) {
	if s.cfg.Deliveries == nil {
		s.error(w, r, leadwire.Errorf(leadwire.ENOTFOUND, "this server does not deliver leads"))
		return nil, false
	}
	return s.cfg.Deliveries, true
}

// apiPause answers PUT /api/me/pause (pause) and DELETE /api/me/pause
// (resume): a paused agent gets no lead in turn.
func (s *Server) apiPause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := s.deliveries(w, r)
		if !ok {
			return
		}
		u := leadwire.UserFromContext(r.Context())
		if err := d.PauseUser(r.Context(), u.Email, paused); err != nil {
			s.error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: map[string]bool{"paused": paused}})
	}
}

// apiListDeliveries answers GET /api/deliveries: the newest deliveries,
// of one status (?status=failed) or one lead (?lead=ID), of the leads the
// caller may see.
func (s *Server) apiListDeliveries(w http.ResponseWriter, r *http.Request) {
	d, ok := s.deliveries(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := leadwire.DeliveryFilter{Status: q.Get("status"), LeadID: q.Get("lead"), Limit: deliveriesPage}
	if f.Status != "" && !slices.Contains(deliveryStatuses, f.Status) {
		s.error(w, r, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", f.Status, strings.Join(deliveryStatuses, ", ")))
		return
	}
	list, err := d.FindDeliveries(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if list == nil {
		list = []*leadwire.Delivery{}
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: list})
}

// apiRetryDelivery answers POST /api/deliveries/{delivery_id}/retry: a
// failed or canceled delivery of a lead the caller may see is sent again.
func (s *Server) apiRetryDelivery(w http.ResponseWriter, r *http.Request) {
	d, ok := s.deliveries(w, r)
	if !ok {
		return
	}
	if err := d.RetryDelivery(r.Context(), r.PathValue("delivery_id")); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, okBody{Code: "OK", Data: map[string]string{"status": leadwire.DeliveryPending}})
}
