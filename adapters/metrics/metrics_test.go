package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/challengekit/challengekit/adapters/metrics"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

func newMetrics(t *testing.T) (*metrics.Metrics, *prometheus.Registry, *challengetest.FakeClock) {
	t.Helper()
	reg := prometheus.NewRegistry()
	clock := challengetest.NewClock()
	m, err := metrics.New(reg, metrics.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg, clock
}

// family returns the gathered family of name, or nil.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// sample returns the series of name whose labels are exactly labels
// ("k=v,k=v"), or nil.
func sample(t *testing.T, reg *prometheus.Registry, name, labels string) *dto.Metric {
	t.Helper()
	f := family(t, reg, name)
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		var pairs []string
		for _, l := range m.GetLabel() {
			pairs = append(pairs, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(pairs, ",") == labels {
			return m
		}
	}
	return nil
}

func counter(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	if m := sample(t, reg, name, labels); m != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

func histogram(t *testing.T, reg *prometheus.Registry, name, labels string) (count uint64, sum float64) {
	t.Helper()
	if m := sample(t, reg, name, labels); m != nil {
		return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
	}
	return 0, 0
}

func series(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	if f := family(t, reg, name); f != nil {
		return len(f.GetMetric())
	}
	return 0
}

// labelValues returns every label value of every series in reg.
func labelValues(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
		}
	}
	return values
}

func TestObserveCountsTransitionsFailuresAndLocksByKind(t *testing.T) {
	m, reg, _ := newMetrics(t)
	ctx := context.Background()
	for _, c := range []challenge.Change{
		{Kind: "psd2", ID: "id-secret-1", To: "received", Duration: 2 * time.Millisecond},
		{Kind: "psd2", ID: "id-secret-1", Event: "identify", From: "received", To: "identified", Duration: 3 * time.Millisecond},
		{Kind: "authn", ID: "id-secret-2", From: "initialized", To: "initialized", Failed: true, Attempts: 1, Reason: "wrong code for alice"},
		{Kind: "authn", ID: "id-secret-2", Event: "lock", From: "initialized", To: "locked", Failed: true, Attempts: 3, Reason: "wrong code"},
	} {
		m.Observe(ctx, c)
	}
	for _, tc := range []struct{ labels string }{
		{"event=none,from=none,kind=psd2,to=received"},
		{"event=identify,from=received,kind=psd2,to=identified"},
		{"event=lock,from=initialized,kind=authn,to=locked"},
	} {
		if got := counter(t, reg, "challengekit_transitions_total", tc.labels); got != 1 {
			t.Errorf("transitions{%s} = %v; want 1", tc.labels, got)
		}
	}
	if n := series(t, reg, "challengekit_transitions_total"); n != 3 {
		t.Errorf("a failed attempt that changed no state counted as a transition: %d series", n)
	}
	if got := counter(t, reg, "challengekit_failed_attempts_total", "kind=authn"); got != 2 {
		t.Errorf("failed attempts of authn = %v; want 2", got)
	}
	if got := counter(t, reg, "challengekit_locks_total", "kind=authn"); got != 1 {
		t.Errorf("locks of authn = %v; want 1", got)
	}
	if n, sum := histogram(t, reg, "challengekit_step_duration_seconds", "kind=psd2"); n != 2 || sum < 0.0049 || sum > 0.0051 {
		t.Errorf("psd2 steps: %d observations summing to %v; want 2 summing to 0.005", n, sum)
	}
	for _, v := range labelValues(t, reg) {
		if strings.Contains(v, "secret") || strings.Contains(v, "alice") {
			t.Errorf("label value %q comes from an ID or a reason", v)
		}
	}
}

// fakeStore is a Store whose methods are the test's.
type fakeStore struct {
	challenge.Store
	getFn func(ctx context.Context, kind, id string) (*challenge.Record, error)
}

func (s *fakeStore) Get(ctx context.Context, kind, id string) (*challenge.Record, error) {
	return s.getFn(ctx, kind, id)
}

func TestStoreTimesOperationsAndCountsFailuresNotAnswers(t *testing.T) {
	m, reg, clock := newMetrics(t)
	ctx := context.Background()
	mem, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Store("memory", mem)
	rec := &challenge.Record{Kind: "psd2", ID: "r1", State: "received"}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, &challenge.Record{Kind: "psd2", ID: "r1"}); !errors.Is(err, challenge.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.Get(ctx, "psd2", "missing"); !errors.Is(err, challenge.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	stale := *rec
	stale.Version = 7
	if err := s.Update(ctx, &stale); !errors.Is(err, challenge.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if err := s.Update(ctx, rec); err != nil || rec.Version != 2 {
		t.Fatalf("update: %v, version %d", err, rec.Version)
	}
	if err := s.Delete(ctx, "psd2", "r1"); err != nil {
		t.Fatal(err)
	}
	for op, want := range map[string]uint64{"create": 2, "get": 1, "update": 2, "delete": 1} {
		if n, _ := histogram(t, reg, "challengekit_store_operation_duration_seconds", "backend=memory,op="+op); n != want {
			t.Errorf("%s timed %d times; want %d", op, n, want)
		}
	}
	if n := series(t, reg, "challengekit_store_errors_total"); n != 0 {
		t.Errorf("the contract's answers counted as %d series of errors", n)
	}

	down := errors.New("connection refused")
	failing := m.Store("redis", &fakeStore{getFn: func(context.Context, string, string) (*challenge.Record, error) {
		clock.Advance(3 * time.Millisecond)
		return nil, fmt.Errorf("redisstore: get: %w: %w", challenge.ErrUnavailable, down)
	}})
	if _, err := failing.Get(ctx, "psd2", "r2"); !errors.Is(err, down) {
		t.Fatalf("the wrapper changed the error: %v", err)
	}
	if got := counter(t, reg, "challengekit_store_errors_total", "backend=redis,op=get"); got != 1 {
		t.Errorf("redis get errors = %v; want 1", got)
	}
	if n, sum := histogram(t, reg, "challengekit_store_operation_duration_seconds", "backend=redis,op=get"); n != 1 || sum < 0.0029 || sum > 0.0031 {
		t.Errorf("redis get: %d observations summing to %v; want 1 of 0.003", n, sum)
	}
}

// fakeLimiter refuses every attempt of kind "authn" and every delivery.
type fakeLimiter struct{ challenge.Limiter }

func (fakeLimiter) Start(context.Context, challenge.Origin) error { return nil }
func (fakeLimiter) Attempt(_ context.Context, a challenge.Attempt) error {
	if a.Kind == "authn" {
		return &challenge.ThrottledError{RetryAfter: time.Second}
	}
	return nil
}
func (fakeLimiter) Deliver(context.Context, challenge.Delivery) error {
	return &challenge.ThrottledError{RetryAfter: time.Minute}
}

func TestLimiterCountsRefusalsByKindAndOperation(t *testing.T) {
	m, reg, _ := newMetrics(t)
	ctx := context.Background()
	l := m.Limiter(fakeLimiter{})
	if err := l.Start(ctx, challenge.Origin{Caller: "agent-7", Source: "ip:203.0.113.7"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		err := l.Attempt(ctx, challenge.Attempt{Kind: "authn", Subject: "alice", Source: "ip:203.0.113.7", ID: challenge.NewID()})
		var te *challenge.ThrottledError
		if !errors.As(err, &te) || te.RetryAfter != time.Second {
			t.Fatalf("the wrapper changed the refusal: %v", err)
		}
	}
	if err := l.Attempt(ctx, challenge.Attempt{Kind: "questions_verification", Subject: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Deliver(ctx, challenge.Delivery{Destination: "email:alice@example.com"}); !errors.Is(err, challenge.ErrThrottled) {
		t.Fatal(err)
	}
	if got := counter(t, reg, "challengekit_limiter_throttled_total", "kind=authn,op=attempt"); got != 3 {
		t.Errorf("authn attempts refused = %v; want 3", got)
	}
	if got := counter(t, reg, "challengekit_limiter_throttled_total", "kind=none,op=deliver"); got != 1 {
		t.Errorf("deliveries refused = %v; want 1", got)
	}
	if n := series(t, reg, "challengekit_limiter_throttled_total"); n != 2 {
		t.Errorf("%d series of refusals; want 2 (nothing for what was allowed)", n)
	}
	for _, v := range labelValues(t, reg) {
		if strings.Contains(v, "alice") || strings.Contains(v, "203.0.113") || strings.Contains(v, "agent") {
			t.Errorf("label value %q names a subject, source or caller", v)
		}
	}
}

func TestHandlerCountsRequestsByRouteAndCodeWithoutNewSeriesForStrangePaths(t *testing.T) {
	m, reg, clock := newMetrics(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		clock.Advance(20 * time.Millisecond)
		if r.PathValue("id") == "gone" {
			w.WriteHeader(http.StatusGone)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	h := m.Handler(mux)
	serve := func(method, path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w.Code
	}
	serve("GET", "/v1/things/abc-123")
	serve("GET", "/v1/things/def-456")
	if code := serve("GET", "/v1/things/gone"); code != 410 {
		t.Fatalf("gone: %d", code)
	}
	for i := range 50 {
		if code := serve("GET", fmt.Sprintf("/random/%d/path", i)); code != 404 {
			t.Fatalf("random path: %d", code)
		}
	}
	serve("DELETE", "/v1/things/abc-123")
	for labels, want := range map[string]float64{
		"code=200,route=GET /v1/things/{id}": 2,
		"code=410,route=GET /v1/things/{id}": 1,
		"code=404,route=other":               50,
		"code=405,route=other":               1,
	} {
		if got := counter(t, reg, "challengekit_http_requests_total", labels); got != want {
			t.Errorf("requests{%s} = %v; want %v", labels, got, want)
		}
	}
	if n := series(t, reg, "challengekit_http_requests_total"); n != 4 {
		t.Errorf("%d series of requests; want 4, whatever the paths", n)
	}
	if n, sum := histogram(t, reg, "challengekit_http_request_duration_seconds", "route=GET /v1/things/{id}"); n != 3 || sum < 0.0599 || sum > 0.0601 {
		t.Errorf("route timed %d times summing to %v; want 3 summing to 0.06", n, sum)
	}
	for _, v := range labelValues(t, reg) {
		if strings.Contains(v, "abc-123") || strings.Contains(v, "random") {
			t.Errorf("label value %q comes from a path", v)
		}
	}
}

func TestNewRefusesWhatItCannotServe(t *testing.T) {
	if _, err := metrics.New(nil, metrics.Options{}); err == nil {
		t.Error("New accepted a nil registry")
	}
	if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{Buckets: []float64{1, 0.5}}); err == nil {
		t.Error("New accepted decreasing buckets")
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Error("New registered the same series twice on one registry")
	}
}

// downStore is a store whose backend does not answer.
type downStore struct{ challenge.Store }

func (downStore) Ping(context.Context) error { return errors.New("connection refused") }

// TestTheStoreWrapperForwardsPing: a readiness check on the wrapped store
// still reaches the backend, and its failure is counted.
func TestTheStoreWrapperForwardsPing(t *testing.T) {
	m, reg, _ := newMetrics(t)
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	p, ok := m.Store("redis", downStore{mem}).(challenge.Pinger)
	if !ok || p.Ping(context.Background()) == nil {
		t.Fatal("the wrapper hides the backend's Ping")
	}
	if got := counter(t, reg, "challengekit_store_errors_total", "backend=redis,op=ping"); got != 1 {
		t.Errorf("ping errors counted: %v", got)
	}
	if p, _ := m.Store("memory", mem).(challenge.Pinger); p.Ping(context.Background()) != nil {
		t.Error("the memory store answers")
	}
}
