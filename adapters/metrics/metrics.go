// Package metrics exports challengekit's metrics to Prometheus: the
// engine's transitions (a [challenge.Observer]), the store's operations (a
// [challenge.Store] wrapper), the limiter's refusals (a
// [challenge.Limiter] wrapper) and the HTTP requests served (a
// middleware).
//
// Every series is registered on the registry the program passes in, never
// on Prometheus' global one, and every label takes its values from a small
// set fixed by the program (kinds, states, events, routes, status codes,
// backends, operations): no ID, subject, user, address or path ever
// becomes a label, so a stranger sending requests cannot create series.
//
// The series:
//
//	challengekit_transitions_total{kind,event,from,to}        counter
//	challengekit_failed_attempts_total{kind}                  counter
//	challengekit_locks_total{kind}                            counter
//	challengekit_step_duration_seconds{kind}                  histogram
//	challengekit_store_operation_duration_seconds{backend,op} histogram
//	challengekit_store_errors_total{backend,op}               counter
//	challengekit_limiter_throttled_total{kind,op}             counter
//	challengekit_http_requests_total{route,code}              counter
//	challengekit_http_request_duration_seconds{route}         histogram
//
// A program builds one [Metrics] and uses it everywhere:
//
//	reg := prometheus.NewRegistry()
//	m, err := metrics.New(reg, metrics.Options{})
//	store = m.Store("redis", store) // hand this one to the flows
//	limiter = m.Limiter(limiter)
//	engine := challenge.EngineOptions{Limiter: limiter, Observer: m} // for every flow's Options
//	handler := m.Handler(httpapi.Mount(mux, cfg))
//	metricsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// and serves metricsMux on a listener of its own, apart from the API.
package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/challengekit/challengekit/challenge"
)

// DefaultBuckets are the latency histograms' buckets, in seconds, when
// [Options] names none: from half a millisecond (a store's round trip) to
// ten seconds (a request that waited on an unreachable store).
var DefaultBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Other is the label value of anything outside a label's fixed set: a
// request no route matched, a status code that is not one.
const Other = "other"

// none is the label value of an empty one (the state before a record was
// created; the kind of a limiter charge that has none).
const none = "none"

// Options tune [New]. The zero value is the default.
type Options struct {
	// Buckets are the latency histograms' upper bounds, in seconds,
	// increasing. Nil means [DefaultBuckets].
	Buckets []float64
	// Clock times store operations and HTTP requests. Nil means the
	// system's.
	Clock challenge.Clock
}

// Metrics holds challengekit's series on one registry. Its Observe method
// makes it the engine's [challenge.Observer]; Store, Limiter and Handler
// wrap the rest. It is safe for concurrent use.
type Metrics struct {
	clock challenge.Clock

	transitions *prometheus.CounterVec
	failed      *prometheus.CounterVec
	locks       *prometheus.CounterVec
	steps       *prometheus.HistogramVec
	storeOps    *prometheus.HistogramVec
	storeErrs   *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
}

var _ challenge.Observer = (*Metrics)(nil)

// New registers challengekit's series on reg and returns the Metrics that
// feed them. It returns an error if reg is nil, the buckets are not
// increasing, or reg already holds series of the same names (one Metrics
// per registry).
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registry")
	}
	buckets := opts.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	for i := range buckets {
		if i > 0 && buckets[i] <= buckets[i-1] {
			return nil, errors.New("metrics: buckets must be increasing")
		}
	}
	m := &Metrics{clock: opts.Clock}
	if m.clock == nil {
		m.clock = challenge.SystemClock{}
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "challengekit", Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "challengekit", Name: name, Help: help, Buckets: buckets}, labels)
	}
	m.transitions = counter("transitions_total", "Challenges created and moved from state to state, as saved.", "kind", "event", "from", "to")
	m.failed = counter("failed_attempts_total", "Failed attempts at answering a challenge, as saved.", "kind")
	m.locks = counter("locks_total", "Challenges locked by the failure that spent their attempt budget.", "kind")
	m.steps = histogram("step_duration_seconds", "How long an engine step took until its save, per saved change.", "kind")
	m.storeOps = histogram("store_operation_duration_seconds", "How long a store operation took, whatever its outcome.", "backend", "op")
	m.storeErrs = counter("store_errors_total", "Store operations that failed (the backend's failures, not not-found, conflict or already-exists answers).", "backend", "op")
	m.throttled = counter("limiter_throttled_total", "Requests the limiter refused because a budget was spent.", "kind", "op")
	m.requests = counter("http_requests_total", "HTTP requests served, by route pattern and status code.", "route", "code")
	m.latency = histogram("http_request_duration_seconds", "How long HTTP requests took to serve, by route pattern.", "route")
	for _, c := range []prometheus.Collector{m.transitions, m.failed, m.locks, m.steps, m.storeOps, m.storeErrs, m.throttled, m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) since(start time.Time) float64 { return m.clock.Now().Sub(start).Seconds() }

// orNone returns s, or "none" if s is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
