package layers_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/challengekit/challengekit"

// may lists, for every library package of the module, the packages of
// the module it may import (paths relative to the module). A package not
// listed fails the test: a new package is a decision about its layer.
// Programs (examples/…, cmd/…, internal/gendiagrams) may import any
// library package, but no program.
var may = map[string][]string{
	// The core and its test kits.
	"challenge":               nil,
	"challenge/challengetest": {"challenge"},
	"challenge/storetest":     {"challenge", "challenge/challengetest"},
	"challenge/limitertest":   {"challenge", "challenge/challengetest"},

	// The flows: the core only, never each other.
	"psd2":      {"challenge", "internal/binenc"},
	"authn":     {"challenge", "internal/binenc"},
	"questions": {"challenge", "internal/binenc"},

	// authn's factors: authn and the core, never another flow or factor.
	"authn/totp":       {"authn", "challenge"},
	"authn/otpcode":    {"authn", "challenge"},
	"authn/push":       {"authn"},
	"authn/kba":        {"authn", "challenge", "internal/binenc"},
	"authn/recovery":   {"authn", "challenge", "internal/binenc"},
	"authn/passkey":    {"authn", "challenge", "internal/binenc"},
	"authn/factortest": {"authn", "challenge", "challenge/challengetest"},

	// The adapters: each HTTP package serves its own flow.
	"adapters/internal/httpkit":     {"challenge"},
	"adapters/internal/httpkittest": {"adapters/internal/httpkit"},
	"adapters/psd2http":             {"challenge", "psd2", "adapters/internal/httpkit"},
	"adapters/authnhttp":            {"challenge", "authn", "adapters/internal/httpkit"},
	"adapters/questionshttp":        {"challenge", "questions", "adapters/internal/httpkit"},
	"adapters/httpapi":              {"adapters/psd2http", "adapters/authnhttp", "adapters/questionshttp"},
	"adapters/redisstore":           {"challenge", "internal/binenc"},
	"adapters/pgstore":              {"challenge"},
	"adapters/internal/httpstatus":  nil,
	"adapters/metrics":              {"challenge", "adapters/internal/httpstatus"},
	"adapters/tracing":              {"challenge", "adapters/internal/httpstatus"},

	// Helpers of the module's own, below everything.
	"internal/binenc":       nil,
	"internal/formattest":   nil,
	"internal/suitetest":    nil,
	"internal/netfault":     nil,
	"internal/servicetest":  nil,
	"internal/fleetstores":  {"challenge", "adapters/redisstore", "adapters/pgstore", "internal/servicetest"},
	"internal/bareserver":   nil,
	"internal/layers":       nil,
	"internal/webauthntest": nil,
	"internal/totpsteps":    nil,
}

// mustNotNeed lists dependencies, direct or not, a package must not pull
// in: serving PSD2 compiles no password hashing and no OTP library, and
// no flow knows HTTP.
var mustNotNeed = map[string][]string{
	"challenge":         {"net/http", "go.opentelemetry.io"},
	"psd2":              {"net/http", "golang.org/x/crypto/argon2", "github.com/pquerna/otp", "go.opentelemetry.io"},
	"authn":             {"net/http", "golang.org/x/crypto/argon2", "github.com/pquerna/otp", "go.opentelemetry.io"},
	"questions":         {"net/http", "github.com/pquerna/otp", "go.opentelemetry.io"},
	"adapters/psd2http": {"golang.org/x/crypto/argon2", "github.com/pquerna/otp"},
}

func isProgram(p string) bool {
	return strings.HasPrefix(p, "examples/") || strings.HasPrefix(p, "cmd/") || p == "internal/gendiagrams"
}

// goList runs go list over the module and returns, per package (relative
// path), what the template lists.
func goList(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")] = fields[1:]
	}
	return pkgs
}

func TestEveryPackageImportsOnlyItsLayers(t *testing.T) {
	pkgs := goList(t, "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...")
	for pkg, imports := range pkgs {
		allowed, listed := may[pkg]
		if !listed && !isProgram(pkg) {
			t.Errorf("%s is in no layer: add it to may, with what it may import", pkg)
			continue
		}
		for _, imp := range imports {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			switch {
			case isProgram(rel):
				t.Errorf("%s imports the program %s", pkg, rel)
			case isProgram(pkg):
			case !slices.Contains(allowed, rel):
				t.Errorf("%s imports %s, which its layer does not allow", pkg, rel)
			}
		}
	}
	for pkg := range may {
		if _, ok := pkgs[pkg]; !ok {
			t.Errorf("may lists %s, which is no package of the module", pkg)
		}
	}
}

func TestPackagesDoNotNeedWhatTheyShouldNot(t *testing.T) {
	for pkg, banned := range mustNotNeed {
		deps := goList(t, "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg)
		for dep := range deps {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
