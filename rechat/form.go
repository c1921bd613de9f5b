package rechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Screening fields, which a leadwire server reads to tell people from
// bots and keeps out of the lead.
const (
	// HoneypotField is the hidden, unlabelled field FormFields adds: a
	// person never fills it in, a bot does.
	HoneypotField = "_lw_website"
	// FormTimeField carries how long the form was on screen, in
	// milliseconds; Form sends it when the form carried FormFields.
	FormTimeField = "_lw_t"
	// shownField is when the page with the form was rendered (Unix
	// milliseconds), which Form turns into FormTimeField.
	shownField = "_lw_shown"
)

// FormFields returns the screening fields to put inside a <form> that
// posts to Leads.Form, as the browser SDK adds them to the forms it binds:
// the hidden honeypot field, and the time the page was rendered. Render it
// with the page, so that the time is the page's:
//
//	<form method="post" action="/contact">{{ .LeadFields }} ...</form>
func FormFields() template.HTML {
	return template.HTML(fmt.Sprintf(`<div aria-hidden="true" style="position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden">`+
		`<input name="%s" tabindex="-1" autocomplete="off"></div><input type="hidden" name="%s" value="%d">`,
		HoneypotField, shownField, time.Now().UnixMilli()))
}

// formTime replaces the render time FormFields put in p by how long the
// form was on screen until now; a time that is not one is dropped.
func (p Payload) formTime(now time.Time) {
	shown, err := strconv.ParseInt(p.Get(shownField), 10, 64)
	delete(p, shownField)
	if err != nil || shown <= 0 || shown > now.UnixMilli() {
		return
	}
	p[FormTimeField] = strconv.FormatInt(now.UnixMilli()-shown, 10)
}

// Payload is a submitted form: each named field's value, a string, or a
// []string when the field was repeated (checkboxes, multiple selects).
type Payload map[string]any

// Get returns the first value of the field, or "".
func (p Payload) Get(name string) string {
	if v := p.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of the field.
func (p Payload) Values(name string) []string {
	switch v := p[name].(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	return nil
}

// FormEvents customize a form handler. All fields are optional.
type FormEvents struct {
	// Validate is called before the capture; returning false sends nothing
	// and fails the submission with ErrFormRejected.
	Validate func(r *http.Request, p Payload) bool
	// OnSuccess writes the answer after the lead was created or queued
	// (res.Queued). The tracker cookie is already set when it was created.
	OnSuccess func(w http.ResponseWriter, r *http.Request, res *CaptureResult)
	// OnError writes the answer when the submission failed.
	OnError func(w http.ResponseWriter, r *http.Request, err error)

	// SuccessURL and ErrorURL are where a browser is sent (303) without
	// OnSuccess / OnError. SuccessURL defaults to the page of the form;
	// without ErrorURL the error is answered as a short text page.
	SuccessURL, ErrorURL string
}

// ErrFormRejected is the error of a submission FormEvents.Validate refused.
var ErrFormRejected = errors.New("rechat: form rejected by validation")

// FormError is a submission that could not be read: not a form body, too
// large or malformed.
type FormError struct {
	Status int // 400, 413 or 415
	Err    error
}

func (e *FormError) Error() string { return "rechat: form body: " + e.Err.Error() }
func (e *FormError) Unwrap() error { return e.Err }

// maxFormBody bounds a submission. File parts count too, though they are
// never collected.
const maxFormBody = 10 << 20

// maxFormMemory is how much of a multipart body is held in memory; file
// parts beyond it go to temporary files removed after the request.
const maxFormMemory = 1 << 20

// Form returns the handler for an HTML form's action: the server-side
// counterpart of the browser SDK's form(). On POST it collects every named
// field of the body (URL-encoded or multipart; repeated fields become
// lists), except passwords, files and payment-card fields, which are never
// collected. It adds the rechat_* attribution parameters of the request
// URL and of the Referer page's query string to ch (values set in ch win,
// then the request URL's), sets referer_url from Referer, runs Validate
// and then Capture. On success it sets the tracker cookie.
//
// For a leadwire server's spam screening it turns the render time that
// FormFields put in the form into how long the form was on screen, and
// sends the visitor's address in X-Forwarded-For (after any the request
// came with): a server that lists this website with --trusted-proxy then
// limits each visitor's rate apart instead of the website's.
//
// Without OnSuccess/OnError it answers as a form endpoint should: when the
// request accepts JSON, {"code":"OK","data":{...lead...}} or
// {"code","message"} with the status (422 for a rejected form, 502 when
// the API failed); otherwise a 303 redirect to SuccessURL (default: back to
// the form's page) or ErrorURL.
//
// The visitor closing the page does not cancel the capture: the lead is
// worth more than the request.
func (s *LeadsService) Form(ch Channel, ev FormEvents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			formError(w, r, ev, &FormError{Status: http.StatusMethodNotAllowed, Err: errors.New("only POST is allowed")})
			return
		}
		p, err := readForm(w, r)
		if err != nil {
			formError(w, r, ev, err)
			return
		}
		p.formTime(time.Now())
		referer := r.Referer()
		if p.Get("referer_url") == "" && referer != "" {
			p["referer_url"] = referer
		}
		if ev.Validate != nil && !ev.Validate(r, p) {
			formError(w, r, ev, ErrFormRejected)
			return
		}
		res, err := s.Capture(forwardedFor(context.WithoutCancel(r.Context()), r), attribution(ch, r.URL, referer), p.lead())
		if err != nil {
			formError(w, r, ev, err)
			return
		}
		if res.ID != "" {
			s.Tracker.Identify(w, res.ID)
		}
		if ev.OnSuccess != nil {
			ev.OnSuccess(w, r, res)
			return
		}
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, map[string]any{"code": "OK", "data": res})
			return
		}
		target := ev.SuccessURL
		if target == "" {
			target = backURL(r)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// readForm collects the named fields of a URL-encoded or multipart body.
func readForm(w http.ResponseWriter, r *http.Request) (Payload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var values url.Values
	var err error
	switch mediaType {
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxFormMemory)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
			values = r.MultipartForm.Value // files are in MultipartForm.File, never read
		}
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
		values = r.PostForm
	default:
		return nil, &FormError{Status: http.StatusUnsupportedMediaType, Err: errors.New("content type must be a form (URL-encoded or multipart)")}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &FormError{Status: http.StatusRequestEntityTooLarge, Err: err}
		}
		return nil, &FormError{Status: http.StatusBadRequest, Err: err}
	}
	return collect(values), nil
}

