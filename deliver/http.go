package deliver

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
)

// Client is the HTTP client the Deliverers share: it never follows
// redirects (a redirect is an answer to record, not a request to repeat
// elsewhere with the lead) and keeps connections to each destination open.
var Client = &http.Client{
	Transport: func() *http.Transport {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = DefaultPerDestination
		return t
	}(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// maxDrain is how much of an answer is read past its first bytes, so that
// the connection can be used again; a longer answer closes it.
const maxDrain = 64 << 10

// Send sends req and returns the destination's status, the first bytes of
// its answer and its Retry-After.
func Send(client *http.Client, req *http.Request) Result {
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "leadwire")
	}
	res, err := client.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	defer res.Body.Close()
	first, err := io.ReadAll(io.LimitReader(res.Body, leadwire.MaxAttemptResponse))
	if err == nil {
		io.CopyN(io.Discard, res.Body, maxDrain)
	}
	return Result{StatusCode: res.StatusCode, Response: first,
		RetryAfter: ParseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
}

// ParseRetryAfter reads a Retry-After header, seconds or an HTTP date, as
// a wait from now; 0 when it is missing, malformed or past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(leadwire.DeliveryGiveUp/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), leadwire.DeliveryGiveUp)
	}
	return 0
}
