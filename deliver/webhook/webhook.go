// Package webhook delivers leads to webhook receivers: a POST of the lead
// document, the JSON the API answers a capture with, signed as the
// Standard Webhooks specification says (https://www.standardwebhooks.com):
//
//	webhook-id:        the delivery id, the same on every attempt
//	webhook-timestamp: the attempt's time in Unix seconds
//	webhook-signature: "v1," and the base64 HMAC-SHA256 of
//	                   "<id>.<timestamp>.<body>", one per secret, space-separated
//
// The secret is "whsec_" and base64; after a rotation both the new and the
// previous secret sign, so a receiver can change secrets at its pace.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/wire"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Deliverer posts leads to webhook destinations.
type Deliverer struct {
	Client *http.Client     // nil means deliver.Client
	Now    func() time.Time // nil means time.Now
}

// Deliver posts j's lead to its destination's URL, signed.
func (d *Deliverer) Deliver(ctx context.Context, j *deliver.Job) deliver.Result {
	doc, err := wire.NewLeadDoc(j.Lead)
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	body, err := doc.AppendJSON(nil)
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	at := now()
	signature, err := Sign(j.Destination.Secrets(at), j.Delivery.ID, at.Unix(), body)
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Destination.URL, bytes.NewReader(body))
	if err != nil {
		return deliver.Result{Err: err, Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, j.Delivery.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(HeaderSignature, signature)
	client := d.Client
	if client == nil {
		client = deliver.Client
	}
	return deliver.Send(client, req)
}

// Sign returns the webhook-signature header of a message: one "v1,"
// signature for each secret, space-separated.
func Sign(secrets []string, id string, timestamp int64, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body)))
	}
	return strings.Join(sigs, " "), nil
}

func mac(key []byte, id string, timestamp int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s.%d.", id, timestamp)
	h.Write(body)
	return h.Sum(nil)
}

func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the destination's secret is not \"whsec_\" and base64")
	}
	return key, nil
}

// DefaultTolerance is how far a message's timestamp may be from the
// receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Verify checks a received webhook as a receiver should: its timestamp
// within tolerance of now, and one of its signatures made with secret over
// the id, the timestamp and body. It returns nil for a genuine message.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := decodeSecret(secret)
	if err != nil {
		return err
	}
	id := h.Get(HeaderID)
	if id == "" {
		return errors.New("no webhook-id header")
	}
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return errors.New("the webhook-timestamp header is not Unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("the timestamp is %s from now, more than %s", d.Round(time.Second), tolerance)
	}
	want := mac(key, id, ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue // another scheme this receiver does not know
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches the secret")
}

var _ deliver.Deliverer = (*Deliverer)(nil)
