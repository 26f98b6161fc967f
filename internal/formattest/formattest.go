// Package formattest holds a record format to its golden files, so that
// servers of two releases can share a store during a rolling deploy (the
// rule is in package internal/binenc's documentation):
//
//   - every golden file, one per release that changed the format, decodes
//     forever after to the value it was written from;
//   - the current release writes exactly its own golden file, so that a
//     change to the encoding is a new golden file, never an edit;
//   - a record carrying fields a later release appended decodes, and its
//     re-encoding keeps them.
//
// Golden files are written once: a missing file for the current release
// is written when the test runs with CHALLENGEKIT_WRITE_GOLDEN=1, and
// checked in. A file of an earlier release is never written again.
package formattest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Format is one record format and its golden values.
type Format[T any] struct {
	// Dir holds the golden files, named 1.bin, 2.bin, … (Ext instead of
	// .bin if set) in the order the releases that wrote them came out.
	Dir string
	Ext string
	// Encode and Decode are the current release's.
	Encode func(T) []byte
	Decode func([]byte) (T, error)
	// Golden are the values the golden files hold, oldest first, as the
	// current release decodes them (fields a file's release did not have
	// at their zero values). The last is what the current release writes.
	Golden []T
	// Later is what a later release might append to the current format
	// (binenc fields), or nil for a format that has no room for fields of
	// a later release (say why where the Format is declared).
	Later []byte
	// DropsLater is set for a format that reads a record with a later
	// release's fields but does not keep them when it writes the record
	// again (say why where the Format is declared).
	DropsLater bool
}

// Check runs the format's checks as subtests of t.
func Check[T any](t *testing.T, f Format[T]) {
	t.Helper()
	if len(f.Golden) == 0 {
		t.Fatal("formattest: no golden values")
	}
	ext := f.Ext
	if ext == "" {
		ext = ".bin"
	}
	last := len(f.Golden) - 1
	for i, want := range f.Golden {
		name := filepath.Join(f.Dir, fmt.Sprint(i+1, ext))
		t.Run(filepath.Base(name)+" decodes", func(t *testing.T) {
			data, err := os.ReadFile(name)
			if errors.Is(err, os.ErrNotExist) && i == last && os.Getenv("CHALLENGEKIT_WRITE_GOLDEN") == "1" {
				data = f.Encode(want)
				if err := os.WriteFile(name, data, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s: check it in", name)
			} else if err != nil {
				t.Fatalf("%v (the current release's file is written with CHALLENGEKIT_WRITE_GOLDEN=1; an earlier release's never is)", err)
			}
			got, err := f.Decode(data)
			if err != nil {
				t.Fatalf("%s no longer decodes: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s decodes to\n%#v\nwant\n%#v", name, got, want)
			}
			if i == last {
				if enc := f.Encode(want); !bytes.Equal(enc, data) {
					t.Fatalf("this release writes\n%x\nnot its golden file %s\n%x\nA change of format is a new golden file (and value), never an edit of one.", enc, name, data)
				}
			}
		})
	}
	if f.Later != nil {
		t.Run("a later release's fields are kept", func(t *testing.T) {
			newer := append(f.Encode(f.Golden[last]), f.Later...)
			got, err := f.Decode(newer)
			if err != nil {
				t.Fatalf("a record with fields appended by a later release: %v", err)
			}
			if f.DropsLater {
				if !reflect.DeepEqual(got, f.Golden[last]) {
					t.Fatalf("a record with a later release's fields decodes to\n%#v\nwant\n%#v", got, f.Golden[last])
				}
				return
			}
			if again := f.Encode(got); !bytes.Equal(again, newer) {
				t.Fatalf("re-encoded, a record with a later release's fields is\n%x\nwant it unchanged\n%x", again, newer)
			}
		})
	}
}

// EncodeJSON and DecodeJSON are Encode and Decode for a format that is
// JSON (encoding/json).
func EncodeJSON[T any](v T) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("formattest: %T does not encode: %v", v, err))
	}
	return b
}

// DecodeJSON: see EncodeJSON.
func DecodeJSON[T any](b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}
