// Package binenc is the compact binary encoding that flows and stores use
// for what they keep in records: a version byte chosen by the caller, then
// fields in a fixed order, strings and byte slices as a uvarint length and
// their bytes, integers as varints. It is several times cheaper than JSON
// on paths budgeted in microseconds, and a decoder never panics on
// corrupt input: it reports it.
//
// # Evolving a format
//
// Servers of two releases share one store during a rolling deploy, so
// each release reads what the other writes. The rule:
//
//   - Within a version, a release only appends fields. A decoder reads a
//     field that was appended after its version's first release only if
//     [Reader.More] says the record goes on (a record of an earlier
//     release ends before it).
//   - A decoder keeps what follows the fields it knows ([Reader.Rest]),
//     and its encoder appends that unchanged: a record written by a later
//     release and then updated by an earlier one keeps the later fields.
//   - An appended field must be safe to find missing (records of earlier
//     releases lack it) or stale (an earlier release keeps it without
//     updating it).
//   - Anything else (removing, reordering or changing the meaning of a
//     field) takes a new version byte, deployed in two steps: first a
//     release that reads the new version, then one that writes it.
//
// Each format keeps golden files of what every release wrote, and a test
// decodes every one of them (see internal/formattest).
package binenc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt is what a [Reader] reports for input it cannot decode.
var ErrCorrupt = errors.New("corrupt encoding")

// AppendString appends s with its length.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends v with its length.
func AppendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// AppendStrings appends a count and each string.
func AppendStrings(b []byte, list []string) []byte {
	b = AppendCount(b, len(list))
	for _, s := range list {
		b = AppendString(b, s)
	}
	return b
}

// AppendInt appends v as a varint.
func AppendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendBool appends v as one byte.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Size is an upper bound of the encoded size of strings of these lengths
// and n integers, for sizing a buffer once.
func Size(n int, lengths ...int) int {
	size := n * binary.MaxVarintLen64
	for _, l := range lengths {
		size += binary.MaxVarintLen64 + l
	}
	return size
}

// Reader decodes what the Append functions wrote. The first error sticks:
// every later read returns a zero value, and [Reader.Err] reports it.
//
// The input is copied once, into a string, when the Reader is made:
// strings read from it share that copy and cost no allocation, so the
// Reader does not keep the caller's slice.
type Reader struct {
	s   string
	err error
}

// NewReader returns a Reader over b, which must start with version.
// It is a value, so that decoding does not allocate a Reader; use it
// through its address (r := NewReader(…); r.ReadString() does).
func NewReader(b []byte, version byte) Reader { return NewStringReader(string(b), version) }

// NewStringReader is NewReader over a string, which it shares instead of
// copying (strings are immutable).
func NewStringReader(s string, version byte) Reader {
	if len(s) == 0 || s[0] != version {
		return Reader{err: fmt.Errorf("%w: unknown version", ErrCorrupt)}
	}
	return Reader{s: s[1:]}
}

func (r *Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
		r.s = ""
	}
}

func (r *Reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	// binary.Uvarint wants bytes; hand it at most MaxVarintLen64 of them
	// (a stack array: the input stays a string).
	var buf [binary.MaxVarintLen64]byte
	n := copy(buf[:], r.s)
	v, k := binary.Uvarint(buf[:n])
	if k <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.s = r.s[k:]
	return v
}

// ReadString reads a string.
func (r *Reader) ReadString() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)) {
		r.fail("truncated field")
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

// ReadBytes reads a byte slice: a fresh copy, or nil if it is empty.
func (r *Reader) ReadBytes() []byte {
	s := r.ReadString()
	if s == "" {
		return nil
	}
	return []byte(s)
}

// ReadInt reads a varint: a zig-zag encoded uvarint, as binary.Varint
// decodes it.
func (r *Reader) ReadInt() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// ReadCount reads a length that announces that many items of at least min
// bytes each, and refuses one the rest of the input cannot hold, so that a
// corrupt length cannot make the caller allocate without bound.
func (r *Reader) ReadCount(min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.s)/max(min, 1)) {
		r.fail("count %d exceeds the input", n)
		return 0
	}
	return int(n)
}

// AppendCount appends the number of items that follow.
func AppendCount(b []byte, n int) []byte { return binary.AppendUvarint(b, uint64(n)) }

// ReadStrings reads what AppendStrings wrote: nil for an empty list.
func (r *Reader) ReadStrings() []string {
	n := r.ReadCount(1)
	if n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = r.ReadString()
	}
	return list
}

// ReadBool reads a bool.
func (r *Reader) ReadBool() bool {
	if r.err != nil {
		return false
	}
	if len(r.s) == 0 || r.s[0] > 1 {
		r.fail("bad bool")
		return false
	}
	v := r.s[0] == 1
	r.s = r.s[1:]
	return v
}

// ReadFixed reads a field that is either empty, leaving dst as it is, or
// exactly len(dst) bytes, which it copies into dst; any other length is
// corrupt. It allocates nothing: for digests and keys kept in arrays.
func (r *Reader) ReadFixed(dst []byte) {
	s := r.ReadString()
	switch {
	case r.err != nil || len(s) == 0:
	case len(s) != len(dst):
		r.fail("field of %d bytes where %d belong", len(s), len(dst))
	default:
		copy(dst, s)
	}
}

// ReadUint8 reads one byte, as append(b, v) wrote it.
func (r *Reader) ReadUint8() uint8 {
	if r.err != nil {
		return 0
	}
	if len(r.s) == 0 {
		r.fail("truncated byte")
		return 0
	}
	v := r.s[0]
	r.s = r.s[1:]
	return v
}

// More reports whether input is left after the fields read so far, and
// no error: whether a record goes on to a field its format appended after
// the record's release (see "Evolving a format").
func (r *Reader) More() bool { return r.err == nil && len(r.s) > 0 }

// Rest returns, and consumes, the input left after the fields read so
// far: the fields a later release appended, for the encoder to write back
// unchanged. It is "" after an error.
func (r *Reader) Rest() string {
	rest := r.s
	r.s = ""
	return rest
}

// Err returns the first error. Input left after the fields read is not an
// error: it is fields a later release appended (see [Reader.Rest]).
func (r *Reader) Err() error { return r.err }
