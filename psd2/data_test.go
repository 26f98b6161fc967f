package psd2

import (
	"bytes"
	"errors"
	"testing"
)

func TestPayloadRoundTrips(t *testing.T) {
	p := payload{IBAN: "DE02120300000000202051", TPPName: "Acme – Finance", TPPID: "", Scope: "accounts", RedirectToken: "tok"}
	got, err := decodePayload(p.encode())
	if err != nil || got != p {
		t.Fatalf("decode(encode(%+v)) = %+v, %v", p, got, err)
	}
	for _, bad := range [][]byte{nil, {0}, {2, 0, 0, 0, 0, 0}, {1, 5, 'a'}, append(p.encode(), 0)} {
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
