// Package rechat forwards leads to a Rechat channel's lead webhook: the
// lead as the form sent it (its raw payload) is the body, and the delivery
// id its Idempotency-Key, so that Rechat stores a lead sent again once.
package rechat

import (
	"bytes"
	"context"
	"net/http"

	"github.com/leadwire/leadwire/deliver"
)

// Deliverer posts leads to Rechat channel webhooks.
type Deliverer struct {
	Client *http.Client // nil means deliver.Client
}

// Deliver posts j's lead to the channel webhook at its destination's URL.
func (d *Deliverer) Deliver(ctx context.Context, j *deliver.Job) deliver.Result {
	body := []byte(j.Lead.Raw)
	if len(body) == 0 {
		parsed, err := j.Lead.PayloadJSON()
		if err != nil {
			return deliver.Result{Err: err, Permanent: true}
		}
		body = parsed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Destination.URL, bytes.NewReader(body))
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", j.Delivery.ID)
	client := d.Client
	if client == nil {
		client = deliver.Client
	}
	return deliver.Send(client, req)
}