// collect turns form values into a payload, leaving out sensitive fields.
func collect(values url.Values) Payload {
	p := make(Payload, len(values))
	for name, vs := range values {
		if name == "" || len(vs) == 0 || sensitiveField(name) {
			continue
		}
		if len(vs) == 1 {
			p[name] = vs[0]
		} else {
			p[name] = slices.Clone(vs)
		}
	}
	return p
}

// sensitiveField reports whether a field name looks like a password or a
// payment-card field, which a lead must never carry.
func sensitiveField(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '.', '[', ']':
			return '_'
		}
		return r
	}, strings.ToLower(name))
	if strings.HasPrefix(n, "cc_") {
		return true
	}
	for _, part := range []string{"password", "passwd", "passcode", "card_number", "cardnumber", "card_num", "expiry", "expiration", "exp_date", "exp_month", "exp_year", "cvc", "cvv", "security_code"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	switch n {
	case "pass", "pwd", "pin", "csc", "pan", "ccn", "exp":
		return true
	}
	return false
}

// attribution fills the attribution ch leaves empty from rechat_*
// parameters: first of the request URL (the form's action), then of the
// page the form was on.
func attribution(ch Channel, action *url.URL, referer string) Channel {
	sources := []url.Values{action.Query()}
	if u, err := url.Parse(referer); err == nil && referer != "" {
		sources = append(sources, u.Query())
	}
	fields := reflect.ValueOf(&ch).Elem()
	for name, i := range attributionFields {
		f := fields.Field(i)
		for _, q := range sources {
			if f.String() != "" {
				break
			}
			f.SetString(strings.TrimSpace(q.Get("rechat_" + name)))
		}
	}
	return ch
}

// jsonStringFields maps the JSON name of each string field of the struct T
// to the field's index, so that fields filled by wire name take their
// names from T's struct tags alone.
func jsonStringFields[T any]() map[string]int {
	fields := map[string]int{}
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() == reflect.String && name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

// leadTextFields are the string fields of Lead: a form field named like a
// documented lead field fills it.
var leadTextFields = jsonStringFields[Lead]()

// attributionFields are the attribution fields of Channel (every field
// but LeadChannel, which is the endpoint, not part of the lead), which
// rechat_* parameters fill.
var attributionFields = jsonStringFields[Channel]()

// lead maps a payload to a lead: documented fields to typed fields (the
// first value when a field was repeated), the rest to Extra. A form names
// agents with "assignees" fields holding their email addresses, and tags
// with "tag" or "tags" fields.
func (p Payload) lead() Lead {
	l := Lead{Extra: map[string]any{}, Tag: slices.Concat(p.Values("tag"), p.Values("tags"))}
	typed := reflect.ValueOf(&l).Elem()
	for name, v := range p {
		if i, ok := leadTextFields[name]; ok {
			typed.Field(i).SetString(p.Get(name))
			continue
		}
		switch name {
		case "tag", "tags":
			// set above, in a fixed order
		case "assignees":
			for _, email := range p.Values(name) {
				if email = strings.TrimSpace(email); email != "" {
					l.Assignees = append(l.Assignees, Assignee{Email: email})
				}
			}
		default:
			l.Extra[name] = v
		}
	}
	return l
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// backURL is the page the form was on when the browser said so and it is
// on this site, else the site's root: never a redirect to another site.
func backURL(r *http.Request) string {
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https") {
		return u.String()
	}
	return "/"
}

// formError answers a failed submission.
func formError(w http.ResponseWriter, r *http.Request, ev FormEvents, err error) {
	if ev.OnError != nil {
		ev.OnError(w, r, err)
		return
	}
	status, code := http.StatusBadGateway, "unavailable"
	var fe *FormError
	switch {
	case errors.Is(err, ErrFormRejected):
		status, code = http.StatusUnprocessableEntity, "invalid"
	case errors.As(err, &fe):
		status, code = fe.Status, "invalid"
	}
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"code": code, "message": err.Error()})
		return
	}
	if ev.ErrorURL != "" {
		http.Redirect(w, r, ev.ErrorURL, http.StatusSeeOther)
		return
	}
	http.Error(w, err.Error(), status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
