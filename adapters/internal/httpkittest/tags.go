package httpkittest

import (
	"testing"

	"github.com/go-playground/validator/v10"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

// AgreesWithValidator fails the test unless req's PassesTags says it
// passes exactly when v (httpkit.NewValidator) accepts it: the promise
// of httpkit.TagChecker, whose passing bodies skip the validator.
func AgreesWithValidator(t testing.TB, v *validator.Validate, req httpkit.TagChecker) {
	t.Helper()
	err := v.Struct(req)
	if got := req.PassesTags(); got != (err == nil) {
		t.Fatalf("PassesTags() = %v, validator: %v, for %+v", got, err, req)
	}
}
