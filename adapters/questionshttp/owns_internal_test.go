package questionshttp

import "testing"

// FuzzOwnsAsTheCleanedPathSays: the allocation-free answer for a clean
// path is the one the cleaning path gives.
func FuzzOwnsAsTheCleanedPathSays(f *testing.F) {
	for _, s := range []string{"", "/", "/api/users/u1/challenges", "/api/businesses/b/challenges", "/API/users/u1/challenges",
		"/api/Users/u1/challenges", "/api/users//challenges", "/api/users/u1/challenges/x", "/api/users/u1", "/api/users/u1/Challenges",
		"/api/other/u1/challenges", "/authn/v1", "//api/users/u1/challenges", "/api/users/u1/challenges/", "/api/users/../users/u/challenges"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		o1, c1 := owns(p)
		o2, c2 := ownsAnyPath(p)
		if o1 != o2 || c1 != c2 {
			t.Fatalf("owns(%q) = %v, %v; the cleaning path says %v, %v", p, o1, c1, o2, c2)
		}
	})
}

func TestOwnsAllocatesNothingForUsualPaths(t *testing.T) {
	for _, p := range []string{"/api/users/u1/challenges", "/api/businesses/acme/challenges", "/authn/v1", "/v1/psd2/challenges/x"} {
		if n := testing.AllocsPerRun(100, func() { owns(p) }); n != 0 {
			t.Errorf("owns(%q): %v allocations", p, n)
		}
	}
}
