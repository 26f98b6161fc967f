package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
)

func BenchmarkZZ(b *testing.B) {
	mem, _ := challenge.NewMemoryStore(challenge.MemoryOptions{})
	cfg, _ := parseConfig(nil, func(string) string { return "" }, nil)
	mux, err := newMux(context.Background(), mem, cfg, zerolog.New(io.Discard).Level(zerolog.WarnLevel))
	if err != nil {
		b.Fatal(err)
	}
	h := withDeadline(mux)
	path := os.Getenv("ZZPATH")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Cookie", "AtmoAuthToken_acmepaymentscorp=TokenID=alice-demo")
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
