package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/authnhttp"
	"github.com/challengekit/challengekit/adapters/httpapi"
	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// demoShutdown bounds how long shutdown waits for requests in flight.
const demoShutdown = 10 * time.Second

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the listening address once requests are accepted.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) error {
	cfg, err := parseConfig(args, getenv)
	var help *helpRequest
	if errors.As(err, &help) {
		_, err = io.WriteString(stdout, help.usage)
		return err
	}
	if err != nil {
		return err
	}
	log := zerolog.New(stderr).Level(cfg.logLevel).With().Timestamp().Logger()
	stopTracing, err := startTracing(cfg, log)
	if err != nil {
		return err
	}
	defer stopTracing()

	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer opened.close()
	stopMetrics, err := serveMetrics(cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = stopMetrics(context.Background()) }()
	readiness := newReadiness(opened.store, redactor(opened.secrets...), log)
	ln, err := net.Listen("tcp", cfg.addr) // a bad address fails before any store work
	if err != nil {
		return err
	}
	cfg.pagesOrigin = originOf(ln.Addr().String())
	if cfg.demoPages && !cfg.redirectSet {
		cfg.redirectBase = cfg.pagesOrigin + demoConsentPath
	}
	handler, seed, seedLoadData, err := buildMux(opened.store, opened.limiter, cfg, log, readiness)
	if err != nil {
		_ = ln.Close()
		return err
	}
	// The store's start-up work and the demo data: tried once now, then,
	// if the store did not answer, retried in the background until it
	// does, while /readyz and the APIs answer 503.
	work := func(ctx context.Context) error {
		if err := opened.prepare(ctx); err != nil {
			return err
		}
		return seed(ctx)
	}
	if err := readiness.attempt(ctx, work); err != nil {
		if cfg.demoLoadKBA > 0 || cfg.demoHeld > 0 {
			_ = ln.Close()
			return fmt.Errorf("-demo-load-kba and -demo-held need a store that answers at start: %w", err)
		}
		retryCtx, stopRetrying := context.WithCancel(ctx)
		retried := make(chan struct{})
		defer func() { stopRetrying(); <-retried }()
		go func() {
			defer close(retried)
			readiness.retry(retryCtx, log, cfg.storeRetryMax, err, work)
		}()
	} else if err := seedLoadData(ctx); err != nil {
		// Without the start-up work's deadline: a million held challenges
		// take seconds.
		_ = ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           withDeadline(handler),
		ReadHeaderTimeout: cfg.readHeaderTimeout, // slow clients cannot hold connections
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	addr := ln.Addr().String()
	printDemo(stdout, addr, cfg)
	log.Info().Str("addr", addr).Str("store", cfg.store).Msg("serving")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), demoShutdown)
	defer cancel()
	if err := errors.Join(srv.Shutdown(shutdownCtx), stopMetrics(shutdownCtx)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newMux builds the services over store and limiter (nil: a memory
// limiter of cfg's limits), with their demo data, and the handler that
// serves them all.
func newMux(ctx context.Context, store challenge.Store, limiter challenge.Limiter, cfg *config, log zerolog.Logger) (http.Handler, error) {
	ready := newReadiness(store, nil, log)
	h, seed, _, err := buildMux(store, limiter, cfg, log, ready)
	if err != nil {
		return nil, err
	}
	if err := seed(ctx); err != nil {
		return nil, err
	}
	ready.markPrepared()
	return h, nil
}

// buildMux builds the services and the handler, with the health endpoints
// answering from ready, and returns the functions that store the demo data
// (idempotent: it may be run again after a partial failure) and the
// load-test data of the -demo-load-kba and -demo-held flags.
func buildMux(store challenge.Store, limiter challenge.Limiter, cfg *config, log zerolog.Logger, ready *readiness) (
	http.Handler, func(context.Context) error, func(context.Context) error, error) {
	if limiter == nil {
		var err error
		if limiter, err = challenge.NewMemoryLimiter(cfg.limits, cfg.clock); err != nil {
			return nil, nil, nil, err
		}
	}
	store = cfg.tracedStore(store)
	// One engine configuration for every flow.
	engine := challenge.EngineOptions{Clock: cfg.clock, Logger: log, Limiter: limiter, Tracer: cfg.engineTracer()}
	store, engine = instrument(cfg, store, engine)
	accounts, err := psd2.NewMemoryAccounts(demoAccounts)
	if err != nil {
		return nil, nil, nil, err
	}
	redirects, err := psd2.NewRedirectBase(cfg.redirectBase, "")
	if err != nil {
		return nil, nil, nil, err
	}
	psd2Svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{TTL: cfg.psd2TTL, Engine: engine})
	if err != nil {
		return nil, nil, nil, err
	}
	auth, err := psd2http.NewTokens(demoPartnerTokens, []string{demoBankToken})
	if err != nil {
		return nil, nil, nil, err
	}
	psd2Handler, err := psd2http.New(psd2Svc, auth, psd2http.Options{Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	questionsSvc, err := questions.NewService(store, questions.Options{Engine: engine})
	if err != nil {
		return nil, nil, nil, err
	}
	sessions, err := questionshttp.NewCookieSessions(demoBusiness, demoSessions)
	if err != nil {
		return nil, nil, nil, err
	}
	questionsHandler, err := questionshttp.New(questionsSvc, sessions, questionshttp.Options{Logger: log, ClientAddress: cfg.clientAddress})
	if err != nil {
		return nil, nil, nil, err
	}
	an, err := newAuthnService(store, questionsSvc, engine, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	agents, err := authnhttp.NewStaticAgents(map[string]string{demoAgentID: demoAgentSecret})
	if err != nil {
		return nil, nil, nil, err
	}
	authnHandler, err := authnhttp.New(an.svc, agents, authnhttp.Options{Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	handleHealth(mux, ready)
	seed := func(ctx context.Context) error { return seedQuestions(ctx, questionsSvc) }
	seedLoadData := func(ctx context.Context) error { return seedLoad(ctx, cfg, questionsSvc, psd2Svc) }
	// Tracing outside metrics: both read the route pattern the mux sets on
	// the request it is given, and tracing hands down a copy it reads.
	api := httpapi.Mount(mux, httpapi.Config{PSD2: psd2Handler, Authn: authnHandler, Questions: questionsHandler})
	if cfg.demoPages {
		mountPages(mux, newPages(psd2Svc, an, cfg, log))
	}
	return cfg.tracedHandler(instrumentHandler(cfg, api)), seed, seedLoadData, nil
}
