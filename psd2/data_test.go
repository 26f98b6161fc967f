package psd2

import (
	"bytes"
	"errors"
	"testing"
)

func TestPayloadRoundTrips(t *testing.T) {
	p := payload{IBAN: "DE02120300000000202051", TPPName: "Acme – Finance", TPPID: "", Scope: "accounts", RedirectToken: "tok",
		Partner: "acme", LastMismatch: "p-bob"}
	got, err := decodePayload(p.encode())
	if err != nil || got != p {
		t.Fatalf("decode(encode(%+v)) = %+v, %v", p, got, err)
	}
	// A record written by the previous release (version 1) is still read.
	v1 := []byte{1, 22}
	v1 = append(v1, "DE02120300000000202051"...)
	v1 = append(v1, 4, 'A', 'c', 'm', 'e', 0, 0, 3, 't', 'o', 'k')
	if got, err := decodePayload(v1); err != nil || got != (payload{IBAN: "DE02120300000000202051", TPPName: "Acme", RedirectToken: "tok"}) {
		t.Fatalf("a version 1 payload: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {0}, {3}, {2, 0, 0, 0, 0, 0}, {1, 5, 'a'}} {
		if _, err := decodePayload(bad); !errors.Is(err, errCorruptPayload) {
			t.Errorf("decodePayload(%v) = %v; want errCorruptPayload", bad, err)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add((&payload{IBAN: "DE02120300000000202051", TPPName: "Acme"}).encode())
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			return
		}
		if again := p.encode(); !bytes.Equal(again, b) {
			// Uvarints have one canonical form only when minimal; accept
			// non-minimal input but require a stable round trip after it.
			if p2, err := decodePayload(again); err != nil || p2 != p {
				t.Fatalf("re-encoding %+v does not round-trip: %v", p, err)
			}
		}
	})
}
