// Package suitetest shows that a conformance suite catches what it must:
// it runs the suite against an implementation broken in one way, in a
// child test process, and checks which of the suite's cases failed.
package suitetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Bug is one way to break an implementation, and the suite's cases that
// must fail because of it.
type Bug struct {
	Name     string
	MustFail []string
}

// Catches is the whole body of the test named test. In the child process
// (env set to a bug's name) it runs the suite with that bug. Otherwise it
// runs the child once per bug, as a subtest, and fails it unless the
// suite fails each of the bug's MustFail cases.
func Catches(t *testing.T, test, env string, suite func(bug string), bugs []Bug) {
	t.Helper()
	if bug := os.Getenv(env); bug != "" {
		suite(bug)
		return
	}
	for _, b := range bugs {
		t.Run(b.Name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), env+"="+b.Name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an implementation that %s:\n%s", b.Name, out)
			}
			for _, name := range b.MustFail {
				line := "--- FAIL: " + test + "/" + strings.ReplaceAll(name, " ", "_") + " "
				if !strings.Contains(string(out), line) {
					t.Errorf("the suite did not fail %q for an implementation that %s", name, b.Name)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
