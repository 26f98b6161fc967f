// Command gendiagrams writes docs/diagrams.md: the Mermaid state diagram
// of every challenge machine, drawn from the machines themselves. Run it
// with `go generate ./...`; a test fails when the file is out of date.
package main

//go:generate go run . -o ../../docs/diagrams.md

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
	"github.com/challengekit/challengekit/questions"
)

// machines are the diagrams, in the order the document shows them.
var machines = []struct {
	title, about string
	def          func() challenge.Definition
}{
	{"PSD2 consent challenge (`psd2`)", "`fail` is also the lock event: the IBAN mismatch that exhausts the attempt budget fires it.", psd2.Definition},
	{"Factor transaction (`authn`)", "`block` is the lock event; `authenticate` from `initiated` is allowed for non-passive factors only (the service checks).", authn.Definition},
	{"Security-question verification (`questions`)", "Also run by the authn factor `ChallengeKBA`. `lock` is the lock event.", questions.VerificationDefinition},
}

// render returns the document.
func render() (string, error) {
	var b strings.Builder
	b.WriteString("# State diagrams\n\n")
	b.WriteString("<!-- Generated from the machines by `go generate ./...` (internal/gendiagrams). Do not edit. -->\n\n")
	b.WriteString("Each diagram is drawn by looplab/fsm from the machine's own transition table; `[*]` marks the initial state and the final ones. Every non-final state also has an `expire` transition, which the engine fires once `ExpiresAt` has passed.\n")
	for _, m := range machines {
		machine, err := challenge.NewMachine(m.def())
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n```mermaid\n%s```\n", m.title, m.about, machine.Mermaid())
	}
	return b.String(), nil
}

func main() {
	out := flag.String("o", "", "file to write (default: standard output)")
	flag.Parse()
	doc, err := render()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendiagrams:", err)
		os.Exit(1)
	}
	if *out == "" {
		fmt.Print(doc)
		return
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendiagrams:", err)
		os.Exit(1)
	}
}
