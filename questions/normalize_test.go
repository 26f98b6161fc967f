package questions_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/challengekit/challengekit/questions"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in            string
		caseSensitive bool
		want          string
	}{
		{"  New \t York\n ", false, "new york"},
		{"  New \t York\n ", true, "New York"},
		{"Ｄｕｂａｉ", false, "dubai"},           // full-width letters: NFKC
		{"ﬁsh", true, "fish"},               // ligature: NFKC
		{"Straße", false, "strasse"},        // full case folding, not ToLower
		{"ΣΊΣΥΦΟΣ", false, "σίσυφοσ"},       // folding is context-free, unlike ToLower
		{"Cafe\u0301", false, "café"},       // combining accent composed
		{"\u00a0Blue\u2003", false, "blue"}, // non-breaking and em spaces are spaces
		{"", false, ""},
		{"ꮖꭰ", false, "ᏆᎠ"}, // Cherokee small letters fold to the capitals…
		{"ᏆᎠ", false, "ᏆᎠ"}, // …and the capitals to themselves (golang/go#46101)
	} {
		if got := questions.Normalize(tc.in, tc.caseSensitive); got != tc.want {
			t.Errorf("Normalize(%q, %v) = %q, want %q", tc.in, tc.caseSensitive, got, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"Dubai", "Blue", "Bucktastic", "  New \t York ", "Straße", "ﬁ", "\xff\xfe", "İstanbul"} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, s string, caseSensitive bool) {
		n := questions.Normalize(s, caseSensitive)
		if again := questions.Normalize(n, caseSensitive); again != n {
			t.Fatalf("Normalize is not idempotent on %q: %q then %q", s, n, again)
		}
		if strings.TrimSpace(n) != n || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q keeps outer or doubled spaces", s, n)
		}
		if caseSensitive {
			return
		}
		if up, low := questions.Normalize(strings.ToUpper(s), false), questions.Normalize(strings.ToLower(s), false); up != low && utf8.ValidString(s) {
			// Not every pair of case mappings folds alike (ToUpper("ǆ")
			// is "Ǆ", but title case ǅ exists too), so only single runes whose
			// simple mappings are inverse of each other are held to it.
			if r := []rune(s); len(r) == 1 && unicode.ToLower(unicode.ToUpper(r[0])) == r[0] {
				t.Fatalf("%q: upper %q and lower %q normalize differently", s, up, low)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, n)
		}
	})
}
