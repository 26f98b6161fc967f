package main

import (
	"os"
	"strings"
	"testing"
)

// TestDiagramsAreCurrent fails when a machine changed and docs/diagrams.md
// was not regenerated.
func TestDiagramsAreCurrent(t *testing.T) {
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/diagrams.md")
	if err != nil {
		t.Fatalf("%v; run go generate ./...", err)
	}
	if string(got) != want {
		t.Fatal("docs/diagrams.md differs from what the machines draw; run go generate ./...")
	}
	for _, state := range []string{"credentials_entered --> redirected: redirect", "initiated --> blocked: block", "asked --> verified: verify"} {
		if !strings.Contains(want, state) {
			t.Errorf("the diagrams lack %q", state)
		}
	}
}
