// Command server runs challengekit's challenge APIs on the in-memory store
// with demo data, for trying the library out:
//
//	go run ./examples/server
//
// It prints the demo credentials at start, logs JSON to stderr, and shuts
// down gracefully on SIGINT or SIGTERM. Every flag can also be set by an
// environment variable: -psd2-ttl as CHALLENGEKIT_PSD2_TTL, and so on.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
