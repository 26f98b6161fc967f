// Package httpstatus records the status a handler answers with, for the
// middlewares that report it (adapters/metrics, adapters/tracing).
package httpstatus

import "net/http"

// Writer is an http.ResponseWriter that remembers the final status
// written through it: the first WriteHeader of 200 or more (informational
// 1xx answers are not final), or 200 once the body is written without one.
// Status is 0 while nothing final has been written.
type Writer struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 && code >= 200 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's other
// capabilities (flushing, deadlines).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
