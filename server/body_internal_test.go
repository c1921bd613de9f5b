package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
)

// TestReadBodyStopsDecodingAtTheLimit measures what refusing a gzip bomb
// costs: the memory it allocates must stay near the limit, not near the
// 10 MB the bomb holds.
func TestReadBodyStopsDecodingAtTheLimit(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	const limit = 64 << 10

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readBody(bytes.NewReader(zipped.Bytes()), true, limit)
	runtime.ReadMemStats(&after)
	if code := leadwire.ErrorCode(err); code != leadwire.ETOOLARGE {
		t.Fatalf("error %v, want %s", err, leadwire.ETOOLARGE)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("refusing 10 MB of zeros in %d bytes of gzip allocated %d bytes", zipped.Len(), allocated)
	if allocated > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes; decoding should stop at the limit of %d", allocated, limit)
	}
}

// FuzzContentEncoding checks the Content-Encoding reading: gzip exactly
// when the header lists one gzip coding besides identity, otherwise no
// encoding or a 415.
func FuzzContentEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "x-gzip", "identity", "gzip, identity", "GZip", "br", "gzip, gzip", " , ", "deflate;q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{"Content-Encoding": {header}}
		gz, err := isGzipped(h)
		var codings []string
		for _, c := range strings.Split(header, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
		wantGzip := len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip")
		switch {
		case err != nil && (leadwire.ErrorCode(err) != leadwire.EUNSUPPORTED || len(codings) == 0 || wantGzip):
			t.Fatalf("isGzipped(%q) = %v", header, err)
		case err == nil && gz != wantGzip:
			t.Fatalf("isGzipped(%q) = %v, want %v", header, gz, wantGzip)
		}
	})
}

// FuzzReadBody checks that any body, read as gzip or not, gives at most
// the limit or a client error.
func FuzzReadBody(f *testing.F) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(`{"email":"a@example.com"}`))
	zw.Close()
	for _, b := range [][]byte{nil, []byte(`{}`), zipped.Bytes(), zipped.Bytes()[:20], bytes.Repeat([]byte{0}, 300)} {
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		const limit = 256
		got, err := readBody(bytes.NewReader(body), gz, limit)
		if err != nil {
			if code := leadwire.ErrorCode(err); code != leadwire.EINVALID && code != leadwire.ETOOLARGE {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("read %d bytes, over the limit of %d", len(got), limit)
		}
		if !gz && !bytes.Equal(got, body) {
			t.Fatalf("a plain body came back changed")
		}
	})
}
