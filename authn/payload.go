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

	// Since version 2.
	Source string // the end user's address as the agent reported it at Begin ("" unknown)
	// Salt keys the derivation of each nonce from the one presented (see
	// Service.advance), so that a repeated request can be answered with
	// the nonce it was answered with before, which is not stored.
	Salt        []byte
	Seq         uint64 // steps applied since Begin
	LastNonce   []byte // SHA-256 of the nonce the last applied step presented (nil: none)
	LastOp      string // that step's operation, as step compares it
	LastOutcome byte   // that step's outcome: outcomeApplied or outcomeWrong
	Sends       int    // deliveries (codes, pushes) made for this transaction
	LastSend    int64  // when the last was made, in µs since the Unix epoch
}

// The outcomes of an applied step, kept to answer a repeat of it.
const (
	outcomeApplied byte = iota
	outcomeWrong        // Validate: a wrong answer, counted
)

// payloadVersion leads every encoded payload, so the format can evolve.
// Version 1 (without the fields of version 2) is still read.
const (
	payloadVersion   = 2
	payloadVersionV1 = 1
)

// encode writes p in the binary form of internal/binenc: every step of a
// transaction reads and writes it, and JSON cost a quarter of a login.
func (p *payload) encode() []byte {
	n := len(p.ClientID) + len(p.UserID) + len(p.GroupID) + len(p.Factor) + len(p.FactorState) + len(p.NonceHash) + len(p.Reason) +
		len(p.Source) + len(p.Salt) + len(p.LastNonce) + len(p.LastOp) + 1
	for _, f := range p.Factors {
		n += len(f)
	}
	for _, kv := range p.Prompts {
		n += len(kv.Key) + len(kv.Value)
	}
	b := make([]byte, 1, 1+binenc.Size(18+len(p.Factors)+2*len(p.Prompts), n))
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
	b = binenc.AppendString(b, p.Reason)
	b = binenc.AppendString(b, p.Source)
	b = binenc.AppendBytes(b, p.Salt)
	b = binenc.AppendInt(b, int64(p.Seq))
	b = binenc.AppendBytes(b, p.LastNonce)
	b = binenc.AppendString(b, p.LastOp)
	b = append(b, p.LastOutcome)
	b = binenc.AppendInt(b, int64(p.Sends))
	return binenc.AppendInt(b, p.LastSend)
}

// decodePayload reads what encode wrote, of this version or the last. It
// never panics.
func decodePayload(data []byte) (payload, error) {
	version := byte(payloadVersion)
	if len(data) > 0 && data[0] == payloadVersionV1 {
		version = payloadVersionV1
	}
	r := binenc.NewReader(data, version)
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
	if version == payloadVersion {
		p.Source, p.Salt = r.ReadString(), r.ReadBytes()
		seq := r.ReadInt()
		p.LastNonce, p.LastOp = r.ReadBytes(), r.ReadString()
		p.LastOutcome = r.ReadUint8()
		sends := r.ReadInt()
		p.LastSend = r.ReadInt()
		if seq < 0 || sends < 0 || sends > 1<<20 {
			return payload{}, fmt.Errorf("authn: corrupt transaction: %w: counter out of range", binenc.ErrCorrupt)
		}
		p.Seq, p.Sends = uint64(seq), int(sends)
	}
	if err := r.Err(); err != nil {
		return payload{}, fmt.Errorf("authn: corrupt transaction: %w", err)
	}
	return p, nil
}
