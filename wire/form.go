package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
)

// formField is one name=value pair of a form, in the order received.
type formField struct {
	key, value string
}

// decodeFormLead decodes an application/x-www-form-urlencoded body into
// one lead.
func decodeFormLead(body []byte) ([]*leadwire.Lead, error) {
	// curl -d sends this content type whatever the data: a JSON body here
	// would become a lead whose only field is named after the whole body.
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return nil, leadwire.Errorf(leadwire.EUNSUPPORTED, "the body is JSON but Content-Type says "+
			"application/x-www-form-urlencoded (what curl -d sends); send Content-Type: application/json")
	}
	var fields []formField
	pos := 0
	for pair := range strings.SplitSeq(string(body), "&") {
		start := pos
		pos += len(pair) + 1
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, invalid("malformed form data at byte %d: %v", start+1, err)
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, invalid("malformed form data at byte %d: %v", start+len(k)+2, err)
		}
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return nil, invalid("malformed form data at byte %d: field %q is not valid UTF-8 once unescaped", start+1, key)
		}
		if len(fields) == maxFormFields {
			return nil, invalid("form has more than %d fields", maxFormFields)
		}
		fields = append(fields, formField{key, value})
	}
	return formLead(fields)
}

// decodeMultipartLead decodes a multipart/form-data body into one lead.
// File parts are skipped: a lead is text, and storing uploads is not this
// server's job.
func decodeMultipartLead(boundary string, body []byte) ([]*leadwire.Lead, error) {
	if boundary == "" {
		return nil, invalid("multipart/form-data content type has no boundary parameter")
	}
	if !bytes.Contains(body, []byte("--"+boundary)) {
		// Even a form without fields ends with a closing delimiter.
		return nil, invalid("malformed multipart body: no delimiter for boundary %q", boundary)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var fields []formField
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("malformed multipart body: %v", err)
		}
		if n == maxFormFields {
			return nil, invalid("form has more than %d fields", maxFormFields)
		}
		name := part.FormName()
		if name == "" || isFilePart(part) {
			continue
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, invalid("malformed multipart body in field %q: %v", name, err)
		}
		if !utf8.ValidString(name) || !utf8.Valid(value) {
			return nil, invalid("multipart field %q is not valid UTF-8", name)
		}
		fields = append(fields, formField{name, string(value)})
	}
	return formLead(fields)
}

// isFilePart reports whether a part is a file upload: it names a file (even
// an empty name, as browsers send for an empty file input) or declares a
// content type that is not text.
func isFilePart(p *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if _, named := params["filename"]; err == nil && named {
		return true
	}
	ct := p.Header.Get("Content-Type")
	return ct != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/")
}

// formLead builds one lead out of form fields: bracket keys build nested
// values, repeated keys build arrays, and Raw maps each key as received to
// its value (an array of strings when repeated).
func formLead(fields []formField) ([]*leadwire.Lead, error) {
	root := newFormNode(objectNode)
	raw := map[string]any{}
	for _, f := range fields {
		switch prev := raw[f.key].(type) {
		case nil:
			raw[f.key] = f.value
		case string:
			raw[f.key] = []string{prev, f.value}
		case []string:
			raw[f.key] = append(prev, f.value)
		}
		if err := root.insert(f.key, f.value); err != nil {
			return nil, err
		}
	}
	p, err := payloadFromObject(root.objectValue())
	if err != nil {
		return nil, err
	}
	rawJSON, err := json.Marshal(raw)
	if err != nil {
		return nil, leadwire.Errorf(leadwire.EINTERNAL, "encoding raw form: %v", err)
	}
	return []*leadwire.Lead{{Payload: p, Raw: rawJSON}}, nil
}

// nodeKind is the shape of a value built from form keys.
type nodeKind int

const (
	leafNode   nodeKind = iota // one or more string values
	objectNode                 // a[b]
	listNode                   // a[]
)

