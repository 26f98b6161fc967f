package recovery

import (
	"crypto/sha256"
	"fmt"

	"github.com/challengekit/challengekit/internal/binenc"
)

// set is a user's record: the generation of the set (1 for the first,
// one more for each set that replaced it) and its codes. It holds no code,
// only hashes.
type set struct {
	Generation int64
	Codes      []entry
	rest       string // fields a later release appended, kept as they are
}

// entry is one code of a set.
type entry struct {
	Hash [sha256.Size]byte
	Used bool
	By   string // the transaction that used it; empty if unused
}

// setVersion leads every encoded set. Version 1 is: the generation, the
// number of codes, and for each its hash, whether it was used and by
// which transaction; then what a later release appended.
const setVersion = 1

// minEntry is the least an encoded entry takes: a hash with its length,
// a bool and an empty string's length.
const minEntry = 1 + sha256.Size + 1 + 1

func (s *set) unused() int {
	n := 0
	for _, e := range s.Codes {
		if !e.Used {
			n++
		}
	}
	return n
}

func (s *set) encode() []byte {
	b := make([]byte, 0, 24+len(s.Codes)*(minEntry+32)+len(s.rest))
	b = append(b, setVersion)
	b = binenc.AppendInt(b, s.Generation)
	b = binenc.AppendCount(b, len(s.Codes))
	for _, e := range s.Codes {
		b = binenc.AppendBytes(b, e.Hash[:])
		b = binenc.AppendBool(b, e.Used)
		b = binenc.AppendString(b, e.By)
	}
	return append(b, s.rest...)
}

func decodeSet(data []byte) (set, error) {
	r := binenc.NewReader(data, setVersion)
	s := set{Generation: r.ReadInt()}
	n := r.ReadCount(minEntry)
	if n > 0 {
		s.Codes = make([]entry, n)
	}
	for i := range s.Codes {
		e := &s.Codes[i]
		h := r.ReadString()
		if r.Err() == nil && len(h) != sha256.Size {
			return set{}, fmt.Errorf("%w: a hash of %d bytes", binenc.ErrCorrupt, len(h))
		}
		copy(e.Hash[:], h)
		e.Used = r.ReadBool()
		e.By = r.ReadString()
	}
	s.rest = r.Rest()
	if err := r.Err(); err != nil {
		return set{}, err
	}
	if s.Generation < 1 {
		return set{}, fmt.Errorf("%w: generation %d", binenc.ErrCorrupt, s.Generation)
	}
	for _, e := range s.Codes {
		if e.By != "" && !e.Used {
			return set{}, fmt.Errorf("%w: an unused code with a user", binenc.ErrCorrupt)
		}
	}
	return s, nil
}
