package totp_test

import (
	"testing"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/totp"
)

const secret = "JBSWY3DPEHPK3PXP"

func TestFactorConforms(t *testing.T) {
	factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
		f, err := totp.New(cfg.Store, totp.Options{Clock: cfg.Clock})
		if err != nil {
			t.Fatal(err)
		}
		return factortest.Subject{
			Factor:       f,
			Registration: authn.Registration{Secret: secret},
			Right: func([]authn.KeyValue) string {
				code, err := otptotp.GenerateCode(secret, cfg.Clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return code
			},
			Wrong:   func([]authn.KeyValue) string { return "not a code" },
			OneTime: true,
		}
	})
}
