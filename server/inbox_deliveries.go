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
	Lead string // the lead's person, by name, email or phone
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
		row := deliveryRow{Delivery: del, Lead: del.LeadID}
		if l, err := s.cfg.Leads.FindLeadByID(ctx, del.LeadID); err == nil {
			row.Lead = leadName(l)
		} else if leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
			s.inboxError(w, r, p, err)
			return
		}
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

// destinationRow is a destination as the Channels page lists it: never
// its secret, only whether it has one.
type destinationRow struct {
	ID, Kind, URL string
	Channel       string // the channel's name, "" for every channel
	SecretSet     bool
}

// destinationRows lists the destinations, with the names of their
// channels; none when the server delivers nothing.
func (s *Server) destinationRows(ctx context.Context, channels []*leadwire.Channel) ([]destinationRow, error) {
	if s.cfg.Deliveries == nil {
		return nil, nil
	}
	dests, err := s.cfg.Deliveries.FindDestinations(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range channels {
		names[c.ID] = c.Name
	}
	rows := make([]destinationRow, len(dests))
	for i, d := range dests {
		rows[i] = destinationRow{ID: d.ID, Kind: d.Kind, URL: d.URL, Channel: names[d.ChannelID], SecretSet: d.Secret != ""}
		if d.ChannelID != "" && rows[i].Channel == "" {
			rows[i].Channel = d.ChannelID
		}
	}
	return rows, nil
}

// inboxCreateDestination adds a destination from the Channels page's
// form. A new webhook's secret is shown once, on the page it answers.
func (s *Server) inboxCreateDestination(w http.ResponseWriter, r *http.Request, p *page) {
	f := r.PostForm
	dest := &leadwire.Destination{Kind: f.Get("kind"), URL: f.Get("url"), ChannelID: f.Get("channel_id"), Secret: strings.TrimSpace(f.Get("secret"))}
	d, err := s.inboxDeliveryService()
	if err == nil {
		err = d.CreateDestination(r.Context(), dest)
	}
	s.destinationDone(w, r, p, dest, err)
}

// inboxRemoveDestination removes a destination with its deliveries.
func (s *Server) inboxRemoveDestination(w http.ResponseWriter, r *http.Request, p *page) {
	d, err := s.inboxDeliveryService()
	if err == nil {
		err = d.RemoveDestination(r.Context(), r.PathValue("destination_id"))
	}
	s.destinationDone(w, r, p, nil, err)
}

// inboxRotateSecret gives a webhook destination a new secret, shown once;
// the previous one still signs for leadwire.SecretGrace.
func (s *Server) inboxRotateSecret(w http.ResponseWriter, r *http.Request, p *page) {
	d, err := s.inboxDeliveryService()
	var dest *leadwire.Destination
	if err == nil {
		dest, err = d.RotateSecret(r.Context(), r.PathValue("destination_id"))
	}
	s.destinationDone(w, r, p, dest, err)
}

// destinationDone answers a destination form: the Channels page with the
// error when the form was wrong, with a webhook's new secret once, or a
// redirect to the list.
func (s *Server) destinationDone(w http.ResponseWriter, r *http.Request, p *page, dest *leadwire.Destination, err error) {
	switch code := leadwire.ErrorCode(err); {
	case code == leadwire.EINVALID || code == leadwire.ENOTFOUND:
		p.Error = leadwire.ErrorMessage(err)
		s.showChannels(w, r, p, statusOf[code], channelsView{})
	case err != nil:
		s.inboxError(w, r, p, err)
	case dest != nil && dest.Kind == leadwire.KindWebhook:
		s.showChannels(w, r, p, http.StatusOK, channelsView{NewSecret: dest})
	default:
		http.Redirect(w, r, "/inbox/channels#destinations", http.StatusSeeOther)
	}
}
