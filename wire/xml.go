package wire

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/leadwire/leadwire"

	"golang.org/x/text/encoding/charmap"
)

// The XML decoder reads the lead lists that real-estate IDX lead-forwarding
// services post: <LeadList><Lead>...</Lead>...</LeadList>, or one bare
// <Lead>. Each <Lead> is first turned into a generic object (element name
// -> text, or object for an element with children, or array for repeated
// elements; attributes as "@name", text beside children as "#text"). That
// object, serialized, is the lead's Raw. The documented elements are then
// taken out of it into the payload, and whatever is left is Extra, in the
// place it had in the document.

// xmlElement is an element of a parsed document.
type xmlElement struct {
	name     string
	attrs    []xml.Attr
	text     strings.Builder
	children []*xmlElement
}

// decodeXMLLeads decodes a lead list of at most maxLeads leads into its
// leads. Elements of the list other than <Lead> (a sender's header, say)
// describe no lead and are skipped.
func decodeXMLLeads(body []byte, maxLeads int) ([]*leadwire.Lead, error) {
	root, err := parseXML(body, maxLeads)
	if err != nil {
		return nil, err
	}
	var elems []*xmlElement
	switch root.name {
	case "Lead":
		elems = []*xmlElement{root}
	case "LeadList":
		for _, c := range root.children {
			if c.name == "Lead" {
				elems = append(elems, c)
			}
		}
	default:
		return nil, invalid("expected a <LeadList> or <Lead> root element, got <%s>", root.name)
	}
	if len(elems) == 0 {
		return nil, invalid("<LeadList> holds no <Lead> element")
	}
	leads := make([]*leadwire.Lead, 0, len(elems))
	for i, e := range elems {
		obj := e.object()
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, leadwire.Errorf(leadwire.EINTERNAL, "encoding raw lead: %v", err)
		}
		r := xmlReader{lead: i + 1}
		p := r.payload(obj)
		if r.err != nil {
			return nil, r.err
		}
		leads = append(leads, &leadwire.Lead{Payload: p, Raw: raw})
	}
	return leads, nil
}

// parseXML parses body into its root element. It refuses any DTD: entity
// declarations are how a small body expands into a huge one. It stops at
// the <Lead> of a <LeadList> that is one more than maxLeads, so that a
// flood of leads costs no more than reading that far.
func parseXML(body []byte, maxLeads int) (*xmlElement, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = xmlCharset
	var root *xmlElement
	var stack []*xmlElement
	leads := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, xmlSyntaxError(dec, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, invalid("XML at byte %d: document type declarations (<!DOCTYPE>, <!ENTITY>) are not accepted", dec.InputOffset())
		case xml.StartElement:
			if len(stack) == MaxDepth {
				return nil, invalid("malformed XML at byte %d: nested deeper than %d levels", dec.InputOffset(), MaxDepth)
			}
			e := &xmlElement{name: t.Name.Local, attrs: t.Attr}
			if len(stack) == 1 && root.name == "LeadList" && e.name == "Lead" {
				if leads++; leads > maxLeads {
					return nil, leadwire.Errorf(leadwire.ETOOLARGE,
						"<LeadList> holds more than %d leads; at most %d are accepted per request", maxLeads, maxLeads)
				}
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			case root != nil:
				return nil, invalid("malformed XML at byte %d: more than one root element", dec.InputOffset())
			default:
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, invalid("malformed XML at byte %d: text outside the root element", dec.InputOffset())
			}
		}
	}
	if root == nil {
		return nil, invalid("empty XML document: expected a <LeadList> or <Lead> root element")
	}
	return root, nil
}

// xmlCharset reads the non-UTF-8 encodings lead-forwarding services are
// known to declare: ISO-8859-1 and its Windows superset.
func xmlCharset(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(input), nil
	case "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("the document's encoding %q is not supported; send UTF-8, ISO-8859-1 or windows-1252", label)
}

// xmlSyntaxError turns a parse error into an EINVALID error naming the
// byte offset and, for a syntax error, the line.
func xmlSyntaxError(dec *xml.Decoder, err error) error {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return invalid("malformed XML at byte %d (line %d): %s", dec.InputOffset(), syn.Line, syn.Msg)
	}
	return invalid("XML at byte %d: %v", dec.InputOffset(), err)
}

// value returns the generic value of e: its text when it has neither
// children nor attributes, else an object.
func (e *xmlElement) value() any {
	if len(e.children) == 0 && len(e.dataAttrs()) == 0 {
		return e.text.String()
	}
	return e.object()
}

// object returns e as an object: attributes as "@name", children by name
// (repeated ones as an array), and its text as "#text" unless the text is
// only indentation.
func (e *xmlElement) object() map[string]any {
	obj := map[string]any{}
	for _, a := range e.dataAttrs() {
		obj["@"+a.Name.Local] = a.Value
	}
	for _, c := range e.children {
		v := c.value()
		switch prev := obj[c.name].(type) {
		case nil:
			obj[c.name] = v
		case []any:
			obj[c.name] = append(prev, v)
		default:
			obj[c.name] = []any{prev, v}
		}
	}
	if text := e.text.String(); strings.TrimSpace(text) != "" {
		obj["#text"] = text
	}
	return obj
}

// dataAttrs returns the attributes of e that carry data: all but
// namespace declarations.
func (e *xmlElement) dataAttrs() []xml.Attr {
	var out []xml.Attr
	for _, a := range e.attrs {
		if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
			out = append(out, a)
		}
	}
	return out
}

