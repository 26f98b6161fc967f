package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/challengekit/challengekit/internal/servicetest"
)

// TestAttacksAgainstAFleet runs every attack, briefly, against two example
// servers on a private Redis, and checks what must hold whatever the
// timing: the victim is always answered and logs in during the flood, a
// user's failures meet one cap fleet-wide, a transaction's codes are
// limited, and every write repeated after Redis ran again answers its
// true outcome.
func TestAttacksAgainstAFleet(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if servicetest.Required() {
			t.Fatal("redis-server is required to attack a fleet")
		}
		t.Skip("redis-server is not installed")
	}
	if testing.Short() {
		t.Skip("-short: the attacks take half a minute")
	}
	ctx := context.Background()
	var log bytes.Buffer
	f, err := startFleet(ctx, "", &log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.stop()
	const d = 3 * time.Second

	fl, err := flood(ctx, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if fl.victimAnswered != fl.victimAsked || fl.loginErr != nil || fl.refused == 0 || fl.started > 32 {
		t.Errorf("flood: %+v; want alice answered every time and logged in, the stranger throttled past its burst of 30 and one start every 2 s", fl)
	}
	g, err := guess(ctx, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if g.evaluated+g.botnet != 100 || g.evaluated > 8 || g.victim == nil {
		t.Errorf("guess: %+v; want at most 8 from one address in 3 s, 100 in all, then the user refused", g)
	}
	p, err := pump(ctx, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if p.sent != 1 || p.sent+p.more != 5 {
		t.Errorf("pump: %+v; want 1 code in 3 s on one transaction, 5 to the address in all", p)
	}
	pa, err := pause(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pa.cases {
		if c.during.status != 503 && c.during.status/100 != 2 || c.retried.status/100 != 2 {
			t.Errorf("pause: %s answered %d %s, then %d %s; want 503 (or success), then success", c.name,
				c.during.status, c.during.code(), c.retried.status, c.retried.code())
		}
	}
	if pa.final != "authorized" {
		t.Errorf("the challenge whose second factor was reported during the pause is %s", pa.final)
	}
	for _, c := range pa.held {
		if c.during.status != 503 || !strings.Contains(strings.ToLower(c.during.code()), "outcome") || c.retried.status/100 != 2 {
			t.Errorf("held answers: %s answered %d %s, then %d %s; want 503 saying the outcome is unknown, then success", c.name,
				c.during.status, c.during.code(), c.retried.status, c.retried.code())
		}
	}
	if pa.heldFinal != "authorized" {
		t.Errorf("the challenge whose second factor was reported while its answer was held is %s", pa.heldFinal)
	}
	var out strings.Builder
	for _, r := range []result{fl, g, p, pa} {
		r.print(&out)
	}
	t.Log("\n" + out.String())
}
