package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/kba"
	"github.com/challengekit/challengekit/authn/otpcode"
	"github.com/challengekit/challengekit/authn/passkey"
	"github.com/challengekit/challengekit/authn/push"
	"github.com/challengekit/challengekit/authn/recovery"
	"github.com/challengekit/challengekit/authn/totp"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/questions"
)

// Demo factor-transaction data.
const (
	demoAgentID     = "demo-agent"
	demoAgentSecret = "demo-agent-secret"
	demoTOTPSecret  = "JBSWY3DPEHPK3PXP"
	// demoRPID is the demo's WebAuthn relying party: passkeys work on
	// http only on localhost, which browsers treat as a secure context.
	demoRPID = "localhost"
)

// demoRegistry holds alice, bob, carol (known, without a factor) and dave
// (push only), and the load-test users of cfg (see demoUsers). A named
// user's passkeys and recovery codes are registrations once the user has
// some: alice adds them on the demo's settings page.
func demoRegistry(cfg *config, passkeys passkey.Credentials, codes *recovery.Factor) demoUsers {
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
		load:     cfg.demoLoadUsers,
		kba:      cfg.demoLoadKBA,
		passkeys: passkeys,
		codes:    codes,
	}
}

// withFactorsSetUp adds to a named user's registrations the passkeys and
// recovery codes the user has set up, if any.
func (d demoUsers) withFactorsSetUp(ctx context.Context, userID string, regs []authn.Registration) ([]authn.Registration, error) {
	regs = slices.Clone(regs)
	creds, err := d.passkeys.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(creds) > 0 {
		regs = append(regs, authn.Registration{FactorKey: passkey.Key,
			Attributes: []authn.KeyValue{{Key: "passkeys", Value: strconv.Itoa(len(creds))}}})
	}
	left, err := d.codes.Remaining(ctx, userID)
	if err != nil {
		return nil, err
	}
	if left > 0 {
		regs = append(regs, authn.Registration{FactorKey: recovery.Key,
			Attributes: []authn.KeyValue{{Key: "codesLeft", Value: strconv.Itoa(left)}}})
	}
	return regs, nil
}

// demoSender stands in for an e-mail gateway: it logs that a code was sent,
// never the code, and appends the code to the outbox file if one is set.
// A code sent for a demo page's confirmation (its context carries the
// confirmation's tag) is also kept in memory, for that page's "demo
// outbox" to show what the person's mailbox would; no other page sees it.
type demoSender struct {
	log    zerolog.Logger
	clock  challenge.Clock
	outbox string
	mu     sync.Mutex
	recent []outboxMessage // the newest last; at most maxOutbox
}

// outboxMessage is one code the demo has "sent".
type outboxMessage struct {
	Sent        time.Time
	Destination string
	Code        string
	tag         string // the confirmation it was sent for
}

// outboxTag is the context key of the tag of a demo page's confirmation.
type outboxTag struct{}

const maxOutbox = 64

func (d *demoSender) SendCode(ctx context.Context, factorKey, destination, code string) error {
	d.log.Info().Str("factor", factorKey).Msg("code sent") // neither the code nor the address
	now := d.clock.Now().UTC()
	d.mu.Lock()
	defer d.mu.Unlock()
	if tag, _ := ctx.Value(outboxTag{}).(string); tag != "" {
		if len(d.recent) == maxOutbox {
			d.recent = slices.Delete(d.recent, 0, 1)
		}
		d.recent = append(d.recent, outboxMessage{Sent: now, Destination: destination, Code: code, tag: tag})
	}
	if d.outbox == "" {
		return nil
	}
	f, err := os.OpenFile(d.outbox, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("demo outbox: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%s %s %s\n", now.Format(time.RFC3339), destination, code)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

// sentFor returns the messages sent for the confirmation tagged tag, the
// newest first.
func (d *demoSender) sentFor(tag string) []outboxMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []outboxMessage
	for i := len(d.recent) - 1; i >= 0; i-- {
		if d.recent[i].tag == tag {
			out = append(out, d.recent[i])
		}
	}
	return out
}

// demoNotifier stands in for a push service.
type demoNotifier struct{ log zerolog.Logger }

func (d demoNotifier) Notify(_ context.Context, userID string, _ authn.Registration, tx string) error {
	d.log.Info().Str("user", userID).Str("transaction", tx).Msg("push sent")
	return nil
}

// demoAuthn is the factor-transaction service and the parts of it the
// demo pages use besides: the outbox, the passkey ceremonies, the
// recovery codes and the registry.
type demoAuthn struct {
	svc      *authn.Service
	sender   *demoSender
	passkeys *passkey.Factor
	codes    *recovery.Factor
	users    demoUsers
}

// newAuthnService builds the factor-transaction service with every
// built-in factor. Codes are keyed with -otp-key, or a secret drawn at
// start, so that a single demo server's codes die with it; the recovery
// codes' hashes with a key derived from it, so that a fleet given one
// -otp-key accepts each code once across its servers.
func newAuthnService(store challenge.Store, qs *questions.Service, engine challenge.EngineOptions, cfg *config, log zerolog.Logger) (*demoAuthn, error) {
	totpFactor, err := totp.New(store, totp.Options{Clock: cfg.clock})
	if err != nil {
		return nil, err
	}
	key := cfg.otpKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	clock := cfg.clock
	if clock == nil {
		clock = challenge.SystemClock{}
	}
	sender := &demoSender{log: log, clock: clock, outbox: cfg.demoOutbox}
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
	creds, err := passkey.NewRecordCredentials(store, cfg.clock)
	if err != nil {
		return nil, err
	}
	passkeyFactor, err := passkey.New(creds, passkey.Options{RPID: demoRPID, RPDisplayName: "challengekit demo bank", Origins: []string{cfg.demoOrigin()}})
	if err != nil {
		return nil, err
	}
	codes, err := recovery.New(store, deriveKey(key, "challengekit demo: recovery codes"), recovery.Options{Clock: cfg.clock})
	if err != nil {
		return nil, err
	}
	users := demoRegistry(cfg, creds, codes)
	svc, err := authn.NewService(store, users,
		[]authn.Factor{totpFactor, email, sms, kbaFactor, pushFactor, passkeyFactor, codes},
		authn.Options{TTL: cfg.authnTTL, Engine: engine})
	if err != nil {
		return nil, err
	}
	return &demoAuthn{svc: svc, sender: sender, passkeys: passkeyFactor, codes: codes, users: users}, nil
}
