package psd2http

import (
	"testing"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/adapters/internal/httpkittest"
)

// TestPassesTagsAgreesWithTheValidator: DecodeJSON skips the validator for
// a body whose PassesTags says it passes (see httpkit.TagChecker), so
// PassesTags must say so exactly when the validate tags are met.
func TestPassesTagsAgreesWithTheValidator(t *testing.T) {
	v := httpkit.NewValidator()
	check := func(req httpkit.TagChecker) { httpkittest.AgreesWithValidator(t, v, req) }
	values := []string{"", "x", "success", "failure", "Success", " success"}
	for _, a := range values {
		for _, b := range values {
			check(&createRequest{IBAN: a, TPPName: b})
			check(&createRequest{IBAN: a, TPPName: b, TPPID: "t", Scope: "s"})
		}
		check(&patchRequest{PersonID: a})
		check(&secondFactorRequest{Result: a})
	}
}
