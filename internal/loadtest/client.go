package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// poster posts leads over one keep-alive HTTP/1.1 connection. It renders
// each request into buffers it reuses and reads only what framing needs
// (status line, Content-Length or chunks), so that a request costs the
// load process a small fraction of what it costs the server: net/http's
// client spends about a quarter of the machine's CPU at the same rate.
type poster struct {
	conn net.Conn
	r    *bufio.Reader
	head []byte // the request line and the headers every request shares
	req  []byte // the request being sent
	body []byte // its body
}

// dial connects to the server of rawURL, to post to its path.
func dial(rawURL string) (*poster, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n"
	return &poster{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), head: []byte(head)}, nil
}

// post sends the n-th lead of w, with an Idempotency-Key of its own, and
// returns the status the server answered with once the whole answer is
// read.
func (p *poster) post(w workload, n int64) (status int, err error) {
	p.body = w.body(p.body[:0], n)
	p.req = append(p.req[:0], p.head...)
	p.req = append(p.req, "Idempotency-Key: "...)
	p.req = appendKey(p.req, n)
	p.req = append(p.req, "\r\nContent-Length: "...)
	p.req = strconv.AppendInt(p.req, int64(len(p.body)), 10)
	p.req = append(p.req, "\r\n\r\n"...)
	p.req = append(p.req, p.body...)
	if _, err := p.conn.Write(p.req); err != nil {
		return 0, err
	}
	return readResponse(p.r)
}

func (p *poster) Close() error { return p.conn.Close() }

var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.1 response from r, discarding its body,
// and returns its status code. Only what a keep-alive client needs to find
// the next response is read: the status line, Content-Length and
// Transfer-Encoding; a response framed by closing the connection is an
// error.
func readResponse(r *bufio.Reader) (status int, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 14 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return 0, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked := -1, false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if isBlank(line) {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, fmt.Errorf("%w: header %q", errMalformed, line)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	switch {
	case chunked:
		return status, discardChunks(r)
	case length >= 0:
		_, err = r.Discard(length)
		return status, err
	case status < 200 || status == 204 || status == 304:
		return status, nil
	default:
		return 0, fmt.Errorf("%w: status %d with neither Content-Length nor chunks", errMalformed, status)
	}
}

// discardChunks reads a chunked body and its trailer.
func discardChunks(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			break
		}
		if _, err := r.Discard(int(n)); err != nil {
			return err
		}
		if err := expectCRLF(r); err != nil {
			return err
		}
	}
	for { // the trailer, up to its empty line
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if isBlank(line) {
			return nil
		}
	}
}

// expectCRLF reads the line end after a chunk.
func expectCRLF(r *bufio.Reader) error {
	c, err := r.ReadByte()
	if err == nil && c == '\r' {
		c, err = r.ReadByte()
	}
	if err != nil {
		return err
	}
	if c != '\n' {
		return fmt.Errorf("%w: chunk not followed by CRLF", errMalformed)
	}
	return nil
}

// isBlank reports whether line is the empty line ending a header.
func isBlank(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}

// appendKey appends the Idempotency-Key of the n-th lead: 32 hex digits
// that look random, as the SDKs' random UUIDs do, so that the server's
// index of keys is written in the order real keys come in; derived from
// n, so that a lead sent again carries its key again.
func appendKey(dst []byte, n int64) []byte {
	const digits = "0123456789abcdef"
	for _, x := range [2]uint64{mix64(uint64(n)), mix64(^uint64(n))} {
		for shift := 60; shift >= 0; shift -= 4 {
			dst = append(dst, digits[x>>shift&15])
		}
	}
	return dst
}

// mix64 is SplitMix64's finalizer: a bijection that scatters the bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
