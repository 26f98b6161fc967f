package psd2

import (
	"errors"
	"fmt"

	"github.com/challengekit/challengekit/internal/binenc"
)

// payload is what a PSD2 record keeps in challenge.Record.Data. The person
// is the record's Subject.
type payload struct {
	IBAN          string
	TPPName       string
	TPPID         string
	Scope         string
	RedirectToken string // a secret: it never leaves this package but in the redirect URL
	Partner       string // the tenant: the partner whose customer holds the account
	LastMismatch  string // the person of the last PATCH that did not own the IBAN
	rest          string // fields a later release appended, kept as they are
}

// payloadVersion leads every encoded payload, so the format can evolve.
// Version 1 lacked Partner and LastMismatch; it is still read (a record of
// version 1 belongs to no partner, so only the bank sees it).
const (
	payloadVersion   = 2
	payloadVersionV1 = 1
)

// errCorruptPayload means a stored record's Data could not be decoded.
var errCorruptPayload = errors.New("psd2: corrupt challenge payload")

// encode writes p in the binary form of internal/binenc, several times
// cheaper than JSON, which matters on a path budgeted in microseconds.
func (p *payload) encode() []byte {
	b := make([]byte, 1, 1+len(p.rest)+binenc.Size(0, len(p.IBAN), len(p.TPPName), len(p.TPPID), len(p.Scope), len(p.RedirectToken), len(p.Partner), len(p.LastMismatch)))
	b[0] = payloadVersion
	for _, f := range [...]string{p.IBAN, p.TPPName, p.TPPID, p.Scope, p.RedirectToken, p.Partner, p.LastMismatch} {
		b = binenc.AppendString(b, f)
	}
	return append(b, p.rest...)
}

// decodePayload reads what encode wrote with one allocation (the fields
// share it). It never panics: anything else is errCorruptPayload.
func decodePayload(b []byte) (payload, error) {
	version := byte(payloadVersion)
	if len(b) > 0 && b[0] == payloadVersionV1 {
		version = payloadVersionV1
	}
	r := binenc.NewReader(b, version)
	p := payload{IBAN: r.ReadString(), TPPName: r.ReadString(), TPPID: r.ReadString(), Scope: r.ReadString(), RedirectToken: r.ReadString()}
	if version == payloadVersion {
		p.Partner, p.LastMismatch = r.ReadString(), r.ReadString()
		p.rest = r.Rest()
	}
	if err := r.Err(); err != nil {
		return payload{}, fmt.Errorf("%w: %w", errCorruptPayload, err)
	}
	return p, nil
}
