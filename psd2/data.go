package psd2

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// payload is what a PSD2 record keeps in challenge.Record.Data. The person
// is the record's Subject.
type payload struct {
	IBAN          string
	TPPName       string
	TPPID         string
	Scope         string
	RedirectToken string // a secret: it never leaves this package but in the redirect URL
}

// payloadVersion leads every encoded payload, so the format can evolve.
const payloadVersion = 1

// errCorruptPayload means a stored record's Data could not be decoded.
var errCorruptPayload = errors.New("psd2: corrupt challenge payload")

// encode writes p as a version byte followed by each field as a uvarint
// length and its bytes. It is several times cheaper than JSON, which
// matters on a path budgeted in microseconds.
func (p *payload) encode() []byte {
	fields := p.fields()
	size := 1
	for _, f := range fields {
		size += binary.MaxVarintLen32 + len(*f)
	}
	b := make([]byte, 1, size)
	b[0] = payloadVersion
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(*f)))
		b = append(b, *f...)
	}
	return b
}

func (p *payload) fields() [5]*string {
	return [5]*string{&p.IBAN, &p.TPPName, &p.TPPID, &p.Scope, &p.RedirectToken}
}

// decodePayload reads what encode wrote. It never panics: anything else is
// errCorruptPayload.
func decodePayload(b []byte) (payload, error) {
	var p payload
	if len(b) == 0 || b[0] != payloadVersion {
		return p, fmt.Errorf("%w: unknown version", errCorruptPayload)
	}
	s := string(b[1:]) // one allocation; the fields are substrings of it
	for _, f := range p.fields() {
		n, k := binary.Uvarint(b[len(b)-len(s):]) // b and s end together
		if k <= 0 || n > uint64(len(s)-k) {
			return payload{}, fmt.Errorf("%w: truncated", errCorruptPayload)
		}
		*f = s[k : k+int(n)]
		s = s[k+int(n):]
	}
	if len(s) != 0 {
		return payload{}, fmt.Errorf("%w: %d trailing bytes", errCorruptPayload, len(s))
	}
	return p, nil
}
