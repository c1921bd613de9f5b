package sdk

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/leadwire/leadwire/sdk/internal/bundle"
)

// budget is the most the minified bundle may weigh gzipped: every byte
// ships to every visitor of every website.
const budget = 4096

func TestBundleSize(t *testing.T) {
	minified := assets()["rechat.min.js"]
	size := len(minified.gz)
	t.Logf("rechat.min.js: %d bytes gzipped (budget %d), %d bytes minified", size, budget, len(minified.plain))
	if size > budget {
		t.Errorf("rechat.min.js is %d bytes gzipped, over the budget of %d", size, budget)
	}
}

func TestBundleIsFresh(t *testing.T) {
	built, err := bundle.Build(".")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range built {
		committed, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, b) {
			t.Errorf("%s is stale: run go generate ./sdk", name)
		}
	}
}

// serveSDK serves the SDK files under /sdk/ as the server does, and 404
// for anything else.
func serveSDK() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Serve(w, r, strings.TrimPrefix(r.URL.Path, "/sdk/")) {
			http.NotFound(w, r)
		}
	})
}

func TestServe(t *testing.T) {
	srv := httptest.NewServer(serveSDK())
	t.Cleanup(srv.Close)
	// The transport must not add Accept-Encoding and unzip on its own:
	// these tests look at the encoding.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	min, _ := files.ReadFile("dist/rechat.min.js")
	dts, _ := files.ReadFile("rechat.d.ts")
	css, _ := files.ReadFile("rechat.min.css")

	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		contentType        string
		encoding           string
		body               []byte // the body after decoding; nil skips the check
	}{
		{"minified bundle", "GET", "/sdk/rechat.min.js", nil, 200, "text/javascript; charset=utf-8", "", min},
		{"gzip when accepted", "GET", "/sdk/rechat.min.js", map[string]string{"Accept-Encoding": "br, gzip"}, 200, "text/javascript; charset=utf-8", "gzip", min},
		{"no gzip at q=0", "GET", "/sdk/rechat.min.js", map[string]string{"Accept-Encoding": "gzip;q=0, br"}, 200, "text/javascript; charset=utf-8", "", min},
		{"unminified bundle", "GET", "/sdk/rechat.js", nil, 200, "text/javascript; charset=utf-8", "", nil},
		{"ES module", "GET", "/sdk/rechat.esm.js", nil, 200, "text/javascript; charset=utf-8", "", nil},
		{"declarations", "GET", "/sdk/rechat.d.ts", nil, 200, "application/typescript; charset=utf-8", "", dts},
		{"stylesheet", "GET", "/sdk/rechat.min.css", nil, 200, "text/css; charset=utf-8", "", css},
		{"stylesheet gzipped", "GET", "/sdk/rechat.min.css", map[string]string{"Accept-Encoding": "gzip"}, 200, "text/css; charset=utf-8", "gzip", css},
		{"HEAD", "HEAD", "/sdk/rechat.min.js", nil, 200, "text/javascript; charset=utf-8", "", []byte{}},
		{"unknown file", "GET", "/sdk/other.js", nil, 404, "text/plain; charset=utf-8", "", nil},
		{"source is not served", "GET", "/sdk/src/index.js", nil, 404, "text/plain; charset=utf-8", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, raw)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if tt.status != 200 {
				return
			}
			for k, want := range map[string]string{
				"Content-Encoding":            tt.encoding,
				"Access-Control-Allow-Origin": "*",
				"Vary":                        "Accept-Encoding",
				"Cache-Control":               "public, max-age=300",
				"X-Content-Type-Options":      "nosniff",
				"Referrer-Policy":             "no-referrer",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if tag := res.Header.Get("ETag"); !strings.HasPrefix(tag, `"`) {
				t.Errorf("ETag %q is not a strong tag", tag)
			}
			body := raw
			if tt.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body is %d bytes, want the %d bytes of the file", len(body), len(tt.body))
			}
		})
	}
}

func TestServeRevalidation(t *testing.T) {
	srv := httptest.NewServer(serveSDK())
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(encoding, ifNoneMatch string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/sdk/rechat.min.js", nil)
		req.Header.Set("Accept-Encoding", encoding)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	plainTag := get("", "").Header.Get("ETag")
	gzipTag := get("gzip", "").Header.Get("ETag")
	if plainTag == gzipTag {
		t.Fatalf("both encodings have the ETag %s; each representation needs its own", plainTag)
	}
	tests := []struct {
		name, encoding, ifNoneMatch string
		status                      int
	}{
		{"same tag", "", plainTag, http.StatusNotModified},
		{"same gzip tag", "gzip", gzipTag, http.StatusNotModified},
		{"one of a list", "", `"old", ` + plainTag, http.StatusNotModified},
		{"weak form of the tag", "", "W/" + plainTag, http.StatusNotModified},
		{"old tag", "", `"old"`, http.StatusOK},
		{"tag of the other encoding", "gzip", plainTag, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.encoding, tt.ifNoneMatch).StatusCode; got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"x-gzip", true},
		{"*", true},
		{"*;q=0", false},
		{"*;q=0, gzip", true},
		{"*, gzip;q=0", false},
		{"identity", false},
		{"deflate, br", false},
		{"gzipx", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "*;q=0, gzip", "br;q=1.0, gzip;q=0.8", ";;,=,q=", "GZip ; Q=0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := acceptsGzip(header)
		// A header that does not mention gzip or * can never allow it.
		lower := strings.ToLower(header)
		if got && !strings.Contains(lower, "gzip") && !strings.Contains(header, "*") {
			t.Errorf("acceptsGzip(%q) = true without gzip or *", header)
		}
		// Refusing gzip explicitly always wins over anything else listed.
		if acceptsGzip(header+", gzip;q=0") && !strings.Contains(lower, "gzip") {
			t.Errorf("acceptsGzip(%q + gzip;q=0) = true", header)
		}
	})
}

func TestDemo(t *testing.T) {
	rec := httptest.NewRecorder()
	Demo(`"><script>alert(1)</script>`).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{`src="/sdk/rechat.min.js"`, `name="first_name"`, `name="last_name"`, `name="email"`, `name="phone_number"`, `<textarea id="message" name="message"`, "sdk.Leads.form(", "<code>go run ./cmd/leadwire leads list</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Error("the channel id is not escaped")
	}
	h := rec.Header()
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("security headers %v", h)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'self'", "connect-src 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	// Every inline script and style is allowed by its hash, and nothing
	// else inline is.
	blocks := inline.FindAllStringSubmatch(page, -1)
	if len(blocks) != 2 {
		t.Fatalf("the demo page has %d inline scripts and styles, want 2", len(blocks))
	}
	for _, b := range blocks {
		sum := sha256.Sum256([]byte(b[2]))
		if !strings.Contains(csp, b[1]+"-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Errorf("Content-Security-Policy %q does not allow the inline %s", csp, b[1])
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q allows any inline code", csp)
	}
}
