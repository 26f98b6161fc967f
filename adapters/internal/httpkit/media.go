package httpkit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
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
	if ct == "" {
		return "application/json", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(supported, mt) {
		return "", fmt.Errorf("%w: %.100q", ErrUnsupportedMediaType, ct)
	}
	return mt, nil
}

// ResponseMediaType picks the media type to answer in from r's Accept
// header among supported, honouring q-values; "*/*" and "application/*" get
// JSON. Without an Accept header the answer uses the request's own type if
// supported, or JSON.
func ResponseMediaType(r *http.Request, supported []string) (string, error) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		if mt, err := RequestMediaType(r, supported); err == nil {
			return mt, nil
		}
		return "application/json", nil
	}
	type choice struct {
		mediaType string
		q         float64
	}
	var choices []choice
	for _, header := range accept {
		for _, part := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if mt == "*/*" || mt == "application/*" {
				mt = "application/json"
			}
			if q > 0 && slices.Contains(supported, mt) {
				choices = append(choices, choice{mt, q})
			}
		}
	}
	if len(choices) == 0 {
		return "", fmt.Errorf("%w: Accept %.100q", ErrNotAcceptable, strings.Join(accept, ", "))
	}
	slices.SortStableFunc(choices, func(a, b choice) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	return choices[0].mediaType, nil
}

// WriteAs answers with v encoded as mediaType, which it echoes in
// Content-Type. The answer is encoded whole before anything is written, so
// an encoding error can still be answered with an error envelope.
func WriteAs(w http.ResponseWriter, mediaType string, status int, v any) error {
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
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept")
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
