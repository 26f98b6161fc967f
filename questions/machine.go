package questions

import "github.com/challengekit/challengekit/challenge"

// Record kinds in a challenge.Store.
const (
	CatalogKind      = "questions_catalog"      // ID: business ID
	EnrollmentKind   = "questions_enrollment"   // ID: user ID
	VerificationKind = "questions_verification" // ID: random
)

// The states of a verification challenge.
const (
	StateAsked    challenge.State = "asked"
	StateVerified challenge.State = "verified"
	StateFailed   challenge.State = "failed"
	StateLocked   challenge.State = "locked"
	StateExpired  challenge.State = "expired"
)

// The events of a verification challenge.
const (
	EventVerify  challenge.Event = "verify"
	EventAbandon challenge.Event = "abandon"
	EventLock    challenge.Event = "lock"
	EventExpire  challenge.Event = "expire"
)

// VerificationDefinition returns the verification challenge's table: asked
// → verified once enough answers were right, → locked when wrong answers
// exhaust the budget, → failed when abandoned, → expired.
func VerificationDefinition() challenge.Definition {
	asked := []challenge.State{StateAsked}
	return challenge.Definition{
		Name:    VerificationKind,
		Initial: StateAsked,
		Transitions: []challenge.Transition{
			{Event: EventVerify, From: asked, To: StateVerified},
			{Event: EventAbandon, From: asked, To: StateFailed},
			{Event: EventLock, From: asked, To: StateLocked},
			{Event: EventExpire, From: asked, To: StateExpired},
		},
		Expire: EventExpire,
		Lock:   EventLock,
	}
}
