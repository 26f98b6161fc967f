package authn

import "github.com/challengekit/challengekit/challenge"

// Kind is the record kind of factor transactions in a challenge.Store.
const Kind = "authn"

// The states of a transaction.
const (
	StateCreated       challenge.State = "created"
	StateInitiated     challenge.State = "initiated"
	StateValidated     challenge.State = "validated"
	StateAuthenticated challenge.State = "authenticated"
	StateFailed        challenge.State = "failed"
	StateError         challenge.State = "error"
	StateBlocked       challenge.State = "blocked"
	StateExpired       challenge.State = "expired"
)

// The events of a transaction.
const (
	EventInit         challenge.Event = "init"
	EventSatisfy      challenge.Event = "satisfy"
	EventAuthenticate challenge.Event = "authenticate"
	EventFail         challenge.Event = "fail"
	EventError        challenge.Event = "error"
	EventBlock        challenge.Event = "block"
	EventExpire       challenge.Event = "expire"
)

// Definition returns the transaction's table: created → initiated (Init,
// again to switch factor) → validated (a passive factor satisfied) →
// authenticated (Finalize Success; from initiated only for a non-passive
// factor, which the service checks); Finalize Failure or Error from any open
// state; too many wrong answers block it; time expires it.
func Definition() challenge.Definition {
	open := []challenge.State{StateCreated, StateInitiated, StateValidated}
	return challenge.Definition{
		Name:    Kind,
		Initial: StateCreated,
		Transitions: []challenge.Transition{
			{Event: EventInit, From: []challenge.State{StateCreated, StateInitiated}, To: StateInitiated},
			{Event: EventSatisfy, From: []challenge.State{StateInitiated}, To: StateValidated},
			{Event: EventAuthenticate, From: []challenge.State{StateInitiated, StateValidated}, To: StateAuthenticated},
			{Event: EventFail, From: open, To: StateFailed},
			{Event: EventError, From: open, To: StateError},
			{Event: EventBlock, From: []challenge.State{StateInitiated}, To: StateBlocked},
			{Event: EventExpire, From: open, To: StateExpired},
		},
		Expire: EventExpire,
		Lock:   EventBlock,
	}
}
