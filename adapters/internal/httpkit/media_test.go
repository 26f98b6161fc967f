package httpkit_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

// TestResponseMediaTypeFollowsRFC9110 checks content negotiation against
// RFC 9110 §12.5.1's rules: the most specific matching range sets a
// type's quality, q=0 excludes, and the request's own type breaks ties
// between types the client accepts equally.
func TestResponseMediaTypeFollowsRFC9110(t *testing.T) {
	supported := []string{"application/json", "application/xml",
		"application/vnd.soa.v80+json", "application/vnd.soa.v80+xml"}
	for _, tc := range []struct {
		name        string
		accept      []string // nil: no Accept header
		contentType string   // the request body's type; "" for none
		want        string   // "" for 406
	}{
		{"no Accept, no body", nil, "", "application/json"},
		{"no Accept, XML body", nil, "application/xml", "application/xml"},
		{"no Accept, versioned body", nil, "application/vnd.soa.v80+xml; charset=utf-8", "application/vnd.soa.v80+xml"},
		{"curl's */* and an XML body", []string{"*/*"}, "application/xml", "application/xml"},
		{"curl's */* and no body", []string{"*/*"}, "", "application/json"},
		{"application/* and an XML body", []string{"application/*"}, "application/xml", "application/xml"},
		{"JSON excluded by q=0", []string{"application/json;q=0, */*"}, "", "application/xml"},
		{"JSON excluded with spaces and case", []string{"Application/JSON ; Q=0 , */*"}, "application/json", "application/xml"},
		{"everything excluded", []string{"*/*;q=0"}, "", ""},
		{"only an unsupported type", []string{"text/html"}, "", ""},
		{"explicit type beats the body's type at equal q", []string{"application/json, */*"}, "application/xml", "application/json"},
		{"explicit type beats a wildcard at equal q", []string{"*/*, application/xml"}, "", "application/xml"},
		{"higher q wins over order", []string{"application/json;q=0.5, application/xml;q=0.9"}, "", "application/xml"},
		{"higher q wins over the body's type", []string{"application/xml;q=0.4, application/json;q=0.8"}, "application/xml", "application/json"},
		{"three decimals", []string{"application/json;q=0.001, application/xml;q=0.002"}, "", "application/xml"},
		{"the most specific range sets q", []string{"application/*;q=0.1, application/json;q=1, */*;q=0.9"}, "application/xml", "application/json"},
		{"type/* outranks */* for quality", []string{"application/*;q=0.2, */*"}, "", "application/json"},
		{"versioned type named outright", []string{"application/vnd.soa.v80+json"}, "", "application/vnd.soa.v80+json"},
		{"several Accept lines", []string{"text/html", "application/xml"}, "", "application/xml"},
		{"parameters besides q are ignored", []string{"application/xml;charset=utf-8;q=0.9;ext=1, application/json;q=0.8"}, "", "application/xml"},
		{"a malformed element is skipped", []string{"garbage, application/xml"}, "", "application/xml"},
		{"a bad q value drops its element", []string{"application/json;q=2, application/xml;q=0.5"}, "", "application/xml"},
		{"q with too many decimals drops its element", []string{"application/json;q=0.0001, application/xml;q=0.1"}, "", "application/xml"},
		{"nothing valid is like no Accept", []string{"garbage"}, "application/xml", "application/xml"},
		{"an empty Accept is like no Accept", []string{""}, "", "application/json"},
		{"*/json is not a range", []string{"*/json"}, "application/xml", "application/xml"},
		{"an unsupported body type does not tie-break", nil, "text/plain", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/", strings.NewReader("x"))
			for _, a := range tc.accept {
				r.Header.Add("Accept", a)
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			got, err := httpkit.ResponseMediaType(r, supported)
			if tc.want == "" {
				if !errors.Is(err, httpkit.ErrNotAcceptable) {
					t.Fatalf("got %q, %v; want ErrNotAcceptable", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzResponseMediaType checks that no Accept header makes negotiation
// panic or answer a type the server does not offer.
func FuzzResponseMediaType(f *testing.F) {
	for _, seed := range []string{"*/*", "application/json;q=0, */*", "application/*;q=0.5", "a/b;q=1.000;x=y", ",,;q=", "*/*;q=0.", "\x00/\xff"} {
		f.Add(seed, "application/xml")
	}
	supported := []string{"application/json", "application/xml"}
	f.Fuzz(func(t *testing.T, accept, contentType string) {
		r := httptest.NewRequest("PUT", "/", nil)
		r.Header.Set("Accept", accept)
		r.Header.Set("Content-Type", contentType)
		got, err := httpkit.ResponseMediaType(r, supported)
		if err != nil && !errors.Is(err, httpkit.ErrNotAcceptable) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil && got != supported[0] && got != supported[1] {
			t.Fatalf("answered %q, which is not offered", got)
		}
	})
}

// BenchmarkResponseMediaType measures negotiation for the common cases:
// curl's "*/*" with a JSON body, and a browser-like list.
func BenchmarkResponseMediaType(b *testing.B) {
	supported := []string{"application/json", "application/xml"}
	for _, accept := range []string{"*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"} {
		b.Run(accept, func(b *testing.B) {
			r := httptest.NewRequest("PUT", "/", nil)
			r.Header.Set("Accept", accept)
			r.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := httpkit.ResponseMediaType(r, supported); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriteAsSetsItsHeadersApart(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Origin")
	if err := httpkit.WriteAs(rec, "application/xml", 200, &httpkit.MethodError{Allow: "GET"}); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	h.Add("Content-Type", "text/plain") // a middleware adding to one must not touch the other
	if got := h.Values("Content-Type"); len(got) != 2 || got[0] != "application/xml" || got[1] != "text/plain" {
		t.Errorf("Content-Type %q", got)
	}
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := h.Values("Vary"); len(got) != 2 || got[0] != "Origin" || got[1] != "Accept, Content-Type" {
		t.Errorf("Vary %q", got)
	}
}
