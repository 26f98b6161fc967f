package authnhttp

import (
	"strings"
	"testing"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
	"github.com/challengekit/challengekit/adapters/internal/httpkittest"
)

// TestPassesTagsAgreesWithTheValidator: read skips the validator for a
// body whose PassesTags says it passes, so PassesTags must say so exactly
// when the validate tags are met (see httpkit.TagChecker); every combination of values on either
// side of each rule is tried.
func TestPassesTagsAgreesWithTheValidator(t *testing.T) {
	v := httpkit.NewValidator()
	check := func(req httpkit.TagChecker) { httpkittest.AgreesWithValidator(t, v, req) }
	x := strings.Repeat
	type data = struct {
		FactorKey        string            `json:"factorKey" xml:"factorKey" validate:"required,maxbytes=64"`
		FactorAttributes []factorAttribute `json:"factorAttributes" xml:"factorAttributes" validate:"max=32"`
	}
	datas := []*data{nil, {}, {FactorKey: "k"}, {FactorKey: x("k", 64)}, {FactorKey: x("k", 65)},
		{FactorKey: "k", FactorAttributes: make([]factorAttribute, 32)}, {FactorKey: "k", FactorAttributes: make([]factorAttribute, 33)}}
	n := 0
	for _, id := range []string{"", "c", x("c", 128), x("c", 129)} {
		for _, op := range []string{"", "Init", "Validate", "Finalize", "init", "Other"} {
			for _, nonce := range []string{"", "n", x("n", 128), x("n", 129)} {
				for _, d := range datas {
					for _, answer := range []string{"", "a", x("a", 1024), x("a", 1025)} {
						for _, result := range []string{"", "Success", "Error", "Failure", "success", "x"} {
							for _, reason := range []string{"", x("r", 64), x("r", 65)} {
								req := &putRequest{CorrelationID: id, ChallengeOp: op, Nonce: nonce, ChallengeData: d,
									ChallengeAnswer: answer, ChallengeResult: result, ChallengeResultReason: reason}
								check(req)
								if req.PassesTags() {
									n++
								}
							}
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no PUT body passed: the combinations miss the valid ones")
	}
	ttl := int64(60)
	for _, user := range []string{"", "u", x("u", 256), x("u", 257)} {
		for _, group := range []string{"", x("g", 256), x("g", 257)} {
			for _, ip := range []string{"", x("1", 64), x("1", 65)} {
				req := &postRequest{ClientInfo: &clientInfo{}, TimeToLiveInSec: &ttl}
				check(req)
				req.UserInfo = &struct {
					UserID  string `json:"userId" xml:"userId" validate:"maxbytes=256"`
					GroupID string `json:"groupId" xml:"groupId" validate:"maxbytes=256"`
				}{user, group}
				check(req)
				req.Context = &struct {
					IPAddress string `json:"ipAddress" xml:"ipAddress" validate:"maxbytes=64"`
				}{ip}
				check(req)
				req.UserInfo = nil
				check(req)
			}
		}
	}
}

// FuzzPassesTags holds putRequest's PassesTags to the validator for any
// values, beyond the combinations above.
func FuzzPassesTags(f *testing.F) {
	f.Add("c", "Validate", "n", true, "k", uint8(0), "123456", "", "")
	f.Add("c", "Finalize", "n", false, "", uint8(0), "", "Success", "r")
	v := httpkit.NewValidator()
	f.Fuzz(func(t *testing.T, id, op, nonce string, hasData bool, key string, attrs uint8, answer, result, reason string) {
		req := &putRequest{CorrelationID: id, ChallengeOp: op, Nonce: nonce, ChallengeAnswer: answer, ChallengeResult: result, ChallengeResultReason: reason}
		if hasData {
			req.ChallengeData = &struct {
				FactorKey        string            `json:"factorKey" xml:"factorKey" validate:"required,maxbytes=64"`
				FactorAttributes []factorAttribute `json:"factorAttributes" xml:"factorAttributes" validate:"max=32"`
			}{key, make([]factorAttribute, attrs%40)}
		}
		httpkittest.AgreesWithValidator(t, v, req)
	})
}