// formNode is a value under construction from bracket-notation keys.
type formNode struct {
	kind     nodeKind
	values   []string
	children map[string]*formNode
	items    []*formNode
}

func newFormNode(kind nodeKind) *formNode {
	n := &formNode{kind: kind}
	if kind == objectNode {
		n.children = map[string]*formNode{}
	}
	return n
}

// insert adds key=value under n. "a[b][c]" nests objects, "a[]" appends to
// an array, and "a[][b]" appends an object unless the last one has no b
// yet, so that a[][email]=x&a[][mls]=y builds a single object.
func (n *formNode) insert(key, value string) error {
	segs := splitBrackets(key)
	if len(segs) > MaxDepth {
		return invalid("form key %q is nested deeper than %d levels", key, MaxDepth)
	}
	cur := n
	for i, seg := range segs {
		want := leafNode
		switch {
		case i == len(segs)-1:
		case segs[i+1] == "":
			want = listNode
		default:
			want = objectNode
		}
		var child *formNode
		switch {
		case seg == "" && cur.kind == listNode:
			if last := lastItem(cur); want == objectNode && last != nil && last.kind == objectNode && last.children[segs[i+1]] == nil {
				child = last
			} else {
				child = newFormNode(want)
				cur.items = append(cur.items, child)
			}
		case seg != "" && cur.kind == objectNode:
			child = cur.children[seg]
			if child == nil {
				child = newFormNode(want)
				cur.children[seg] = child
			} else if child.kind != want {
				return invalid("form key %q conflicts with an earlier key of another shape", key)
			}
		default:
			return invalid("form key %q conflicts with an earlier key of another shape", key)
		}
		cur = child
	}
	cur.values = append(cur.values, value)
	return nil
}

// lastItem returns the last element of a list node, or nil.
func lastItem(n *formNode) *formNode {
	if len(n.items) == 0 {
		return nil
	}
	return n.items[len(n.items)-1]
}

// splitBrackets splits "a[b][]" into a, b and "". A key that is not well
// formed bracket notation is one plain name.
func splitBrackets(key string) []string {
	i := strings.IndexByte(key, '[')
	if i <= 0 {
		return []string{key}
	}
	segs := []string{key[:i]}
	for rest := key[i:]; rest != ""; {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			return []string{key}
		}
		segs = append(segs, rest[1:end])
		rest = rest[end+1:]
	}
	return segs
}

// value returns the generic value of n: a string, an array of strings for
// a repeated key, an array for a[] or for objects keyed 0, 1, ..., and an
// object otherwise.
func (n *formNode) value() any {
	switch n.kind {
	case leafNode:
		if len(n.values) == 1 {
			return n.values[0]
		}
		out := make([]any, len(n.values))
		for i, v := range n.values {
			out[i] = v
		}
		return out
	case listNode:
		out := make([]any, len(n.items))
		for i, item := range n.items {
			out[i] = item.value()
		}
		return out
	}
	if indexes, ok := n.indexes(); ok {
		out := make([]any, len(indexes))
		for i, idx := range indexes {
			out[i] = n.children[strconv.Itoa(idx)].value()
		}
		return out
	}
	return n.objectValue()
}

// objectValue returns the children of an object node as an object.
func (n *formNode) objectValue() map[string]any {
	out := make(map[string]any, len(n.children))
	for k, c := range n.children {
		out[k] = c.value()
	}
	return out
}

// indexes returns the keys of an object node in numeric order when they
// are all array indexes (assignees[0], assignees[1]); gaps are closed.
func (n *formNode) indexes() ([]int, bool) {
	if len(n.children) == 0 {
		return nil, false
	}
	out := make([]int, 0, len(n.children))
	for k := range n.children {
		idx, err := strconv.Atoi(k)
		if err != nil || idx < 0 || strconv.Itoa(idx) != k {
			return nil, false
		}
		out = append(out, idx)
	}
	slices.Sort(out)
	return out, true
}
