package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/metrics"
	"github.com/challengekit/challengekit/challenge"
)

// serveMetrics, when -metrics-addr is set, sets cfg.metrics (so that
// newMux instruments the store, the limiter, the engines and the handler)
// and serves its registry at /metrics on a listener of its own, logging
// the address. stop shuts that listener down, waiting for scrapes in
// flight until ctx is done; it may be called more than once.
func serveMetrics(cfg *config, log zerolog.Logger) (stop func(ctx context.Context) error, err error) {
	if cfg.metricsAddr == "" {
		return func(context.Context) error { return nil }, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.metricsAddr)
	if err != nil {
		return nil, err
	}
	cfg.metrics = m
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info().Str("metrics_addr", ln.Addr().String()).Msg("serving metrics")
	var (
		once    sync.Once
		stopErr error
	)
	return func(ctx context.Context) error {
		once.Do(func() {
			stopErr = srv.Shutdown(ctx)
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				stopErr = errors.Join(stopErr, err)
			}
		})
		return stopErr
	}, nil
}

// instrument wraps store and engine's limiter, and sets engine's
// observer, when cfg has metrics; otherwise it returns them as they are.
func instrument(cfg *config, store challenge.Store, engine challenge.EngineOptions) (challenge.Store, challenge.EngineOptions) {
	if cfg.metrics == nil {
		return store, engine
	}
	if engine.Limiter != nil {
		engine.Limiter = cfg.metrics.Limiter(engine.Limiter)
	}
	engine.Observer = cfg.metrics
	return cfg.metrics.Store(cfg.store, store), engine
}

// instrumentHandler counts and times h's requests when cfg has metrics.
func instrumentHandler(cfg *config, h http.Handler) http.Handler {
	if cfg.metrics == nil {
		return h
	}
	return cfg.metrics.Handler(h)
}
