package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
)

func gzipped(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestContentEncoding(t *testing.T) {
	s := testserver.Start(t)
	id := captureID(t, s, s.ChannelID, `{"email":"first@example.com"}`)
	lead := `{"first_name":"Zip","email":"zip@example.com"}`
	bomb := gzipped(t, make([]byte, 10<<20)) // 10 MB of zeros in about 10 KB
	tests := []struct {
		name, path, method, encoding string
		body                         []byte
		status                       int
		code, inMessage              string
	}{
		{"gzip capture", webhook(s, s.ChannelID), "POST", "gzip", gzipped(t, []byte(lead)), 200, "OK", ""},
		{"x-gzip", webhook(s, s.ChannelID), "POST", "x-gzip", gzipped(t, []byte(lead)), 200, "OK", ""},
		{"identity", webhook(s, s.ChannelID), "POST", "identity", []byte(lead), 200, "OK", ""},
		{"gzip timeline", s.URL + "/leads/" + id + "/timeline", "POST", "GZIP", gzipped(t, []byte(`{"action":"ContactSignedUp"}`)), 200, "OK", ""},
		{"gzip assignees", s.URL + "/leads/" + id + "/assignees", "PUT", "gzip", gzipped(t, []byte(`[{"email":"a@example.com"}]`)), 200, "OK", ""},
		{"gzip bomb", webhook(s, s.ChannelID), "POST", "gzip", bomb, 413, "too_large", "65536"},
		{"over the limit once decoded", webhook(s, s.ChannelID), "POST", "gzip",
			gzipped(t, []byte(`{"note":"`+strings.Repeat("x", 70<<10)+`"}`)), 413, "too_large", "65536"},
		{"not gzip", webhook(s, s.ChannelID), "POST", "gzip", []byte(lead), 400, "invalid", "gzip"},
		{"cut off", webhook(s, s.ChannelID), "POST", "gzip", gzipped(t, []byte(lead))[:30], 400, "invalid", ""},
		{"br", webhook(s, s.ChannelID), "POST", "br", []byte(lead), 415, "unsupported_media_type", "gzip"},
		{"deflate", webhook(s, s.ChannelID), "POST", "deflate", []byte(lead), 415, "unsupported_media_type", "deflate"},
		{"gzip twice", webhook(s, s.ChannelID), "POST", "gzip, gzip", gzipped(t, gzipped(t, []byte(lead))), 415, "unsupported_media_type", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, tt.path, "application/json", string(tt.body), "Content-Encoding", tt.encoding)
			if a.status != tt.status || a.body["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", a.status, a.body, tt.status, tt.code)
			}
			if msg, _ := a.body["message"].(string); tt.status != 200 && (msg == "" || !strings.Contains(msg, tt.inMessage)) {
				t.Errorf("message %q should mention %q", msg, tt.inMessage)
			}
		})
	}
	var zipped int
	for _, l := range s.Leads(t) {
		if l.Payload.FirstName == "Zip" {
			zipped++
			if string(l.Raw) != lead {
				t.Errorf("raw payload %s, want the decoded body %s", l.Raw, lead)
			}
		}
	}
	if zipped != 3 {
		t.Errorf("%d leads from the gzip, x-gzip and identity bodies, want 3", zipped)
	}
}

// TestGzipBombIsNotDecoded sends an endless gzip stream of zeros: the
// server must stop decoding at the limit and answer, whatever follows.
func TestGzipBombIsNotDecoded(t *testing.T) {
	s := testserver.Start(t)
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		zeros := make([]byte, 1<<20)
		for {
			if _, err := zw.Write(zeros); err != nil {
				return
			}
		}
	}()
	defer pr.CloseWithError(io.ErrClosedPipe)
	req, _ := http.NewRequest("POST", webhook(s, s.ChannelID), pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", res.StatusCode)
	}
}

// TestIdempotencyKeyIgnoresMediaTypeParameters: the same body under one key
// is one request, whatever parameters or encoding its media type comes
// with.
func TestIdempotencyKeyIgnoresMediaTypeParameters(t *testing.T) {
	s := testserver.Start(t)
	body := `{"email":"once@example.com"}`
	first := do(t, "POST", webhook(s, s.ChannelID), "application/json", body, "Idempotency-Key", "k-1")
	for _, tt := range []struct {
		name, contentType, encoding, body string
	}{
		{"charset", "application/json; charset=utf-8", "", body},
		{"charset in capitals", "Application/JSON;Charset=UTF-8", "", body},
		{"gzipped", "application/json", "gzip", string(gzipped(t, []byte(body)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			again := do(t, "POST", webhook(s, s.ChannelID), tt.contentType, tt.body, "Idempotency-Key", "k-1", "Content-Encoding", tt.encoding)
			if again.status != 200 || again.data()["id"] != first.data()["id"] {
				t.Errorf("got %d %v, want the first lead %v", again.status, again.body, first.data()["id"])
			}
		})
	}
	t.Run("another media type is another request", func(t *testing.T) {
		other := do(t, "POST", webhook(s, s.ChannelID), "text/plain", body, "Idempotency-Key", "k-1")
		if other.status != http.StatusConflict {
			t.Errorf("got %d %v, want 409", other.status, other.body)
		}
	})
	if n := len(s.Leads(t)); n != 1 {
		t.Errorf("%d leads stored, want 1", n)
	}
}
