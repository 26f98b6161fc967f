package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/challengekit/challengekit/challenge/challengetest"
)

func TestEmbeddedRuns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, challengetest.NewClock()); err != nil {
		t.Fatal(err)
	}
	want := `psd2: created, pending
psd2: p-mallory does not own the IBAN (1 attempt counted)
psd2: p-alice logged in, redirected
psd2: second factor passed, authorized
authn: alice is authenticated
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
