package httpkit

import "testing"

var pathSeeds = []string{"", "/", "/authn/v1", "/authn/v1/", "/AUTHN/v1", "/authn/v1/x", "/authn/v10", "/authn", "//authn/v1",
	"/authn/./v1", "/authn/v1/..", "/v1/psd2/challenges/abc", "/V1/Psd2", "/other", "authn/v1", "/authn/v1?x", "/a/../authn/v1"}

// FuzzUnderPrefixAsTheCleanedPathSays: the allocation-free answer for a
// clean path is the one the cleaning path gives.
func FuzzUnderPrefixAsTheCleanedPathSays(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, prefix := range []string{"/authn/v1", "/v1/psd2"} {
			o1, c1 := UnderPrefix(p, prefix)
			o2, c2 := underPrefix(p, prefix)
			if o1 != o2 || c1 != c2 {
				t.Fatalf("UnderPrefix(%q, %q) = %v, %v; the cleaning path says %v, %v", p, prefix, o1, c1, o2, c2)
			}
		}
	})
}

func TestUnderPrefixAllocatesNothingForUsualPaths(t *testing.T) {
	for _, p := range []string{"/authn/v1", "/v1/psd2/challenges/abc", "/api/users/x/challenges", "/livez"} {
		if n := testing.AllocsPerRun(100, func() { UnderPrefix(p, "/authn/v1") }); n != 0 {
			t.Errorf("UnderPrefix(%q): %v allocations", p, n)
		}
	}
}
