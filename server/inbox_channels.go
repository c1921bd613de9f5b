package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/leadwire/leadwire"
)

// channelsView is what the Channels page shows.
type channelsView struct {
	Base     string // the server's URL, as the snippets use it
	Channels []*leadwire.Channel
	// ChannelMembers are the members of each channel, by channel id.
	ChannelMembers map[string][]*leadwire.User
	// Name and Origins are the create form's values after an error.
	Name, Origins, Members string
	// Destinations are where leads are handed; NewSecret is a webhook's
	// secret, shown once after it was made.
	Destinations []destinationRow
	NewSecret    *leadwire.Destination
}

// ownerOnly refuses a page to anyone but an owner.
func (s *Server) ownerOnly(h inboxHandler) inboxHandler {
	return func(w http.ResponseWriter, r *http.Request, p *page) {
		if !p.Owner() {
			s.inboxError(w, r, p, leadwire.Errorf(leadwire.EFORBIDDEN, "only an owner manages channels"))
			return
		}
		h(w, r, p)
	}
}

// inboxChannels serves the Channels page: every channel with its
// ready-to-paste snippets, and the forms to create one and add members.
func (s *Server) inboxChannels(w http.ResponseWriter, r *http.Request, p *page) {
	s.showChannels(w, r, p, http.StatusOK, channelsView{})
}

func (s *Server) showChannels(w http.ResponseWriter, r *http.Request, p *page, status int, v channelsView) {
	p.Title, p.Nav = "Channels", "channels"
	channels, err := s.cfg.Channels.FindChannels(r.Context())
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	v.Channels = channels
	v.ChannelMembers = map[string][]*leadwire.User{}
	for _, c := range channels {
		if v.ChannelMembers[c.ID], err = s.cfg.Users.ChannelMembers(r.Context(), c.ID); err != nil {
			s.inboxError(w, r, p, err)
			return
		}
	}
	if v.Destinations, err = s.destinationRows(r.Context(), channels); err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	v.Base = scheme + "://" + r.Host
	s.render(w, r, status, "channels.html", p, v)
}

// inboxCreateChannel creates a channel from the form: its name, its
// allowed origins one a line, and the emails of its members.
func (s *Server) inboxCreateChannel(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	v := channelsView{Name: r.PostForm.Get("name"), Origins: r.PostForm.Get("origins"), Members: r.PostForm.Get("members")}
	c := &leadwire.Channel{Name: v.Name, AllowedOrigins: strings.Fields(v.Origins)}
	err := c.Validate()
	if err == nil {
		// The members are checked first, so that a typo creates nothing.
		err = s.checkUsers(r, v.Members)
	}
	if err == nil {
		err = s.cfg.Channels.CreateChannel(ctx, c)
	}
	if err == nil {
		err = s.addMembers(r, c.ID, v.Members)
	}
	if code := leadwire.ErrorCode(err); code == leadwire.EINVALID || code == leadwire.ENOTFOUND {
		p.Error = leadwire.ErrorMessage(err)
		s.showChannels(w, r, p, statusOf[code], v)
		return
	} else if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/inbox/channels#channel-"+c.ID, http.StatusSeeOther)
}

// inboxAddMembers makes users members of a channel: agents then see its
// leads.
func (s *Server) inboxAddMembers(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("channel_id")
	if err := s.addMembers(r, id, r.PostForm.Get("members")); err != nil {
		code := leadwire.ErrorCode(err)
		if code == leadwire.EINTERNAL {
			s.inboxError(w, r, p, err)
			return
		}
		p.Error = leadwire.ErrorMessage(err)
		s.showChannels(w, r, p, statusOf[code], channelsView{})
		return
	}
	http.Redirect(w, r, "/inbox/channels#channel-"+id, http.StatusSeeOther)
}

// inboxRemoveMember removes a user from a channel's members: an agent
// then no longer sees its leads.
func (s *Server) inboxRemoveMember(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("channel_id")
	if err := s.cfg.Users.RemoveChannelMember(r.Context(), id, r.PostForm.Get("email")); err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/inbox/channels#channel-"+id, http.StatusSeeOther)
}

// inboxChannelSettings changes a channel's allowed origins and spam
// screening from its Settings form. An empty CAPTCHA secret keeps the one
// set, which the page never shows.
func (s *Server) inboxChannelSettings(w http.ResponseWriter, r *http.Request, p *page) {
	ctx, id := r.Context(), r.PathValue("channel_id")
	ch, err := s.cfg.Channels.FindChannelByID(ctx, id)
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	f := r.PostForm
	origins := strings.Fields(f.Get("origins"))
	set := ch.Screening
	set.Off = f.Get("screening") != "on"
	set.AddressRate, set.Captcha = 0, f.Get("captcha")
	if v := strings.TrimSpace(f.Get("address_rate")); v != "" {
		if set.AddressRate, err = strconv.Atoi(v); err != nil {
			err = leadwire.Errorf(leadwire.EINVALID, "captures an hour from one address: %q is not a whole number", v)
		}
	}
	if secret := f.Get("captcha_secret"); secret != "" || set.Captcha == "" {
		set.CaptchaSecret = secret
	}
	if err == nil {
		_, err = s.cfg.Channels.UpdateChannel(ctx, id, leadwire.ChannelUpdate{AllowedOrigins: &origins, Screening: &set})
	}
	if code := leadwire.ErrorCode(err); code == leadwire.EINVALID {
		p.Error = leadwire.ErrorMessage(err)
		s.showChannels(w, r, p, statusOf[code], channelsView{})
		return
	} else if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/inbox/channels#channel-"+id, http.StatusSeeOther)
}

// checkUsers reports ENOTFOUND for an email of the list that is no
// user's.
func (s *Server) checkUsers(r *http.Request, emails string) error {
	users, err := s.cfg.Users.FindUsers(r.Context())
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, u := range users {
		known[leadwire.EmailKey(u.Email)] = true
	}
	for _, e := range emailList(emails) {
		if !known[leadwire.EmailKey(e)] {
			return leadwire.Errorf(leadwire.ENOTFOUND, "no user has the email %q; create them with leadwire user create", e)
		}
	}
	return nil
}

// emailList splits a list of emails (members, assignees) separated by commas, semicolons
// or spaces.
func emailList(list string) []string {
	return strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// addMembers adds the users of a list of emails (separated by commas or
// spaces) to a channel.
func (s *Server) addMembers(r *http.Request, channelID, emails string) error {
	for _, e := range emailList(emails) {
		if err := s.cfg.Users.AddChannelMember(r.Context(), channelID, e); err != nil {
			return err
		}
	}
	return nil
}
