package rechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an error answer of the API: its HTTP status and the
// {"code", "message"} body. Use errors.As to get it from any call.
type APIError struct {
	Status  int    // HTTP status code, e.g. 400, 404, 409, 503
	Code    string // the API's error code, e.g. "invalid", "not_found"
	Message string // what was wrong, for a person
	// RetryAfter is the wait the API asked for with Retry-After (429 and
	// 503 answers), or zero.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("rechat: API answered %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("rechat: API answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Temporary reports whether the same request may succeed later: the API
// is overloaded (429) or failing (5xx), not refusing the request itself.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// maxResponseBody bounds a success answer; a lead with its raw and parsed
// payload is a few kilobytes.
const maxResponseBody = 4 << 20

// unreachableError wraps a transport failure (refused, DNS, timeout, lost
// response): the request may or may not have reached the API.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "rechat: API unreachable: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// request is one API call, kept whole so that the outbox can replay it
// byte for byte under the same idempotency key.
type request struct {
	Path           string          `json:"path"` // e.g. /leads/channels/{id}/webhook
	Body           json.RawMessage `json:"body"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// userAgent names this SDK in every request.
const userAgent = "leadwire-rechat-go/1"

// client posts requests to one API base URL.
type client struct {
	base string
	http *http.Client
}

// post sends r and decodes the data of a success answer into out (which
// may be nil). Failures are *APIError or *unreachableError; a canceled ctx
// is returned as ctx.Err().
func (c *client) post(ctx context.Context, r *request, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	if chain, _ := ctx.Value(forwardedKey{}).(string); chain != "" {
		req.Header.Set("X-Forwarded-For", chain)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); errors.Is(ctxErr, context.Canceled) {
			return ctxErr
		}
		return &unreachableError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		apiErr := decodeAPIError(resp.StatusCode, body)
		apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return apiErr
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		// The API has answered success, so the request was applied; only
		// the answer was lost. Replaying it with the same key is safe.
		return &unreachableError{err}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("rechat: API answer is not JSON: %w", err)
	}
	if len(envelope.Data) == 0 || string(envelope.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		return fmt.Errorf("rechat: API answer: %w", err)
	}
	return nil
}

// decodeAPIError reads an error answer: {"code","message"} when the body is
// that JSON, else the body text (a proxy's HTML page, say), shortened.
func decodeAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var wire struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &wire) == nil && (wire.Code != "" || wire.Message != "") {
		e.Code, e.Message = wire.Code, wire.Message
		return e
	}
	msg := strings.TrimSpace(strings.ToValidUTF8(string(body), "?"))
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Message = msg
	return e
}

// maxRetryAfter caps what a server may ask for, so that a bogus header
// cannot stall the outbox for days.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// It returns 0 for an empty, malformed or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// retryable reports whether err is a failure the outbox should ride out:
// the API unreachable, overloaded or failing.
func retryable(err error) bool {
	var unreachable *unreachableError
	if errors.As(err, &unreachable) {
		return true
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Temporary()
}

// retryAfter is the wait err asks for, or zero.
func retryAfter(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}

type forwardedKey struct{}

// forwardedFor returns ctx carrying the X-Forwarded-For chain of the
// visitor's request r: what it came with, and the address it came from.
// A request sent with it tells a leadwire server that trusts this website
// as a proxy (serve --trusted-proxy) who the visitor is, so that each
// visitor has a rate limit of their own.
func forwardedFor(ctx context.Context, r *http.Request) context.Context {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ctx
	}
	chain := host
	if prior := strings.Join(r.Header.Values("X-Forwarded-For"), ", "); prior != "" {
		chain = prior + ", " + host
	}
	return context.WithValue(ctx, forwardedKey{}, chain)
}
