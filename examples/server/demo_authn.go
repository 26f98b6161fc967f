package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/push"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// Demo factor-transaction data.
const (
	demoAgentID     = "demo-agent"
	demoAgentSecret = "demo-agent-secret"
	demoTOTPSecret  = "JBSWY3DPEHPK3PXP"
)

// demoRegistry holds alice, bob, carol (known, without a factor) and dave
// (push only), and the load-test users of cfg (see demoUsers).
func demoRegistry(cfg *config) authn.Registry {
	return demoUsers{
		named: authn.NewMemoryRegistry(map[string][]authn.Registration{
			"alice": {
				{FactorKey: totp.Key, Secret: demoTOTPSecret, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Phone"}}},
				{FactorKey: kba.Key, Subject: demoAlice},
			},
			"bob":   {{FactorKey: otpcode.EmailKey, Destination: "bob@example.com"}},
			"carol": nil,
			// dave's device is described by an object value: attributes
			// named "device.member" are answered as one object.
			"dave": {{FactorKey: push.Key, Attributes: []authn.KeyValue{{Key: "deviceName", Value: "Phone"},
				{Key: "device.platform", Value: "android"}, {Key: "device.app", Value: "Oracle Mobile Authenticator"}}}},
		}),
		load: cfg.demoLoadUsers,
		kba:  cfg.demoLoadKBA,
	}
}

// demoSender stands in for an e-mail gateway: it logs that a code was sent,
// never the code, and appends the code to the outbox file if one is set.
type demoSender struct {
	log    zerolog.Logger
	outbox string
	mu     sync.Mutex
}

func (d *demoSender) SendCode(_ context.Context, factorKey, destination, code string) error {
	d.log.Info().Str("factor", factorKey).Msg("code sent") // neither the code nor the address
	if d.outbox == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.outbox, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("demo outbox: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339), destination, code)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

// demoNotifier stands in for a push service.
type demoNotifier struct{ log zerolog.Logger }

func (d demoNotifier) Notify(_ context.Context, userID string, _ authn.Registration, tx string) error {
	d.log.Info().Str("user", userID).Str("transaction", tx).Msg("push sent")
	return nil
}

// newAuthnService builds the factor-transaction service with every
// built-in factor. Codes are keyed with -otp-key, or a secret drawn at
// start, so that a single demo server's codes die with it.
func newAuthnService(store challenge.Store, qs *questions.Service, engine challenge.EngineOptions, cfg *config, log zerolog.Logger) (*authn.Service, error) {
	totpFactor, err := totp.New(store, totp.Options{Clock: cfg.clock})
	if err != nil {
		return nil, err
	}
	key := cfg.otpKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	sender := &demoSender{log: log, outbox: cfg.demoOutbox}
	email, err := otpcode.New(otpcode.EmailKey, sender, key, otpcode.Options{Clock: cfg.clock})
	if err != nil {
		return nil, err
	}
	sms, err := otpcode.New(otpcode.SMSKey, sender, key, otpcode.Options{Clock: cfg.clock})
	if err != nil {
		return nil, err
	}
	kbaFactor, err := kba.New(qs)
	if err != nil {
		return nil, err
	}
	pushFactor, err := push.New(demoNotifier{log: log})
	if err != nil {
		return nil, err
	}
	return authn.NewService(store, demoRegistry(cfg), []authn.Factor{totpFactor, email, sms, kbaFactor, pushFactor},
		authn.Options{TTL: cfg.authnTTL, Engine: engine})
}
