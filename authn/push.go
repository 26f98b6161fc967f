package authn

import (
	"context"
	"errors"
)

// PushKey is the factor key of [Push].
const PushKey = "ChallengeOMAPUSH"

// Notifier sends a push notification asking the user to approve a
// transaction. Implementations must be safe for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, userID string, reg Registration, transactionID string) error
}

// Push is the ChallengeOMAPUSH factor, non-passive: Init notifies the
// user's device (after the transaction is saved), and the agent, which
// learns the outcome, reports it with Finalize. It is safe for concurrent
// use.
type Push struct {
	notifier Notifier
}

var _ Factor = (*Push)(nil)

// NewPush returns the factor over notifier.
func NewPush(notifier Notifier) (*Push, error) {
	if notifier == nil {
		return nil, errors.New("authn: NewPush needs a Notifier")
	}
	return &Push{notifier: notifier}, nil
}

// Key implements [Factor].
func (f *Push) Key() string { return PushKey }

// Passive implements [Factor].
func (f *Push) Passive() bool { return false }

// Init implements [Factor].
func (f *Push) Init(_ context.Context, req InitRequest) (InitResult, error) {
	return InitResult{
		Prompts: []KeyValue{{"push", "Approve the sign-in on your device"}},
		AfterSave: func(ctx context.Context) error {
			return f.notifier.Notify(ctx, req.UserID, req.Registration, req.TransactionID)
		},
	}, nil
}

// Validate implements [Factor]; a non-passive factor cannot check answers.
func (f *Push) Validate(context.Context, ValidateRequest) (ValidateResult, error) {
	return ValidateResult{}, errors.New("authn: push is not passive")
}
