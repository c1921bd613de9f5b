package server

import (
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/wire"
)

// csvColumns is the header of the CSV export: the lead, where it stands,
// and every parsed field, nested ones flattened with dots. Fields nobody
// documented (but message) are one JSON object in "extra", so that the
// header is the same for every export.
var csvColumns = []string{
	"id", "created_at", "lead_channel", "contact", "source_type", "status", "responded_at", "response_time",
	"first_name", "last_name", "email", "phone_number", "phone_number_original", "tag", "lead_source",
	"note", "message", "address", "referer_url", "mlsid", "listing_id", "agent_mlsid", "assignees",
	"listing.id", "listing.url", "listing.mls", "listing.mls_number", "listing.price",
	"user_id", "brand_id", "ad_campaign_id", "email_campaign_id", "email_campaign_email_id", "extra",
}

// csvTime is how the export writes times: RFC 3339 in UTC to the
// millisecond, which spreadsheets read as dates.
const csvTime = "2006-01-02T15:04:05.000Z07:00"

// apiExportLeads answers GET /api/export/leads.csv: every lead the list's
// filters select that the caller may see, newest first, one row each. It
// writes each page of leads as it reads it, so memory stays flat however
// many leads there are. A failure after the first row cuts the connection,
// so that a cut-off file cannot pass for a whole one.
func (s *Server) apiExportLeads(w http.ResponseWriter, r *http.Request) {
	f, err := parseLeadFilter(r.URL.Query(), false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f.Limit = maxPageSize
	// The first page is read before anything is written, so that its
	// error is still an answer of its own.
	leads, next, err := s.cfg.Leads.SearchLeads(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="leads.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
	row := make([]string, len(csvColumns))
	for {
		for _, l := range leads {
			cw.Write(leadRow(row, l))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			panic(http.ErrAbortHandler) // the client went away
		}
		if next == "" {
			return
		}
		f.Cursor = next
		if leads, next, err = s.cfg.Leads.SearchLeads(r.Context(), f); err != nil {
			s.cfg.Logger.Error("export cut off", "method", r.Method, "path", r.URL.Path, "err", err)
			panic(http.ErrAbortHandler)
		}
	}
}

// leadRow fills row with l's cells in the order of csvColumns, each safe
// to open in a spreadsheet.
func leadRow(row []string, l *leadwire.Lead) []string {
	p := &l.Payload
	status := l.Status
	if status == "" {
		status = leadwire.StatusNew
	}
	var respondedAt, responseTime string
	if !l.RespondedAt.IsZero() {
		respondedAt = l.RespondedAt.UTC().Format(csvTime)
		responseTime = strconv.FormatFloat(wire.ResponseTime(l), 'f', -1, 64)
	}
	message, _ := p.Extra["message"].(string)
	extra := ""
	if rest := maps.Clone(p.Extra); len(rest) > 0 {
		if message != "" {
			delete(rest, "message")
		}
		if len(rest) > 0 {
			b, _ := json.Marshal(rest) // decoded from JSON, so it encodes
			extra = string(b)
		}
	}
	assignees := make([]string, 0, len(p.Assignees))
	for _, a := range p.Assignees {
		assignees = append(assignees, assigneeCell(a))
	}
	var li leadwire.Listing
	if p.Listing != nil {
		li = *p.Listing
	}
	price := ""
	if li.Price != 0 {
		price = strconv.FormatFloat(li.Price, 'f', -1, 64)
	}
	cells := []string{
		l.ID, l.CreatedAt.UTC().Format(csvTime), l.ChannelID, l.ContactID, p.SourceType, status, respondedAt, responseTime,
		p.FirstName, p.LastName, p.Email, p.PhoneNumber, p.PhoneNumberOriginal, strings.Join(p.Tag, "; "), p.LeadSource,
		p.Note, message, p.Address.Line(), p.RefererURL, p.MLSID, p.ListingID, p.AgentMLSID, strings.Join(assignees, "; "),
		li.ID, li.URL, li.MLS, li.MLSNumber, price,
		p.UserID, p.BrandID, p.AdCampaignID, p.EmailCampaignID, p.EmailCampaignEmailID, extra,
	}
	for i, c := range cells {
		row[i] = csvCell(c)
	}
	return row
}

// assigneeCell names an assignee by email, else by name, else by MLS id.
func assigneeCell(a leadwire.Assignee) string {
	if a.Email != "" {
		return a.Email
	}
	if name := strings.TrimSpace(a.FirstName + " " + a.LastName); name != "" {
		return name
	}
	return a.MLSID
}

// csvCell escapes a cell against spreadsheet formula injection: a cell
// that begins with =, +, -, @, a tab or a carriage return is read by
// Excel, LibreOffice and Google Sheets as a formula (a visitor could have
// typed =HYPERLINK(...) as their name), so it gets a leading apostrophe,
// which spreadsheets show as text and do not display. Phone numbers in
// E.164 form (+1...) carry one too.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
