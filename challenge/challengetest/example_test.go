package challengetest_test

import (
	"net/http"
	"testing"

	"github.com/challengekit/challengekit/challenge/challengetest"
)

// In a test of your own server: every script in testdata/scripts runs
// against a fresh handler built on the script's fake clock.
func ExampleScenarios() {
	var t *testing.T // in a test: func TestScenarios(t *testing.T) { ... }
	challengetest.Scenarios{
		Dir: "testdata/scripts",
		Handler: func(clock *challengetest.FakeClock) (http.Handler, error) {
			return newMyServer(clock) // build your services with Clock: clock
		},
	}.Run(t)
}

func newMyServer(*challengetest.FakeClock) (http.Handler, error) { return http.NewServeMux(), nil }
