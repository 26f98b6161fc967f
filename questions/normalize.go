package questions

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Tidy returns s in Unicode NFKC with white space trimmed and every run of
// white space collapsed to one space: the answer as the user meant it. The
// constraints of a question are checked on this form. Invalid UTF-8 is
// replaced by U+FFFD first, as a JSON decoder would.
func Tidy(s string) string {
	return strings.Join(strings.Fields(norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))), " ")
}

// Normalize returns the form of an answer that is hashed and compared:
// Tidy, then case-folded unless the question is case sensitive (and NFKC
// again, since folding can produce characters NFKC would change).
func Normalize(s string, caseSensitive bool) string {
	t := Tidy(s)
	if caseSensitive {
		return t
	}
	// A Caser keeps state, so it is made per call rather than shared.
	return norm.NFKC.String(foldCherokee(cases.Fold().String(t)))
}

// foldCherokee completes x/text's case folding for Cherokee. Unicode folds
// Cherokee small letters to the capitals, which were encoded first, and the
// capitals to themselves; x/text folds the small letters right but the
// capitals to the small letters (golang/go#46101), so "Ꮖ" and "ꮖ" would
// never compare equal. Mapping the small letters left after folding back to
// capitals gives Unicode's folding.
func foldCherokee(s string) string {
	if !strings.ContainsFunc(s, isCherokeeSmall) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCherokeeSmall(r) {
			return unicode.ToUpper(r)
		}
		return r
	}, s)
}

func isCherokeeSmall(r rune) bool {
	return r >= 0xAB70 && r <= 0xABBF || r >= 0x13F8 && r <= 0x13FD
}

// words splits a normalized text into its words: maximal runs of letters
// and digits.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
