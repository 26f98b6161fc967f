package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// TestScenarios runs testdata/scripts against the demo server's handler,
// one fresh server and fake clock per script, and checks every response
// against api/openapi.yaml.
func TestScenarios(t *testing.T) {
	challengetest.Scenarios{
		Dir:   "testdata/scripts",
		Check: conforms(openAPI(t)),
		Handler: func(clock *challengetest.FakeClock) (http.Handler, error) {
			cfg, err := parseConfig(nil, func(string) string { return "" })
			if err != nil {
				return nil, err
			}
			cfg.clock = clock
			store, err := challenge.NewMemoryStore(challenge.MemoryOptions{Clock: clock})
			if err != nil {
				return nil, err
			}
			return newMux(context.Background(), store, nil, cfg, zerolog.Nop())
		},
	}.Run(t)
}
