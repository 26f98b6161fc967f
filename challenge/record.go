package challenge

import "time"

// State names a state of a [Machine], such as "pending" or "authorized".
type State string

// Event names an event of a [Machine], such as "redirect" or "expire".
type Event string

// MaxIDLength is the longest record ID the [Engine] looks up. Longer IDs
// cannot have been issued by an [IDSource] and are answered with
// [ErrNotFound] without a store round trip.
const MaxIDLength = 128

// Record is the stored form of one challenge (or one long-lived enrollment).
//
// Stores keep times with at least microsecond precision and return them in
// UTC; the [Engine] truncates the times it sets to the microsecond so that a
// record reads back equal from every store.
type Record struct {
	// Kind names the machine the record belongs to; (Kind, ID) is the key.
	Kind string
	// ID identifies the record within its Kind.
	ID string
	// State is the machine state the record is in.
	State State
	// Version is the compare-and-set token: a store sets it to 1 on Create
	// and increments it on every Update.
	Version uint64
	// Subject is who the challenge is about (a person, user or account id).
	Subject string
	// Attempts counts the failed attempts recorded against this challenge.
	Attempts int
	// CreatedAt is when the record was created.
	CreatedAt time.Time
	// UpdatedAt is when the record was last saved.
	UpdatedAt time.Time
	// ExpiresAt is when the challenge stops accepting operations; the zero
	// time means never. A store keeps an expired record readable for its
	// retention window so that callers can answer "expired", not "not found".
	ExpiresAt time.Time
	// Data is the flow package's own payload, opaque to the core.
	Data []byte
}

// Expired reports whether the record has an expiry and now is at or past it.
func (r *Record) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// Clone returns a deep copy of r: changing the copy's Data does not change r.
func (r *Record) Clone() *Record {
	c := *r
	if r.Data != nil {
		c.Data = append(make([]byte, 0, len(r.Data)), r.Data...)
	}
	return &c
}
