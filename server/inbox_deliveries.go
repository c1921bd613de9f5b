package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadwire/leadwire"
)

// deliveryRow is one delivery as the Deliveries page shows it.
type deliveryRow struct {
	*leadwire.Delivery
	Kind string // the destination's kind
	URL  string // the destination's address, for owners only
	Last *leadwire.Attempt
}

// deliveriesView is what the Deliveries page shows.
type deliveriesView struct {
	Status   string   // the statuses shown, failed unless asked otherwise
	Statuses []string // the statuses to choose from
	Rows     []deliveryRow
}

// inboxDeliveries serves the Deliveries page: the deliveries of one
// status (failed unless ?status= says otherwise) of the leads the user
// may see, newest first, each with its last attempt and, when it failed,
// a button to send it again.
func (s *Server) inboxDeliveries(w http.ResponseWriter, r *http.Request, p *page) {
	p.Title, p.Nav = "Deliveries", "deliveries"
	ctx := r.Context()
	d, err := s.inboxDeliveryService()
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	v := deliveriesView{Status: r.URL.Query().Get("status"), Statuses: deliveryStatuses}
	if v.Status == "" {
		v.Status = leadwire.DeliveryFailed
	}
	if !slices.Contains(deliveryStatuses, v.Status) {
		s.inboxError(w, r, p, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", v.Status, strings.Join(deliveryStatuses, ", ")))
		return
	}
	list, err := d.FindDeliveries(ctx, leadwire.DeliveryFilter{Status: v.Status, Limit: deliveriesPage})
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	// A destination's kind is shown to everyone who sees its deliveries,
	// read as the dispatcher reads it; its address only to owners, since
	// another CRM's webhook address may be its key.
	dests, err := d.FindDestinations(leadwire.NewContextWithUser(context.WithoutCancel(ctx), nil))
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	byID := map[string]*leadwire.Destination{}
	for _, dest := range dests {
		byID[dest.ID] = dest
	}
	for _, del := range list {
		row := deliveryRow{Delivery: del}
		if dest := byID[del.DestinationID]; dest != nil {
			row.Kind = dest.Kind
			if p.Owner() {
				row.URL = dest.URL
			}
		}
		attempts, err := d.FindAttempts(ctx, del.ID)
		if err != nil {
			s.inboxError(w, r, p, err)
			return
		}
		if len(attempts) > 0 {
			row.Last = attempts[len(attempts)-1]
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, http.StatusOK, "deliveries.html", p, v)
}

// inboxRetryDelivery sends a failed or canceled delivery again, from its
// "Send again" button, and goes back to the list it was on.
func (s *Server) inboxRetryDelivery(w http.ResponseWriter, r *http.Request, p *page) {
	d, err := s.inboxDeliveryService()
	if err == nil {
		err = d.RetryDelivery(r.Context(), r.PathValue("delivery_id"))
	}
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	back := "/inbox/deliveries"
	if status := r.PostForm.Get("status"); slices.Contains(deliveryStatuses, status) {
		back += "?status=" + url.QueryEscape(status)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// inboxDeliveryService is the server's delivery service, or ENOTFOUND
// when it delivers nothing.
func (s *Server) inboxDeliveryService() (leadwire.DeliveryService, error) {
	if s.cfg.Deliveries == nil {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "this server does not deliver leads")
	}
	return s.cfg.Deliveries, nil
}