// xmlReader takes the documented elements out of a lead object and keeps
// the first error.
type xmlReader struct {
	lead int // 1-based, for messages
	err  error
}

// payload takes the documented elements out of obj into a payload; what
// is left of obj becomes Extra.
func (r *xmlReader) payload(obj map[string]any) leadwire.Payload {
	var p leadwire.Payload
	if c := takeObject(obj, "Contact"); c != nil {
		if n := takeObject(c, "Name"); n != nil {
			p.FirstName = r.take(n, "Contact/Name/First")
			p.LastName = r.take(n, "Contact/Name/Last")
			putBack(c, "Name", n)
		}
		p.Email = r.take(c, "Contact/Email")
		if l := takeObject(c, "EmailList"); l != nil {
			if p.Email == "" {
				p.Email = r.take(l, "Contact/EmailList/Email")
			}
			putBack(c, "EmailList", l)
		}
		if l := takeObject(c, "PhoneList"); l != nil {
			if ph := takeObject(l, "Phone"); ph != nil {
				p.PhoneNumber = r.take(ph, "Contact/PhoneList/Phone/Number")
				putBack(l, "Phone", ph)
			} else {
				p.PhoneNumber = r.take(l, "Contact/PhoneList/Phone")
			}
			putBack(c, "PhoneList", l)
		}
		putBack(obj, "Contact", c)
	}
	if a := takeObject(obj, "Address"); a != nil {
		p.Address = &leadwire.Address{
			StreetAddress: r.take(a, "Address/Street"),
			City:          r.take(a, "Address/City"),
			StateCode:     r.take(a, "Address/State"),
			PostalCode:    r.take(a, "Address/Zip"),
			Country:       r.take(a, "Address/Country"),
		}
		putBack(obj, "Address", a)
	}
	p.Note = r.firstOf(obj, "Note", "Comments")
	p.LeadSource = r.take(obj, "LeadSource")
	// An IDX ListingNumber is the listing's MLS number, and the only
	// listing id such services send: it fills both fields.
	p.ListingID = r.take(obj, "ListingNumber")
	p.MLSID = p.ListingID
	p.AgentMLSID = r.take(obj, "ListingAgentMLSID")
	p.SourceType = r.take(obj, "SourceType")
	p.RefererURL = r.firstOf(obj, "ReferrerURL", "RefererURL")
	p.Tag = r.takeAll(obj, "Tag")
	if t := takeObject(obj, "Tags"); t != nil {
		p.Tag = append(p.Tag, r.takeAll(t, "Tags/Tag")...)
		putBack(obj, "Tags", t)
	} else if _, ok := obj["Tags"]; ok {
		p.Tag = append(p.Tag, r.take(obj, "Tags"))
	}
	if len(obj) > 0 {
		p.Extra = obj
	}
	return p
}

// take removes the first element named by the last part of path from obj
// and returns its text.
func (r *xmlReader) take(obj map[string]any, path string) string {
	name := path[strings.LastIndexByte(path, '/')+1:]
	v, ok := first(obj, name)
	if !ok {
		return ""
	}
	s, ok := textOf(v)
	if !ok {
		if r.err == nil {
			r.err = invalid("lead %d: element <%s> must hold text, not child elements", r.lead, path)
		}
		return ""
	}
	removeFirst(obj, name)
	return s
}

// takeAll takes every element named by the last part of path.
func (r *xmlReader) takeAll(obj map[string]any, path string) []string {
	name := path[strings.LastIndexByte(path, '/')+1:]
	var out []string
	for _, ok := obj[name]; ok && r.err == nil; _, ok = obj[name] {
		out = append(out, r.take(obj, path))
	}
	return out
}

// firstOf takes the first of names (aliases) that is present and not empty.
func (r *xmlReader) firstOf(obj map[string]any, names ...string) string {
	for _, name := range names {
		if s := r.take(obj, name); s != "" {
			return s
		}
	}
	return ""
}

// first returns the first element called name in obj.
func first(obj map[string]any, name string) (any, bool) {
	v, ok := obj[name]
	if list, isList := v.([]any); isList {
		return list[0], true
	}
	return v, ok
}

// removeFirst removes the first element called name from obj.
func removeFirst(obj map[string]any, name string) {
	list, ok := obj[name].([]any)
	switch {
	case !ok:
		delete(obj, name)
	case len(list) == 2:
		obj[name] = list[1]
	default:
		obj[name] = list[1:]
	}
}

// takeObject removes the first element called name from obj and returns
// it when it has children; putBack returns what was not read of it.
func takeObject(obj map[string]any, name string) map[string]any {
	v, _ := first(obj, name)
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	removeFirst(obj, name)
	return m
}

// putBack puts what is left of an element taken with takeObject back in
// its place, dropping it when nothing is left.
func putBack(obj map[string]any, name string, m map[string]any) {
	if len(m) == 0 {
		return
	}
	switch v := obj[name].(type) {
	case nil:
		obj[name] = m
	case []any:
		obj[name] = append([]any{m}, v...)
	default:
		obj[name] = []any{m, v}
	}
}

// textOf returns the text of an element value: a string, or an object
// holding only attributes and text.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case map[string]any:
		for k := range v {
			if k != "#text" && !strings.HasPrefix(k, "@") {
				return "", false
			}
		}
		s, _ := v["#text"].(string)
		return s, true
	}
	return "", false
}
