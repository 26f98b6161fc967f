package authn

import (
	"fmt"

	"github.com/challengekit/challengekit/internal/binenc"
)

// payload is what a transaction keeps in challenge.Record.Data.
type payload struct {
	ClientID    string
	UserID      string
	GroupID     string
	Known       bool
	Factors     []string // the factor keys the user had registered at Begin
	Factor      string   // the factor being run
	FactorState []byte
	Prompts     []KeyValue
	NonceHash   []byte // SHA-256 of the latest nonce; the nonce itself is never stored
	Reason      string
}

// payloadVersion leads every encoded payload, so the format can evolve.
const payloadVersion = 1

// encode writes p in the binary form of internal/binenc: every step of a
// transaction reads and writes it, and JSON cost a quarter of a login.
func (p *payload) encode() []byte {
	n := len(p.ClientID) + len(p.UserID) + len(p.GroupID) + len(p.Factor) + len(p.FactorState) + len(p.NonceHash) + len(p.Reason)
	for _, f := range p.Factors {
		n += len(f)
	}
	for _, kv := range p.Prompts {
		n += len(kv.Key) + len(kv.Value)
	}
	b := make([]byte, 1, 1+binenc.Size(10+len(p.Factors)+2*len(p.Prompts), n))
	b[0] = payloadVersion
	b = binenc.AppendString(b, p.ClientID)
	b = binenc.AppendString(b, p.UserID)
	b = binenc.AppendString(b, p.GroupID)
	b = binenc.AppendBool(b, p.Known)
	b = binenc.AppendStrings(b, p.Factors)
	b = binenc.AppendString(b, p.Factor)
	b = binenc.AppendBytes(b, p.FactorState)
	b = binenc.AppendCount(b, len(p.Prompts))
	for _, kv := range p.Prompts {
		b = binenc.AppendString(b, kv.Key)
		b = binenc.AppendString(b, kv.Value)
	}
	b = binenc.AppendBytes(b, p.NonceHash)
	return binenc.AppendString(b, p.Reason)
}

// decodePayload reads what encode wrote. It never panics.
func decodePayload(data []byte) (payload, error) {
	r := binenc.NewReader(data, payloadVersion)
	p := payload{ClientID: r.ReadString(), UserID: r.ReadString(), GroupID: r.ReadString(), Known: r.ReadBool(),
		Factors: r.ReadStrings()}
	p.Factor, p.FactorState = r.ReadString(), r.ReadBytes()
	if n := r.ReadCount(2); n > 0 {
		p.Prompts = make([]KeyValue, n)
		for i := range p.Prompts {
			p.Prompts[i] = KeyValue{Key: r.ReadString(), Value: r.ReadString()}
		}
	}
	p.NonceHash, p.Reason = r.ReadBytes(), r.ReadString()
	if err := r.Err(); err != nil {
		return payload{}, fmt.Errorf("authn: corrupt transaction: %w", err)
	}
	return p, nil
}
