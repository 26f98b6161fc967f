package httpkit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// ErrNotAcceptable: no media type the client accepts can be served (406).
var ErrNotAcceptable = errors.New("httpkit: no acceptable media type")

// IsXML reports whether mediaType is an XML one.
func IsXML(mediaType string) bool { return strings.HasSuffix(mediaType, "xml") }

// RequestMediaType returns the media type of r's body if it is one of
// supported; a body without Content-Type is taken as JSON.
func RequestMediaType(r *http.Request, supported []string) (string, error) {
	ct := r.Header.Get("Content-Type")
	switch {
	case ct == "":
		return "application/json", nil
	case slices.Contains(supported, ct):
		return ct, nil // the common case, as parsing would give it, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(supported, mt) {
		return "", fmt.Errorf("%w: %.100q", ErrUnsupportedMediaType, ct)
	}
	return mt, nil
}

// ResponseMediaType picks the media type to answer in among supported
// (given in the server's order of preference), as RFC 9110 §12.5.1 has
// it: each supported type gets the quality of the most specific range of
// r's Accept header that matches it ("application/json" before
// "application/*" before "*/*"), so "application/json;q=0, */*" excludes
// JSON. Among types of equal quality, one the client names outright wins
// over one it reaches through a wildcard, then the request's own media
// type (a client that sends XML and accepts anything gets XML), then the
// server's order. Without an Accept header, or with one that holds no
// valid range, everything is acceptable. No acceptable type is
// ErrNotAcceptable (406).
func ResponseMediaType(r *http.Request, supported []string) (string, error) {
	var buf [8]mediaRange
	ranges := parseAccept(buf[:0], r.Header.Values("Accept"))
	if len(ranges) == 0 {
		ranges = append(ranges, mediaRange{typ: "*", sub: "*", q: 1000})
	}
	own := ""
	if ct := r.Header.Get("Content-Type"); slices.Contains(supported, ct) {
		own = ct // the common case, without parsing
	} else if ct != "" {
		own, _ = RequestMediaType(r, supported)
	}
	best, bestScore := "", candidateScore{}
	for i, mt := range supported {
		q, specificity := quality(ranges, mt)
		if q == 0 {
			continue
		}
		score := candidateScore{q: q, specificity: specificity, own: mt == own, order: -i}
		if best == "" || score.beats(bestScore) {
			best, bestScore = mt, score
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w: Accept %.100q", ErrNotAcceptable, strings.Join(r.Header.Values("Accept"), ", "))
	}
	return best, nil
}

// candidateScore ranks a media type the server could answer in.
type candidateScore struct {
	q           int // quality, in thousandths
	specificity int // of the Accept range that gave q: 3 exact, 2 type/*, 1 */*
	own         bool
	order       int // minus the type's index in the server's list
}

func (a candidateScore) beats(b candidateScore) bool {
	switch {
	case a.q != b.q:
		return a.q > b.q
	case a.specificity != b.specificity:
		return a.specificity > b.specificity
	case a.own != b.own:
		return a.own
	}
	return a.order > b.order
}

// mediaRange is one element of an Accept header, with its quality in
// thousandths.
type mediaRange struct {
	typ, sub string
	q        int
}

// parseAccept appends to dst the media ranges of Accept header lines,
// skipping the elements that are not valid ones (a client's typo does not
// make every answer unacceptable).
func parseAccept(dst []mediaRange, lines []string) []mediaRange {
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			rng, params, _ := strings.Cut(elem, ";")
			rng = strings.TrimSpace(rng)
			typ, sub, ok := strings.Cut(rng, "/")
			if !ok || !isToken(typ) || !isToken(sub) || (typ == "*" && sub != "*") {
				continue
			}
			q := 1000
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				name, value, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(name), "q") {
					if q, ok = parseQuality(strings.TrimSpace(value)); !ok {
						q = -1
					}
					break // what follows q is accept-ext, which no type here uses
				}
			}
			if q >= 0 {
				dst = append(dst, mediaRange{typ: strings.ToLower(typ), sub: strings.ToLower(sub), q: q})
			}
		}
	}
	return dst
}

// parseQuality reads a qvalue (RFC 9110 §12.4.2: 0 to 1 with at most
// three decimals) in thousandths.
func parseQuality(s string) (int, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 {
		return 0, false
	}
	n := 0
	for i := range 3 {
		n *= 10
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, false
			}
			n += int(frac[i] - '0')
		}
	}
	if whole == "1" {
		if n != 0 {
			return 0, false
		}
		return 1000, true
	}
	return n, true
}

// quality returns the quality the ranges give mediaType, from the most
// specific range that matches it, and that range's specificity; 0, 0 when
// none matches.
func quality(ranges []mediaRange, mediaType string) (q, specificity int) {
	typ, sub, _ := strings.Cut(mediaType, "/")
	for _, r := range ranges {
		s := 0
		switch {
		case r.typ == typ && r.sub == sub:
			s = 3
		case r.typ == typ && r.sub == "*":
			s = 2
		case r.typ == "*":
			s = 1
		}
		if s > specificity {
			q, specificity = r.q, s
		}
	}
	return q, specificity
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// WriteAs answers with v encoded as mediaType, a type ResponseMediaType
// chose, which it echoes in Content-Type; Vary names the request headers
// the choice depends on. The answer is encoded whole before anything is
// written, so an encoding error can still be answered with an error
// envelope.
func WriteAs(w http.ResponseWriter, mediaType string, status int, v any) error {
	w.Header().Add("Vary", "Accept, Content-Type") // after a CORS middleware's Origin, say
	return write(w, mediaType, status, v)
}

func write(w http.ResponseWriter, mediaType string, status int, v any) error {
	buf := encodeBuffers.Get().(*bytes.Buffer)
	defer putEncodeBuffer(buf)
	buf.Reset()
	var err error
	if IsXML(mediaType) {
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(buf)
		if err = enc.Encode(v); err == nil {
			err = enc.Close()
		}
	} else {
		err = encodeJSON(buf, v)
	}
	if err != nil {
		return fmt.Errorf("httpkit: encoding response: %w", err)
	}
	// Header.Set would allocate each value's slice; these two share one
	// array, each its own slice of capacity 1, so that an Add to one
	// copies it rather than overwrite the other.
	values := []string{mediaType, "no-store"}
	h := w.Header()
	h["Content-Type"] = values[0:1:1]
	h["Cache-Control"] = values[1:2:2]
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// encodeBuffers holds the buffers answers are encoded into: an answer is
// garbage once written, and every request would otherwise grow a new one.
var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps an unusually large answer's buffer out of the pool.
const maxPooledBuffer = 64 << 10

func putEncodeBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		encodeBuffers.Put(buf)
	}
}
