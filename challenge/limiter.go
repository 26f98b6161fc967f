package challenge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"sync"
	"time"
)

// ErrThrottled: a budget of the [Limiter] is spent and the request must
// wait. It is carried by a [*ThrottledError].
var ErrThrottled = errors.New("challenge: too many attempts; retry later")

// ThrottledError says how long a throttled caller must wait. It matches
// ErrThrottled.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("challenge: too many attempts; retry in %v", e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) work on a *ThrottledError.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Origin is who asks for a challenge: the authenticated Caller (an agent,
// a partner, a session's user) and, where it is known, the Source, the end
// user's network address as the caller or the connection tells it. Flows
// name sources with a prefix of their kind ("ip:203.0.113.7",
// "partner:acme"), so that different kinds never collide.
type Origin struct {
	Caller string
	Source string
}

// AddrSource names a network address as a Limiter source:
// "ip:203.0.113.7" for IPv4, and the /64 network for IPv6
// ("ip:2001:db8:1:2::/64"), since one subscriber commonly holds a whole
// /64 and could otherwise change address at every request. The zero Addr
// is no source ("").
func AddrSource(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return ""
	case a.Is4():
		return "ip:" + a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return "ip:" + p.String()
}

// Attempt names one attempt at answering a challenge: which kind of
// challenge, whose (Subject), and from where (Source; a flow that does not
// know the end user's address names the caller instead).
type Attempt struct {
	Kind    string
	Subject string
	Source  string
	// ID names this one charge, so that Refund takes back this charge and
	// no other, and only once, however often it is sent. The [Engine]
	// draws a fresh random one for every charge.
	ID string
}

// Delivery names one delivery (a code sent, a notification pushed): where
// it goes (Destination, an opaque key) and for whom it was asked (Source,
// the end user's address as for an Attempt).
type Delivery struct {
	Destination string
	Source      string
}

// Limiter keeps the budgets that stop a patient attacker across
// challenges, where each challenge's own attempt budget stops guessing
// within one. It keeps them apart so that naming a victim is never a
// weapon:
//
//   - starts (opening a challenge) are budgeted per caller and per source,
//     never per subject: anyone may ask for alice's login, and asking
//     often throttles only the one who asks;
//   - attempts are charged to (kind, subject, source) before an answer is
//     evaluated, and count as failures unless refunded: after
//     [Limits.FreeFailures] the pair is held off for doubling periods, and
//     across all sources a subject has a hard cap of failures per kind;
//   - deliveries (codes and notifications sent) are budgeted per
//     destination and source, so that one stranger cannot spend a victim's
//     deliveries, and per destination under a ceiling.
//
// Every method is one round trip to the limiter's backend and atomic:
// concurrent calls never spend more than a budget holds. A method that
// refuses returns a [*ThrottledError] and charges nothing; any other error
// means the backend failed. Implementations must be safe for concurrent
// use, and a Limiter over a shared backend gives a fleet one budget. Every
// implementation must pass challenge/limitertest.Run.
type Limiter interface {
	// Start charges the opening of one challenge to o.Caller's budget
	// and, when o.Source is not empty, to the source's budget as that
	// caller reports it. It charges both or neither.
	Start(ctx context.Context, o Origin) error

	// Attempt charges one attempt before its answer is evaluated. It
	// refuses while a.Source is held off for a.Subject after repeated
	// failures, or while a.Subject has reached its cap of failures in
	// a.Kind from every source. The charge counts as a failure unless
	// Refund takes it back.
	Attempt(ctx context.Context, a Attempt) error

	// Refund takes back the charge a.ID made by Attempt, whose answer was
	// right (or was never evaluated). A charge is refunded once, however
	// often Refund is sent; an unknown one is none.
	Refund(ctx context.Context, a Attempt) error

	// Deliver charges one delivery (an e-mail, a text message, a push
	// notification) to its destination and source, and to its
	// destination's ceiling; both or neither.
	Deliver(ctx context.Context, d Delivery) error

	// Reset forgets the failures of subject in kind, from every source:
	// what an application calls once it has established who the user is
	// by other means (a help desk, a recovery process).
	Reset(ctx context.Context, kind, subject string) error
}

