// Package rechat is the Go SDK of the lead-capture API: what the browser
// SDK (new Rechat.Sdk(), sdk.Leads.capture, sdk.Leads.form) gives web
// pages, for websites rendered in Go.
//
// It talks to any server speaking the API (a leadwire server or the
// hosted API) and depends on the standard library only.
//
// # Capture
//
// One Sdk serves a whole program:
//
//	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: "http://127.0.0.1:8080"})
//	...
//	defer sdk.Close(ctx)
//	res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: channelID},
//		rechat.Lead{FirstName: "John", Email: "john-doe@gmail.com"})
//
// Errors the API answers are *APIError (Status, Code, Message).
//
// # Forms
//
// Leads.Form turns an existing HTML form into lead capture: mount the
// handler at the form's action. It collects the named fields (never
// passwords, files or payment-card fields), adds rechat_* attribution
// parameters from the URL and the page, sets the tracker cookie and
// redirects back (or answers JSON). The same form works with JavaScript
// off, posting here, and with the browser SDK's form() on.
//
// # Tracker
//
// The tracker cookie (shared with the browser SDK) names the lead behind a
// visitor. Leads.Tracker.FromRequest reads it; its helpers (ViewedListing,
// SearchedListings, SignedUp, ...) add entries to the lead's timeline.
// Before any lead is known they return ErrNoTrackingID.
//
// # Offline outbox
//
// When the API cannot be reached (refused, DNS failure, timeout) or
// answers 429 or 5xx, captures and tracking events are written to an
// outbox directory and Capture returns a result with Queued set. Each item
// is fsynced and renamed into place before Capture returns, keeps one
// Idempotency-Key for its whole life, and is delivered oldest first by a
// background sender with exponential backoff and jitter that honours
// Retry-After, so every lead is created exactly once even when an answer
// is lost or the process crashes. Several processes may share one outbox:
// an item is claimed with a file lock, which the kernel releases if its
// holder dies. The outbox is bounded (ErrQueueFull, never a silent drop);
// items the API refuses with a 4xx are kept as dead letters. Leads.Pending,
// Leads.Flush and Leads.DeadLetters expose it. Sharing needs flock, so
// offline sync is available on Unix systems.
//
// A lead delivered from the outbox is created after the visitor's request
// has been answered, so no cookie can be set for it then; a program that
// wants to track such a visitor calls Tracker.Identify when it next sees
// them with the lead's id.
package rechat
