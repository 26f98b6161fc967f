// Package webauthntest makes test authenticators' credentials that every
// conforming relying party accepts.
//
// github.com/descope/virtualwebauthn writes an EC2 key's coordinates as
// big.Int.Bytes() does, without their leading zero bytes, so about one
// key in 128 has a coordinate shorter than P-256's 32 bytes. A COSE key
// must carry both at full length (RFC 9053 §7.1.1), and go-webauthn
// rightly refuses such a registration ("EC2 key x or y coordinate has
// invalid length"): a test registering a fresh credential would fail now
// and then, for the test device's fault.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"

	"github.com/descope/virtualwebauthn"
)

// NewCredential returns a new EC2 (P-256) credential whose public key's
// coordinates are both 32 bytes long as big-endian integers, which
// virtualwebauthn encodes correctly.
func NewCredential() virtualwebauthn.Credential {
	for {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic("webauthntest: " + err.Error()) // crypto/rand does not fail
		}
		// 0x04, then X and Y, 32 bytes each: a zero first byte is one
		// virtualwebauthn would drop.
		point, err := key.PublicKey.Bytes()
		if err != nil {
			panic("webauthntest: " + err.Error())
		}
		if point[1] == 0 || point[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			panic("webauthntest: " + err.Error())
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
