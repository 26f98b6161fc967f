package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
)

// config is the server's configuration: defaults, overridden by
// CHALLENGEKIT_* environment variables, overridden by flags.
type config struct {
	addr              string
	store             string
	redisURL          string
	postgresURL       string
	psd2TTL           time.Duration
	authnTTL          time.Duration
	readHeaderTimeout time.Duration
	logLevel          zerolog.Level
	redirectBase      string
	demoOutbox        string
	demoLoadUsers     int             // authn users load-0 … for load tests
	otpKey            []byte          // nil: drawn at start
	clock             challenge.Clock // nil: the system's; scenario tests set a fake one
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv("CHALLENGEKIT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	str := func(name, def, usage string) *string { return fs.String(name, env(name, def), usage) }
	addr := str("addr", "127.0.0.1:8080", "listen address")
	store := str("store", "memory", "challenge store: memory, redis or postgres")
	redisURL := str("redis-url", "redis://127.0.0.1:6379/0", "Redis URL, for -store redis")
	postgresURL := str("postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL, for -store postgres")
	psd2TTL := str("psd2-ttl", "5m", "lifetime of a PSD2 challenge")
	authnTTL := str("authn-ttl", "5m", "lifetime of a factor transaction")
	logLevel := str("log-level", "info", "log level: trace, debug, info, warn, error")
	redirect := str("psd2-redirect-base", "https://bank.example/consent", "base URL of the bank's second-factor step")
	outbox := str("demo-outbox", "", "file the demo e-mail sender writes one-time codes to (none by default)")
	otpKey := str("otp-key", "", "hex key (32 bytes or more) for one-time-code hashes, shared by a fleet; random if empty")
	loadUsers := str("demo-load-users", "0", "also register this many authn users load-0, load-1, … with ChallengeOMATOTP on the demo secret, for load tests")
	headerTimeout := str("read-header-timeout", "5s", "how long a client may take to send its request headers")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c := &config{addr: *addr, store: *store, redisURL: *redisURL, postgresURL: *postgresURL,
		redirectBase: *redirect, demoOutbox: *outbox}
	var errs []error
	for _, d := range []struct {
		name string
		raw  string
		dst  *time.Duration
	}{{"psd2-ttl", *psd2TTL, &c.psd2TTL}, {"authn-ttl", *authnTTL, &c.authnTTL}, {"read-header-timeout", *headerTimeout, &c.readHeaderTimeout}} {
		v, err := time.ParseDuration(d.raw)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("-%s: %q is not a positive duration", d.name, d.raw))
		}
		*d.dst = v
	}
	if *otpKey != "" {
		key, err := hex.DecodeString(*otpKey)
		if err != nil || len(key) < 32 {
			errs = append(errs, errors.New("-otp-key: want at least 64 hex digits"))
		}
		c.otpKey = key
	}
	if n, err := strconv.Atoi(*loadUsers); err != nil || n < 0 || n > maxDemoLoadUsers {
		errs = append(errs, fmt.Errorf("-demo-load-users: %q is not a number from 0 to %d", *loadUsers, maxDemoLoadUsers))
	} else {
		c.demoLoadUsers = n
	}
	lvl, err := zerolog.ParseLevel(*logLevel)
	if err != nil || *logLevel == "" {
		errs = append(errs, fmt.Errorf("-log-level: unknown level %q", *logLevel))
	}
	c.logLevel = lvl
	switch c.store {
	case "memory":
	case "redis", "postgres":
	default:
		errs = append(errs, fmt.Errorf("-store: unknown store %q (memory, redis or postgres)", c.store))
	}
	return c, errors.Join(errs...)
}
