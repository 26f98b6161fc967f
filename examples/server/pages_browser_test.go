package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium to drive: skipped without one, or failed
// with CHALLENGEKIT_REQUIRE_SERVICES=1 (as in CI, which installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CHALLENGEKIT_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is required (CHALLENGEKIT_REQUIRE_SERVICES=1) to drive the demo pages in a browser: apt-get install chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); set CHALLENGEKIT_REQUIRE_SERVICES=1 to make this a failure")
	return ""
}

// TestPagesInABrowser runs the consent dance in headless Chromium, which
// enforces the pages' Content-Security-Policy and SameSite cookies as a
// person's browser would, and keeps a screenshot of the TPP's last page.
func TestPagesInABrowser(t *testing.T) {
	path := chromium(t)
	e := newPageEnv(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.base+"/demo/tpp"),
		chromedp.WaitVisible(chromedp.ID("iban")),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("input[name=person]")),
	)
	if err != nil {
		t.Fatalf("browser, on to the partner's login: %v", err)
	}
	person, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("input[name=person]:checked"), "value"))
	if err != nil {
		t.Fatalf("browser, the chosen person: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), e.code()),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("status")),
	)
	if err != nil {
		t.Fatalf("browser, through the bank's consent: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if err != nil {
		t.Fatalf("browser, the TPP's status: %v", err)
	}
	// The stylesheet loaded under the CSP: the status is green.
	color, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("status")).color`))
	if err != nil {
		t.Fatalf("browser, the status's color: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: a PNG
	if err != nil {
		t.Fatalf("browser, screenshot: %v", err)
	}
	if person.Value != "p-alice" || !strings.Contains(status, "authorized") {
		t.Errorf("logged in as %q; the TPP page says %q", person.Value, status)
	}
	if color != "rgb(31, 122, 77)" {
		t.Errorf("the status's color is %q: the stylesheet did not apply", color)
	}
	dir, err := os.MkdirTemp("", "challengekit-pages-")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "authorized.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}
