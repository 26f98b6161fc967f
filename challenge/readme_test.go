package challenge_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStartIsTheExample keeps README.md's quick start equal to
// the runnable Example in example_test.go, so the README cannot rot.
func TestReadmeQuickStartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	quick := regexp.MustCompile("(?s)<!-- quickstart -->\n```go\n(.*?)```\n<!-- /quickstart -->").FindSubmatch(readme)
	if quick == nil {
		t.Fatal("README.md has no quick start block between <!-- quickstart --> markers")
	}
	readmeBody := between(t, string(quick[1]), "func main() {\n", "\n}\n")
	exampleBody := between(t, string(example), "func Example() {\n", "\t// Output:")
	if strings.TrimSpace(readmeBody) != strings.TrimSpace(exampleBody) {
		t.Errorf("README.md's quick start differs from Example in example_test.go\nREADME:\n%s\nExample:\n%s", readmeBody, exampleBody)
	}
}

func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, after, ok := strings.Cut(s, start)
	if !ok {
		t.Fatalf("no %q", start)
	}
	body, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("no %q after %q", end, start)
	}
	return body
}
