package challenge

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Clock tells the time. The core reads time only through a Clock so that
// tests can drive expiry with a fake one (see package challengetest).
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the [Clock] that reads the system's time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// IDSource makes identifiers, nonces and one-time tokens. Implementations
// must be safe for concurrent use; production ones must return at least 128
// unpredictable bits in a URL-safe alphabet.
type IDSource interface {
	NewID() string
}

// RandomIDs is the production [IDSource]: 128 bits from crypto/rand,
// base64url-encoded without padding (22 characters).
type RandomIDs struct{}

// NewID returns a fresh random identifier. It never fails: crypto/rand.Read
// aborts the program rather than return weak randomness.
func (RandomIDs) NewID() string { return NewID() }

// NewID returns 128 bits from crypto/rand, base64url-encoded without padding.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // documented never to return an error
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// storeTime is how the core stamps records: UTC, microsecond precision,
// without a monotonic reading, so that the value survives every store.
func storeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
