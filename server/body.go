package server

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/leadwire/leadwire"
)

// maxIdempotencyKey bounds the Idempotency-Key header; SDKs send UUIDs.
const maxIdempotencyKey = 255

// readPost returns the Idempotency-Key header of a POST or PUT (the SDKs
// send one per capture or tracking event and reuse it on every retry) and
// its whole body, decoded when it was sent gzipped. The size limit holds
// for the body as decoded, and for the bytes on the wire as well; a body
// over it is refused with ETOOLARGE, before it is read when its length is
// announced.
func (s *Server) readPost(w http.ResponseWriter, r *http.Request) (key string, body []byte, err error) {
	key = r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return "", nil, leadwire.Errorf(leadwire.EINVALID, "Idempotency-Key is longer than %d characters", maxIdempotencyKey)
	}
	gzipped, err := isGzipped(r.Header)
	if err != nil {
		return "", nil, err
	}
	if r.ContentLength > s.cfg.MaxBody {
		return "", nil, tooLarge(s.cfg.MaxBody)
	}
	body, err = readBody(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), gzipped, s.cfg.MaxBody)
	if err != nil {
		return "", nil, err
	}
	return key, body, nil
}

// isGzipped reads the Content-Encoding of a request: none (or identity),
// or gzip. Anything else is EUNSUPPORTED, naming what is supported.
func isGzipped(h http.Header) (bool, error) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	switch {
	case len(codings) == 0:
		return false, nil
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return true, nil
	}
	return false, leadwire.Errorf(leadwire.EUNSUPPORTED, "content encoding %q is not supported; send gzip or no Content-Encoding",
		strings.Join(codings, ", "))
}

// readBody reads src, gunzipping it when gzipped, and refuses with
// ETOOLARGE a body whose decoded size is over limit. It never decodes more
// than limit+1 bytes, so a small gzip of gigabytes of zeros costs no more
// than a body at the limit.
func readBody(src io.Reader, gzipped bool, limit int64) ([]byte, error) {
	if gzipped {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, readError(err, limit)
		}
		defer zr.Close()
		src = io.LimitReader(zr, limit+1)
	}
	body, err := io.ReadAll(src)
	if err != nil {
		return nil, readError(err, limit)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

// readError names why a body could not be read: too large on the wire, or
// not the gzip it claimed to be, or cut off.
func readError(err error, limit int64) error {
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return tooLarge(limit)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum):
		return leadwire.Errorf(leadwire.EINVALID, "body is not valid gzip: %v", err)
	}
	return leadwire.Errorf(leadwire.EINVALID, "reading the body: %v", err)
}

func tooLarge(limit int64) error {
	return leadwire.Errorf(leadwire.ETOOLARGE, "body is larger than the limit of %d bytes", limit)
}

// requestHash identifies a capture request for its Idempotency-Key: the
// media type with only the parameter that changes how the body reads (a
// multipart boundary) and the body as decoded. So the same JSON sent as
// application/json and as application/json; charset=utf-8 (the decoders
// read UTF-8 alone), or gzipped and plain, is one request. A plain media
// type hashes as the header itself, as it always did, so keys remembered
// from before keep matching.
func requestHash(contentType string, body []byte) string {
	mediaType, params, _ := mime.ParseMediaType(contentType) // the decoder accepted it
	if b, ok := params["boundary"]; ok {
		mediaType = mime.FormatMediaType(mediaType, map[string]string{"boundary": b})
	}
	hash := sha256.New()
	io.WriteString(hash, mediaType+"\x00")
	hash.Write(body)
	return hex.EncodeToString(hash.Sum(nil))
}
