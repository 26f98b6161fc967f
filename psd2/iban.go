package psd2

import "strings"

// NormalizeIBAN checks iban against ISO 13616 (two-letter country code, two
// check digits, an alphanumeric account part, 15 to 34 characters in all,
// and the mod-97 checksum) and returns it in electronic form: without
// spaces, in upper case. It reports false for anything else.
func NormalizeIBAN(iban string) (string, bool) {
	if len(iban) > 64 { // 34 characters, generously spaced
		return "", false
	}
	var b [34]byte
	n := 0
	for i := 0; i < len(iban); i++ {
		c := iban[i]
		switch {
		case c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return "", false
		}
		if n == len(b) {
			return "", false
		}
		b[n] = c
		n++
	}
	s := b[:n]
	if n < 15 || !isLetter(s[0]) || !isLetter(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return "", false
	}
	// Move the first four characters to the end, read letters as 10..35,
	// and take the whole number mod 97, one digit at a time.
	rem := 0
	for i := range n {
		c := s[(i+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	if rem != 1 {
		return "", false
	}
	return strings.Clone(string(s)), true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
