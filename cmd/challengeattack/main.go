// Command challengeattack attacks a fleet of example servers the way a
// patient stranger would, and prints what got through as Markdown:
//
//	go run ./cmd/challengeattack                  # every attack, 60 s each where timed
//	go run ./cmd/challengeattack -attacks flood,pause -duration 20s
//
// It starts a private redis-server on a free port (redis-server must be on
// PATH), builds examples/server and runs two of them on that Redis, with
// their default limits, then:
//
//   - flood: a stranger starts a login for alice every 50 ms from one
//     address, alternating servers, and guesses a wrong code whenever it
//     can; alice, from her own address, starts one every 5 s and logs in
//     half-way through;
//   - guess: wrong codes for one user from one address as fast as the
//     servers take them, for the duration; then from a new address each
//     (a botnet), until the user's daily cap refuses a fresh address;
//   - pump: Init of ChallengeEmail on one transaction every 500 ms for the
//     duration, then on fresh transactions, counting the codes sent;
//   - pause: every write endpoint is called while Redis is stopped
//     (SIGSTOP) for 4.5 s, then called again with the same request once it
//     runs (SIGCONT); then the writes to existing records are called while
//     a proxy holds Redis's answers to them for 4.5 s (each write applied,
//     its answer too late), and again after. Every answer is shown.
//
// Every figure is what the servers answered; nothing is simulated.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "challengeattack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("challengeattack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	attacks := fs.String("attacks", "flood,guess,pump,pause", "comma-separated attacks: flood, guess, pump, pause")
	duration := fs.Duration("duration", time.Minute, "how long the timed attacks (flood, guess, pump) run")
	server := fs.String("server", "", "examples/server binary; empty builds it with go build")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration < time.Second {
		return errors.New("-duration must be at least a second")
	}
	f, err := startFleet(ctx, *server, stderr)
	if err != nil {
		return err
	}
	defer f.stop()
	fmt.Fprintf(stdout, "challengeattack: two examples/server processes on one Redis (%s), default limits\n\n", f.redisURL)
	for name := range strings.SplitSeq(*attacks, ",") {
		r, err := attack(ctx, f, strings.TrimSpace(name), *duration)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.print(stdout)
	}
	return nil
}

// result is what one attack measured.
type result interface{ print(io.Writer) }

// attack runs the attack named name against f.
func attack(ctx context.Context, f *fleet, name string, d time.Duration) (result, error) {
	switch name {
	case "flood":
		return flood(ctx, f, d)
	case "guess":
		return guess(ctx, f, d)
	case "pump":
		return pump(ctx, f, d)
	case "pause":
		return pause(ctx, f)
	}
	return nil, fmt.Errorf("unknown attack %q (flood, guess, pump, pause)", name)
}
