package otpcode_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/otpcode"
)

// outbox is a Sender that keeps what it was asked to send.
type outbox struct {
	mu    sync.Mutex
	codes []string
}

func (o *outbox) SendCode(_ context.Context, _, _, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, code)
	return nil
}

func (o *outbox) sent() (n int, last string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.codes) == 0 {
		return 0, ""
	}
	return len(o.codes), o.codes[len(o.codes)-1]
}

func TestFactorsConform(t *testing.T) {
	for _, key := range []string{otpcode.EmailKey, otpcode.SMSKey} {
		t.Run(key, func(t *testing.T) {
			factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
				box := &outbox{}
				f, err := otpcode.New(key, box, []byte(strings.Repeat("k", 32)), otpcode.Options{Clock: cfg.Clock})
				if err != nil {
					t.Fatal(err)
				}
				return factortest.Subject{
					Factor:       f,
					Registration: authn.Registration{Destination: "user@example.com"},
					Right:        func([]authn.KeyValue) string { _, code := box.sent(); return code },
					Wrong:        func([]authn.KeyValue) string { return "not a code" },
					Delivered:    func() int { n, _ := box.sent(); return n },
					OneTime:      true,
				}
			})
		})
	}
}
