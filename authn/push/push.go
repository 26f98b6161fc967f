// Package push is the ChallengeOMAPUSH factor of package authn: a
// notification the user approves on a registered device, whose outcome
// the agent reports with Finalize.
package push

import (
	"context"
	"errors"

	"github.com/challengekit/challengekit/authn"
)

// Key is the factor key of [Factor].
const Key = "ChallengeOMAPUSH"

// Notifier sends a push notification asking the user to approve a
// transaction. Implementations must be safe for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, userID string, reg authn.Registration, transactionID string) error
}

// Factor is the ChallengeOMAPUSH factor, non-passive: Init notifies the
// user's device once the transaction is saved, and the agent, which
// learns the outcome, reports it with Finalize. It is safe for concurrent
// use.
type Factor struct {
	notifier Notifier
}

var _ authn.Factor = (*Factor)(nil)

// New returns the factor over notifier.
func New(notifier Notifier) (*Factor, error) {
	if notifier == nil {
		return nil, errors.New("push: New needs a Notifier")
	}
	return &Factor{notifier: notifier}, nil
}

// Key implements [authn.Factor].
func (f *Factor) Key() string { return Key }

// Passive implements [authn.Factor].
func (f *Factor) Passive() bool { return false }

// Init implements [authn.Factor].
func (f *Factor) Init(_ context.Context, req authn.InitRequest) (authn.InitResult, error) {
	return authn.InitResult{
		Prompts: []authn.KeyValue{{Key: "push", Value: "Approve the sign-in on your device"}},
		Deliver: func(ctx context.Context) error {
			return f.notifier.Notify(ctx, req.UserID, req.Registration, req.TransactionID)
		},
	}, nil
}

// Validate implements [authn.Factor]; a non-passive factor cannot check
// answers.
func (f *Factor) Validate(context.Context, authn.ValidateRequest) (authn.ValidateResult, error) {
	return authn.ValidateResult{}, errors.New("push: the factor is not passive")
}
