package psd2_test

import (
	"testing"

	"github.com/challengekit/challengekit/psd2"
)

func TestRedirectBase(t *testing.T) {
	r, err := psd2.NewRedirectBase("https://bank.example/consent?lang=de", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.RedirectURL("a+b/c"); got != "https://bank.example/consent?lang=de&consent_challenge=a%2Bb%2Fc" {
		t.Fatalf("RedirectURL = %s", got)
	}
	local, err := psd2.NewRedirectBase("http://127.0.0.1:8080/consent", "ticket")
	if err != nil {
		t.Fatalf("loopback http refused: %v", err)
	}
	if got := local.RedirectURL("t"); got != "http://127.0.0.1:8080/consent?ticket=t" {
		t.Fatalf("RedirectURL = %s", got)
	}
	for _, bad := range []string{"", "/consent", "http://bank.example/consent", "https://user:pw@bank.example/", "https://bank.example/#frag", "javascript:alert(1)",
		"https://bank.example/consent?consent_challenge=fixed"} {
		if _, err := psd2.NewRedirectBase(bad, ""); err == nil {
			t.Errorf("NewRedirectBase(%q) accepted", bad)
		}
	}
}
