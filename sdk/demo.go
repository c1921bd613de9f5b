package sdk

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"regexp"
	"strings"
)

//go:embed demo.html
var demoHTML string

var demoPage = template.Must(template.New("demo").Parse(demoHTML))

// inline finds the page's inline scripts and styles.
var inline = regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)

// Demo serves a page with a contact form (first_name, last_name, email,
// phone_number and a message) bound with sdk.Leads.form() to channelID. It
// loads /sdk/rechat.min.js and /sdk/rechat.min.css from the same server,
// so leads go to that server, and shows the created lead's id or the
// error.
//
// The page's Content-Security-Policy lets it run its own inline script and
// style and load and call this server, and nothing else; no other site may
// frame it.
func Demo(channelID string) http.Handler {
	var page bytes.Buffer
	if err := demoPage.Execute(&page, channelID); err != nil {
		panic(err) // a string always fits the template
	}
	csp := demoPolicy(page.Bytes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "SAMEORIGIN") // frame-ancestors for browsers that predate it
		setSecurityHeaders(h)
		w.Write(page.Bytes())
	})
}

// demoPolicy is the Content-Security-Policy of page: its inline scripts
// and styles are allowed by their hashes, computed from the page as
// rendered, so the policy cannot drift from the page.
func demoPolicy(page []byte) string {
	hashes := map[string][]string{}
	for _, m := range inline.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[2])
		kind := string(m[1])
		hashes[kind] = append(hashes[kind], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(append([]string{"'self'"}, hashes["script"]...), " "),
		"style-src " + strings.Join(append([]string{"'self'"}, hashes["style"]...), " "),
		"connect-src 'self'",
		"img-src 'self'",
		"form-action 'self'",
		"base-uri 'none'",
		"frame-ancestors 'self'",
	}, "; ")
}
