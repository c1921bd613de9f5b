package sdk

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed demo.html
var demoHTML string

var demoPage = template.Must(template.New("demo").Parse(demoHTML))

// Demo serves a page with a contact form (first_name, last_name, email,
// phone_number and a message) bound with sdk.Leads.form() to channelID. It
// loads /sdk/rechat.min.js from the same server, so leads go to that
// server, and shows the created lead's id or the error.
func Demo(channelID string) http.Handler {
	var page bytes.Buffer
	if err := demoPage.Execute(&page, channelID); err != nil {
		panic(err) // a string always fits the template
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(page.Bytes())
	})
}
