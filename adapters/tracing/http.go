package tracing

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/challengekit/challengekit/adapters/internal/httpstatus"
)

// Handler wraps next so that every request it serves makes a server span,
// named "METHOD ROUTE" after the http.ServeMux pattern that served it
// ("PATCH /v1/psd2/challenges/{id}"), or "METHOD" when no pattern did,
// with the OpenTelemetry HTTP server conventions' http.request.method,
// http.route, http.response.status_code and url.scheme; a 5xx status sets
// the span's error status. The request's path (which may hold a
// challenge's ID) is not recorded.
//
// The route is read from the request as next's ServeMux sets it, so wrap
// the mux (or a handler that passes the request on as it is) directly:
// a handler between them that replaces the request (r.WithContext) hides
// the pattern. The pattern is copied back to the request Handler was
// given, so a handler wrapping this one reads it too. Trace context sent by the client is not trusted: every
// request starts a new trace, or continues the one in its context.
func (t *Tracer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, methodAttr := requestMethod(r.Method)
		ctx, span := t.tracer.Start(r.Context(), method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(methodAttr, semconv.URLScheme(scheme(r))))
		orig := r
		r = r.WithContext(ctx)
		sw := &httpstatus.Writer{ResponseWriter: w}
		defer func() {
			status := sw.Status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []attribute.KeyValue{semconv.HTTPResponseStatusCode(status)}
			if route := route(r.Pattern); route != "" {
				span.SetName(method + " " + route)
				attrs = append(attrs, semconv.HTTPRoute(route))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, "")
				attrs = append(attrs, semconv.ErrorTypeKey.String(http.StatusText(status)))
			}
			span.SetAttributes(attrs...)
			span.End()
			// Hand the route back to a handler wrapping this one (a
			// metrics middleware, say), which holds the request we copied.
			orig.Pattern = r.Pattern
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestMethod returns the method for the span's name and its attribute:
// "HTTP" and _OTHER for a method the conventions do not know, so that
// clients cannot make names without bound.
func requestMethod(m string) (string, attribute.KeyValue) {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m, semconv.HTTPRequestMethodKey.String(m)
	}
	return "HTTP", semconv.HTTPRequestMethodOther
}

// route returns the path of a ServeMux pattern ("[METHOD ][HOST]/PATH").
func route(pattern string) string {
	if _, rest, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimLeft(rest, " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