// Rate is a budget of Events per period Per. How it is spent depends on
// the budget: see each field of [Limits].
type Rate struct {
	Events int
	Per    time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d per %v", r.Events, r.Per) }

// interval is the time one event's share of the budget takes to come back.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.Events) }

// Limits are the budgets a [Limiter] keeps. The zero value of a field
// means its default; a negative value is an error.
type Limits struct {
	// CallerStarts is each caller's budget of starts, as a token bucket:
	// Events at once, refilled evenly over Per. Default 10,000 per second:
	// an agent serving a whole site is never throttled by ordinary
	// traffic, and a runaway one cannot fill the store.
	CallerStarts Rate
	// SourceStarts is each source's budget of starts, per caller, as a
	// token bucket. Default 30 per minute.
	SourceStarts Rate
	// FreeFailures is how many failures a (subject, source) pair makes
	// before holds begin. Default 5.
	FreeFailures int
	// MinHold and MaxHold bound the holds: after FreeFailures failures the
	// pair must wait MinHold before its next attempt, and each further
	// failure doubles the wait, up to MaxHold. Defaults 1 second and 15
	// minutes.
	MinHold, MaxHold time.Duration
	// FailureWindow is how long a pair must stay quiet after its last
	// hold ends to be forgiven its failures. Default 15 minutes.
	FailureWindow time.Duration
	// SubjectFailures is the hard cap per subject and kind, across every
	// source: at most Events failures in any period Per; past it every
	// attempt is refused until the oldest failure is Per old, or until
	// Reset. Default 100 per 24 hours (NIST SP 800-63B §5.2.2).
	SubjectFailures Rate
	// Deliveries is each destination's budget as one source spends it:
	// at most Events deliveries in any period Per. Default 5 per hour.
	Deliveries Rate
	// DestinationDeliveries is each destination's ceiling across every
	// source: at most Events in any period Per. Default 20 per hour, so
	// that a stranger spends at most a quarter of it.
	DestinationDeliveries Rate
}

// The defaults of [Limits].
var (
	DefaultCallerStarts          = Rate{Events: 10_000, Per: time.Second}
	DefaultSourceStarts          = Rate{Events: 30, Per: time.Minute}
	DefaultSubjectFailures       = Rate{Events: 100, Per: 24 * time.Hour}
	DefaultDeliveries            = Rate{Events: 5, Per: time.Hour}
	DefaultDestinationDeliveries = Rate{Events: 20, Per: time.Hour}
)

// The defaults of [Limits] that are not rates.
const (
	DefaultFreeFailures  = 5
	DefaultMinHold       = time.Second
	DefaultMaxHold       = 15 * time.Minute
	DefaultFailureWindow = 15 * time.Minute
)

// WithDefaults returns l with every zero field set to its default, or an
// error naming a field that is negative or inconsistent. Limiter
// implementations call it in their constructors.
func (l Limits) WithDefaults() (Limits, error) {
	var errs []error
	rate := func(name string, r *Rate, def Rate) {
		switch {
		case *r == Rate{}:
			*r = def
		case r.Events <= 0 || r.Per <= 0 || r.Per < time.Duration(r.Events)*time.Microsecond:
			errs = append(errs, fmt.Errorf("challenge: limits: %s %v must be positive, with at least a microsecond per event", name, *r))
		}
	}
	rate("CallerStarts", &l.CallerStarts, DefaultCallerStarts)
	rate("SourceStarts", &l.SourceStarts, DefaultSourceStarts)
	rate("SubjectFailures", &l.SubjectFailures, DefaultSubjectFailures)
	rate("Deliveries", &l.Deliveries, DefaultDeliveries)
	rate("DestinationDeliveries", &l.DestinationDeliveries, DefaultDestinationDeliveries)
	duration := func(name string, d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < time.Microsecond:
			errs = append(errs, fmt.Errorf("challenge: limits: %s %v must be at least a microsecond", name, *d))
		}
	}
	duration("MinHold", &l.MinHold, DefaultMinHold)
	duration("MaxHold", &l.MaxHold, DefaultMaxHold)
	duration("FailureWindow", &l.FailureWindow, DefaultFailureWindow)
	switch {
	case l.FreeFailures == 0:
		l.FreeFailures = DefaultFreeFailures
	case l.FreeFailures < 0:
		errs = append(errs, fmt.Errorf("challenge: limits: negative FreeFailures %d", l.FreeFailures))
	}
	if l.MaxHold < l.MinHold {
		errs = append(errs, fmt.Errorf("challenge: limits: MaxHold %v is shorter than MinHold %v", l.MaxHold, l.MinHold))
	}
	if len(errs) > 0 {
		return Limits{}, errors.Join(errs...)
	}
	return l, nil
}

