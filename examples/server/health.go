package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
)

// readyTimeout bounds the store's answer to a readiness check.
const readyTimeout = time.Second

// Bounds of the waits between attempts to prepare a store that was
// unreachable at start (its scripts or schema, then the demo data); each
// wait doubles from the first, up to -store-retry-max.
const firstStoreRetry = 100 * time.Millisecond

// readiness tells whether the server can serve: its store answers, and its
// start-up work on the store (scripts or schema, demo data) is done. That
// work is retried in the background until it succeeds, so a server started
// while its store is down serves as soon as the store is back.
type readiness struct {
	store  challenge.Store
	redact func(string) string // removes secrets (the store URL's password) from a reason

	log zerolog.Logger

	mu         sync.Mutex
	prepared   bool
	lastErr    error  // the last attempt's failure, while not prepared
	lastDetail string // what the log last said of readiness
}

func newReadiness(store challenge.Store, redact func(string) string, log zerolog.Logger) *readiness {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &readiness{store: store, redact: redact, log: log, lastErr: errors.New("starting")}
}

// markPrepared records that the start-up work is done.
func (r *readiness) markPrepared() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prepared, r.lastErr = true, nil
}

func (r *readiness) state() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prepared, r.lastErr
}

// attempt runs work once, bounded by requestDeadline, and records its
// outcome.
func (r *readiness) attempt(ctx context.Context, work func(context.Context) error) error {
	actx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	err := work(actx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.prepared, r.lastErr = true, nil
	} else {
		r.lastErr = err
	}
	return err
}

// retry runs work, after a first attempt failed with err, until it
// succeeds or ctx is done, waiting between attempts from firstStoreRetry
// doubling up to maxWait. work must be idempotent: an attempt may have
// done part of it.
func (r *readiness) retry(ctx context.Context, log zerolog.Logger, maxWait time.Duration, err error, work func(context.Context) error) {
	wait := min(firstStoreRetry, maxWait)
	for attempt := 1; ; attempt++ {
		log.Warn().Str("error", r.redact(err.Error())).Int("attempt", attempt).Dur("retry_in", wait).
			Msg("store not ready; answering 503 until it is")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err = r.attempt(ctx, work); err == nil {
			log.Info().Int("attempts", attempt+1).Msg("store ready; demo data loaded")
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait = min(2*wait, maxWait)
	}
}

// check answers whether the server is ready, and if not why not: the
// store's ping (when the store has one) within readyTimeout, then the
// start-up work.
//
// The reason answered is coarse ("store: unavailable"): /readyz is on the
// public listener, and the store's error names internal hosts and users.
// The detail goes to the log, once each time it changes.
func (r *readiness) check(ctx context.Context) (reason string, ok bool) {
	if p, isPinger := r.store.(challenge.Pinger); isPinger {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			r.logDetail("store: " + r.redact(err.Error()))
			return "store: unavailable", false
		}
	}
	if prepared, err := r.state(); !prepared {
		r.logDetail("starting: " + r.redact(err.Error()))
		return "starting: demo data not loaded yet", false
	}
	r.logDetail("")
	return "", true
}

// logDetail logs why the server is not ready, when that changes.
func (r *readiness) logDetail(detail string) {
	r.mu.Lock()
	changed := detail != r.lastDetail
	r.lastDetail = detail
	r.mu.Unlock()
	if changed && detail != "" {
		r.log.Warn().Str("reason", detail).Msg("not ready")
	}
}

// handleHealth adds the health endpoints to mux: GET /livez (and its older
// name /healthz) answers 200 while the process serves; GET /readyz answers
// 200 when the store answers and the start-up work is done, 503 naming the
// reason otherwise.
func handleHealth(mux *http.ServeMux, ready *readiness) {
	live := func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, map[string]string{"status": "ok"})
	}
	mux.HandleFunc("GET /livez", live)
	mux.HandleFunc("GET /healthz", live)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		if reason, ok := ready.check(req.Context()); !ok {
			writeHealth(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
			return
		}
		writeHealth(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func writeHealth(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// redactor returns a function that removes each non-empty secret from a
// text.
func redactor(secrets ...string) func(string) string {
	return func(s string) string {
		for _, secret := range secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
		return s
	}
}
