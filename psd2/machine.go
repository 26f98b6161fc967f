package psd2

import "github.com/challengekit/challengekit/challenge"

// Kind is the record kind of PSD2 challenges in a challenge.Store.
const Kind = "psd2"

// The states of a PSD2 consent challenge, as they appear on the wire in the
// challenge object's "status".
const (
	StatePending            challenge.State = "pending"
	StateCredentialsEntered challenge.State = "credentials_entered"
	StateRedirected         challenge.State = "redirected"
	StateAuthorized         challenge.State = "authorized"
	StateFailed             challenge.State = "failed"
	StateExpired            challenge.State = "expired"
)

// The events of a PSD2 consent challenge.
const (
	EventEnterCredentials challenge.Event = "enter_credentials"
	EventRedirect         challenge.Event = "redirect"
	EventAuthorize        challenge.Event = "authorize"
	EventFail             challenge.Event = "fail"
	EventExpire           challenge.Event = "expire"
)

// Definition returns the PSD2 consent challenge's transition table:
// pending → credentials_entered → redirected → authorized | failed, and
// every non-final state → expired once its time is up. Too many IBAN
// mismatches, or a failed second factor, end in failed.
func Definition() challenge.Definition {
	open := []challenge.State{StatePending, StateCredentialsEntered, StateRedirected}
	return challenge.Definition{
		Name:    Kind,
		Initial: StatePending,
		Transitions: []challenge.Transition{
			{Event: EventEnterCredentials, From: []challenge.State{StatePending}, To: StateCredentialsEntered},
			{Event: EventRedirect, From: []challenge.State{StateCredentialsEntered}, To: StateRedirected},
			{Event: EventAuthorize, From: []challenge.State{StateRedirected}, To: StateAuthorized},
			{Event: EventFail, From: open, To: StateFailed},
			{Event: EventExpire, From: open, To: StateExpired},
		},
		Expire: EventExpire,
		Lock:   EventFail,
	}
}