// Hold returns how long a (subject, source) pair that has failed n times
// must wait after its last failure before its next attempt: nothing below
// FreeFailures, then MinHold, doubling with each failure up to MaxHold.
// Limiter backends implement the same function.
func (l Limits) Hold(n int) time.Duration {
	if n < l.FreeFailures {
		return 0
	}
	if k := n - l.FreeFailures; k < 62 && l.MinHold <= l.MaxHold>>k {
		return l.MinHold << k
	}
	return l.MaxHold
}

// KeyDigest names what a shared Limiter keeps a budget for (a caller, a
// subject of a kind, a source, a destination) without writing it down:
// the first 128 bits of HMAC-SHA256 under key over the parts, each ended
// by a zero byte, in hex. Backends use it for their keys. With a secret
// key, a reader of the store cannot tell whose budgets they are; without
// one (nil), the digest is plain SHA-256, and names from small spaces (an
// IPv4 address, a phone number) can be recovered by trying them all.
func KeyDigest(key []byte, parts ...string) string {
	var h hash.Hash
	if key == nil {
		h = sha256.New()
	} else {
		h = hmac.New(sha256.New, key)
	}
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// KeyDigester computes KeyDigest under one key, for a backend that names
// keys on every call: it keeps keyed hash states in a pool, which saves
// the HMAC's key schedule and a new hash's allocations each time. Make
// one with NewKeyDigester; it is safe for concurrent use.
type KeyDigester struct {
	keyed bool
	pool  sync.Pool // of *digestState
}

// digestState is what one Digest works with: the buffer its parts are
// gathered in and, under a key, an HMAC.
type digestState struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// maxPooledDigestInput is the largest input buffer Digest puts back in
// its pool: a rare long name does not stay in memory.
const maxPooledDigestInput = 4 << 10

// NewKeyDigester returns a KeyDigester under key (nil: plain SHA-256).
// It keeps its own copy of key.
func NewKeyDigester(key []byte) *KeyDigester {
	d := &KeyDigester{keyed: key != nil}
	key = bytes.Clone(key)
	d.pool.New = func() any {
		st := &digestState{}
		if d.keyed {
			st.mac = hmac.New(sha256.New, key)
		}
		return st
	}
	return d
}

// Digest returns KeyDigest(key, parts...).
func (d *KeyDigester) Digest(parts ...string) string {
	st := d.pool.Get().(*digestState)
	st.in = st.in[:0]
	for _, p := range parts {
		st.in = append(append(st.in, p...), 0)
	}
	var sum []byte
	if d.keyed {
		st.mac.Reset()
		st.mac.Write(st.in)
		sum = st.mac.Sum(st.sum[:0])
		// The parts name people and addresses: neither the buffer nor
		// the hash (whose Reset restores its keyed start, overwriting
		// the input it holds) keeps them in the pool.
		st.mac.Reset()
	} else {
		st.sum = sha256.Sum256(st.in)
		sum = st.sum[:]
	}
	out := hex.EncodeToString(sum[:16])
	clear(st.in)
	if cap(st.in) <= maxPooledDigestInput {
		d.pool.Put(st)
	}
	return out
}

// PairMemory is how long a limiter must keep a (subject, source) pair's
// failures after its last one: the longest hold and the window after it.
func (l Limits) PairMemory() time.Duration { return l.MaxHold + l.FailureWindow }
