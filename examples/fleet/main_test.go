package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/challengekit/challengekit/internal/servicetest"
)

func TestFleetRuns(t *testing.T) {
	servicetest.Redis(t) // skip, or fail in CI, without Redis
	var out bytes.Buffer
	if err := run(context.Background(), &out, servicetest.RedisURL()); err != nil {
		t.Fatal(err)
	}
	want := "server A created the challenge: pending\nserver B took the PATCH: redirect true\nserver A sees it: redirected\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
