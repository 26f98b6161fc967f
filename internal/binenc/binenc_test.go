package binenc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/challengekit/challengekit/internal/binenc"
)

func encode(s string, b []byte, n int64, ok bool, items []string) []byte {
	out := []byte{7}
	out = binenc.AppendString(out, s)
	out = binenc.AppendBytes(out, b)
	out = binenc.AppendInt(out, n)
	out = binenc.AppendBool(out, ok)
	return binenc.AppendStrings(out, items)
}

func TestRoundTrip(t *testing.T) {
	in := encode("héllo", []byte{0, 1, 2}, -1234567, true, []string{"a", "", "ccc"})
	v, err := decode(in)
	if err != nil {
		t.Fatal(err)
	}
	s, b, n, ok, items := v.s, v.b, v.n, v.ok, v.items
	if s != "héllo" || !bytes.Equal(b, []byte{0, 1, 2}) || n != -1234567 || !ok || len(items) != 3 || items[2] != "ccc" {
		t.Fatalf("got %q %v %d %v %q", s, b, n, ok, items)
	}
	in[2] = 'X' // the Reader copied its input
	if s != "héllo" || b[0] != 0 {
		t.Fatal("decoded values alias the input")
	}
}

func TestCorruptInputIsReportedNotPanicked(t *testing.T) {
	good := encode("abc", []byte("xyz"), 5, false, []string{"q"})
	for name, in := range map[string][]byte{
		"empty":         nil,
		"wrong version": append([]byte{8}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"huge length":   {7, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad bool":      append(binenc.AppendInt(binenc.AppendBytes(binenc.AppendString([]byte{7}, ""), nil), 0), 2),
	} {
		if _, err := decode(in); !errors.Is(err, binenc.ErrCorrupt) {
			t.Errorf("%s: %v; want ErrCorrupt", name, err)
		}
	}
}

func TestCountCannotExceedTheInput(t *testing.T) {
	in := binenc.AppendCount([]byte{7}, 1<<40)
	r := binenc.NewReader(in, 7)
	if n := r.ReadCount(1); n != 0 || !errors.Is(r.Err(), binenc.ErrCorrupt) {
		t.Fatalf("count %d, err %v", n, r.Err())
	}
}

func FuzzReader(f *testing.F) {
	f.Add(encode("abc", []byte("xyz"), 5, true, []string{"q", "r"}))
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, in []byte) {
		decoded, err := decode(in)
		if err != nil {
			if !errors.Is(err, binenc.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		// What decodes must survive a round trip (input may have used
		// longer varints than the encoder writes).
		again, err := decode(encode(decoded.s, decoded.b, decoded.n, decoded.ok, decoded.items))
		if err != nil || again.s != decoded.s || !bytes.Equal(again.b, decoded.b) || again.n != decoded.n ||
			again.ok != decoded.ok || len(again.items) != len(decoded.items) {
			t.Fatalf("round trip of %x: %+v, %v; was %+v", in, again, err, decoded)
		}
	})
}

type fields struct {
	s     string
	b     []byte
	n     int64
	ok    bool
	items []string
}

func decode(in []byte) (fields, error) {
	r := binenc.NewReader(in, 7)
	var v fields
	v.s, v.b, v.n, v.ok = r.ReadString(), r.ReadBytes(), r.ReadInt(), r.ReadBool()
	v.items = r.ReadStrings()
	return v, r.Err()
}

func TestUint8RoundTripsAndReportsTruncation(t *testing.T) {
	r := binenc.NewReader([]byte{7, 0xfe}, 7)
	if v := r.ReadUint8(); v != 0xfe || r.Err() != nil {
		t.Fatalf("ReadUint8 = %#x, %v", v, r.Err())
	}
	if v := r.ReadUint8(); v != 0 || !errors.Is(r.Err(), binenc.ErrCorrupt) {
		t.Fatalf("ReadUint8 past the end = %#x, %v; want ErrCorrupt", v, r.Err())
	}
}

func TestFixedFieldsAreEmptyOrWhole(t *testing.T) {
	var key [4]byte
	b := binenc.AppendBytes(binenc.AppendBytes([]byte{7}, []byte("abcd")), nil)
	r := binenc.NewReader(b, 7)
	r.ReadFixed(key[:])
	var empty [4]byte
	r.ReadFixed(empty[:])
	if key != [4]byte{'a', 'b', 'c', 'd'} || empty != [4]byte{} || r.Err() != nil {
		t.Fatalf("read %q and %q, %v", key, empty, r.Err())
	}
	r = binenc.NewReader(binenc.AppendBytes([]byte{7}, []byte("abc")), 7)
	r.ReadFixed(key[:])
	if !errors.Is(r.Err(), binenc.ErrCorrupt) {
		t.Fatalf("a field of 3 bytes for 4: %v; want ErrCorrupt", r.Err())
	}
}

// TestFieldsOfALaterReleaseAreKept: a record with fields appended after
// the ones a decoder knows decodes, and hands them back to be written
// again; a record of an earlier release, without them, says so.
func TestFieldsOfALaterReleaseAreKept(t *testing.T) {
	known := encode("abc", []byte("xyz"), 5, true, []string{"q"})
	later := binenc.AppendInt(binenc.AppendString(append([]byte(nil), known...), "a field of a later release"), 42)
	r := binenc.NewReader(later, 7)
	r.ReadString()
	r.ReadBytes()
	r.ReadInt()
	r.ReadBool()
	r.ReadStrings()
	if !r.More() {
		t.Fatal("More = false with a later release's fields left")
	}
	rest := r.Rest()
	if r.Err() != nil || rest != string(later[len(known):]) || r.More() {
		t.Fatalf("Rest = %q, Err = %v, More after = %v; want the later fields, no error, nothing more", rest, r.Err(), r.More())
	}
	if got := append(append([]byte(nil), known...), rest...); !bytes.Equal(got, later) {
		t.Fatal("the known fields and the rest do not make the record again")
	}
	r = binenc.NewReader(known, 7)
	r.ReadString()
	r.ReadBytes()
	r.ReadInt()
	r.ReadBool()
	r.ReadStrings()
	if r.More() || r.Rest() != "" {
		t.Fatal("a record without later fields says it has some")
	}
	bad := binenc.NewReader([]byte{8}, 7)
	if bad.More() || bad.Rest() != "" {
		t.Fatal("a Reader in error says it has more")
	}
}
