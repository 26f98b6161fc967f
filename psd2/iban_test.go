package psd2_test

import (
	"strings"
	"testing"

	"github.com/challengekit/challengekit/psd2"
)

func TestNormalizeIBAN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"DE89370400440532013000", "DE89370400440532013000"},
		{"DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"NO9386011117947", "NO9386011117947"},                                 // the shortest, 15
		{"MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"}, // letters in the account part
	} {
		if got, ok := psd2.NormalizeIBAN(tc.in); !ok || got != tc.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{
		"", "DE88370400440532013000", "DE8937040044053201300", "DE89-3704-0044-0532-0130-00",
		"1E89370400440532013000", "DEX9370400440532013000", "NO938601111794", strings.Repeat("1", 35),
		"DE89370400440532013000\u00a0", "DE89\t370400440532013000",
	} {
		if got, ok := psd2.NormalizeIBAN(bad); ok {
			t.Errorf("NormalizeIBAN(%q) = %q, true; want false", bad, got)
		}
	}
}

func FuzzNormalizeIBAN(f *testing.F) {
	for _, seed := range []string{"DE02120300000000202051", "DE02 5001 0517 0137 0750 30", "gb82west12345698765432", "", "DE00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := psd2.NormalizeIBAN(in)
		if !ok {
			return
		}
		if strings.ContainsAny(out, " ") || strings.ToUpper(out) != out || len(out) < 15 || len(out) > 34 {
			t.Fatalf("NormalizeIBAN(%q) = %q: not in electronic form", in, out)
		}
		if again, ok := psd2.NormalizeIBAN(out); !ok || again != out {
			t.Fatalf("NormalizeIBAN is not idempotent on %q: %q, %v", out, again, ok)
		}
	})
}
