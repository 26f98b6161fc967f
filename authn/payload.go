package authn

import (
	"crypto/sha256"
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
	NonceHash   digest // SHA-256 of the latest nonce; the nonce itself is never stored
	Reason      string

	// Since version 2.
	Source string // the end user's address as the agent reported it at Begin ("" unknown)
	// Salt keys the derivation of each nonce from the one presented (see
	// Service.advance), so that a repeated request can be answered with
	// the nonce it was answered with before, which is not stored.
	Salt        digest // zero: none (a transaction of version 1)
	Seq         uint64 // steps applied since Begin
	LastNonce   digest // SHA-256 of the nonce the last applied step presented (zero: none)
	LastOp      string // that step's operation, as step compares it
	LastOutcome byte   // that step's outcome: outcomeApplied or outcomeWrong
	Sends       int    // deliveries (codes, pushes) made for this transaction
	LastSend    int64  // when the last was made, in µs since the Unix epoch

	rest string // fields a later release appended, kept as they are
}

// digest is a SHA-256 sum or a 256-bit key, kept in the payload by value:
// decoding one allocates nothing. The zero digest stands for none.
type digest [sha256.Size]byte

// appendDigest appends d, or an empty field for the zero digest.
func appendDigest(b []byte, d *digest) []byte {
	if *d == (digest{}) {
		return binenc.AppendCount(b, 0)
	}
	return binenc.AppendBytes(b, d[:])
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
	n := len(p.ClientID) + len(p.UserID) + len(p.GroupID) + len(p.Factor) + len(p.FactorState) + 3*sha256.Size + len(p.Reason) +
		len(p.Source) + len(p.LastOp) + 1
	for _, f := range p.Factors {
		n += len(f)
	}
	for _, kv := range p.Prompts {
		n += len(kv.Key) + len(kv.Value)
	}
	b := make([]byte, 1, 1+len(p.rest)+binenc.Size(18+len(p.Factors)+2*len(p.Prompts), n))
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
	b = appendDigest(b, &p.NonceHash)
	b = binenc.AppendString(b, p.Reason)
	b = binenc.AppendString(b, p.Source)
	b = appendDigest(b, &p.Salt)
	b = binenc.AppendInt(b, int64(p.Seq))
	b = appendDigest(b, &p.LastNonce)
	b = binenc.AppendString(b, p.LastOp)
	b = append(b, p.LastOutcome)
	b = binenc.AppendInt(b, int64(p.Sends))
	b = binenc.AppendInt(b, p.LastSend)
	return append(b, p.rest...)
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
	r.ReadFixed(p.NonceHash[:])
	p.Reason = r.ReadString()
	if version == payloadVersion {
		p.Source = r.ReadString()
		r.ReadFixed(p.Salt[:])
		seq := r.ReadInt()
		r.ReadFixed(p.LastNonce[:])
		p.LastOp = r.ReadString()
		p.LastOutcome = r.ReadUint8()
		sends := r.ReadInt()
		p.LastSend = r.ReadInt()
		p.rest = r.Rest()
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
