// Package sdk ships the browser SDK (the Rechat global a website loads):
// the built bundles and their TypeScript declarations, embedded, and the
// code that serves them and a demo page.
package sdk

//go:generate go run ./internal/bundlegen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed dist/rechat.min.js dist/rechat.js dist/rechat.esm.js rechat.d.ts rechat.min.css
var files embed.FS

// asset is one served file, prepared once: both encodings and their tags.
type asset struct {
	contentType string
	plain, gz   []byte
	etag, gzTag string
}

// assets returns the served files keyed by name. They are prepared on the
// first request, not when a program starts: every command of the leadwire
// binary imports the server, and only serve ever answers with them.
var assets = sync.OnceValue(func() map[string]*asset {
	served := map[string]*asset{}
	for name, contentType := range map[string]string{
		"dist/rechat.min.js": "text/javascript; charset=utf-8",
		"dist/rechat.js":     "text/javascript; charset=utf-8",
		"dist/rechat.esm.js": "text/javascript; charset=utf-8",
		"rechat.d.ts":        "application/typescript; charset=utf-8",
		"rechat.min.css":     "text/css; charset=utf-8",
	} {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err) // the embed directive guarantees the file
		}
		sum := sha256.Sum256(b)
		tag := base64.RawURLEncoding.EncodeToString(sum[:12])
		served[strings.TrimPrefix(name, "dist/")] = &asset{
			contentType: contentType,
			plain:       b,
			gz:          gzipBest(b),
			etag:        `"` + tag + `"`,
			// Each encoding is its own representation, so its own strong tag.
			gzTag: `"` + tag + `-gzip"`,
		}
	}
	return served
})

func gzipBest(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// Serve answers a GET or HEAD of the SDK file named file: rechat.min.js,
// rechat.js, rechat.esm.js, rechat.d.ts or rechat.min.css (the style of a
// form while form() sends it). Answers carry a strong ETag
// (304 on a matching If-None-Match), a five-minute public cache lifetime,
// gzip when the client accepts it, and Access-Control-Allow-Origin: * so
// that any website may load the script, and the headers of
// setSecurityHeaders. Serve reports false, having
// written nothing, when there is no such file.
func Serve(w http.ResponseWriter, r *http.Request, file string) bool {
	a := assets()[file]
	if a == nil {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	// A short lifetime: a new release reaches every website within
	// minutes, and the ETag makes revalidation cheap.
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	// Pages that require it of what they embed (Cross-Origin-Embedder-
	// Policy) may load the files too.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	setSecurityHeaders(h)
	h.Set("Vary", "Accept-Encoding")
	body, tag := a.plain, a.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, tag = a.gz, a.gzTag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", tag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return true
}

// setSecurityHeaders sets what every file and page the server serves
// carries: the browser runs or renders it only as the type it is sent as,
// and following a link never tells another site the URL it was on.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or matched by *) with a quality above zero.
func acceptsGzip(header string) bool {
	star, gz := false, -1
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		ok := !zeroQuality(params)
		if coding == "*" {
			star = ok
			continue
		}
		if ok {
			gz = 1
		} else if gz < 0 {
			gz = 0
		}
	}
	if gz >= 0 {
		return gz == 1
	}
	return star
}

// zeroQuality reports whether the parameters of one coding hold q=0.
func zeroQuality(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			v = strings.TrimRight(strings.TrimSpace(v), "0")
			return v == "" || v == "0." || v == "0"
		}
	}
	return false
}
