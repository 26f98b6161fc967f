package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/adapters/metrics"
	"github.com/challengekit/challengekit/adapters/questionshttp"
	"github.com/challengekit/challengekit/adapters/tracing"
	"github.com/challengekit/challengekit/challenge"
)

// config is the server's configuration: defaults, overridden by
// CHALLENGEKIT_* environment variables, overridden by flags.
type config struct {
	addr              string
	store             string
	redisURL          string
	redisAutoPipeline bool // batch concurrent requests' Redis commands (go-redis's experimental AutoPipeliner)
	postgresURL       string
	psd2TTL           time.Duration
	authnTTL          time.Duration
	readHeaderTimeout time.Duration
	logLevel          zerolog.Level
	redirectBase      string
	demoOutbox        string
	demoPages         bool   // serve the web pages of the PSD2 consent dance under /demo/
	redirectSet       bool   // -psd2-redirect-base given, by flag or environment
	pagesOrigin       string // the demo pages' origin (http://localhost:PORT); set by run once listening
	demoLoadUsers     int    // authn users load-0 … and mail-0 … for load tests
	demoLoadKBA       int    // authn users kba-0 … with security answers, for load tests
	demoHeld          int    // PSD2 challenges created at start, for load tests
	otpKey            []byte // nil: drawn at start
	limits            challenge.Limits
	clientAddress     questionshttp.ClientAddress
	clock             challenge.Clock // nil: the system's; scenario tests set a fake one
	storeRetryMax     time.Duration   // longest wait between attempts to prepare a store down at start
	metricsAddr       string
	metrics           *metrics.Metrics // nil: none; set by serveMetrics when metricsAddr is
	traceFile         string           // spans go there, one JSON object a line; none if empty
	tracer            *tracing.Tracer  // set by startTracing when traceFile is
}

func parseConfig(args []string, getenv func(string) string) (*config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // -h is answered by run, on stdout; a bad flag by the error returned
	fs.Usage = func() {}
	defaults := map[string]string{}
	env := func(name, def string) string {
		if v := getenv(envName(name)); v != "" {
			return v
		}
		return def
	}
	str := func(name, def, usage string) *string {
		defaults[name] = def
		return fs.String(name, env(name, def), usage)
	}
	// boolean is a flag that may stand alone (-name means -name=true).
	boolean := func(name, usage string) *string {
		defaults[name] = "false"
		v := &boolFlag{value: env(name, "false")}
		fs.Var(v, name, usage)
		return &v.value
	}
	addr := str("addr", "127.0.0.1:8080", "listen address")
	store := str("store", "memory", "challenge store: memory, redis or postgres")
	redisURL := str("redis-url", "redis://127.0.0.1:6379/0", "Redis URL, for -store redis: redis:// or rediss:// (one node), redis+cluster:// (a Cluster), redis+sentinel:// (through Sentinels)")
	redisAutoPipeline := boolean("redis-autopipeline", "for -store redis: send the Redis commands of concurrent requests together, in shared pipelines (go-redis's experimental auto-pipelining): fewer round trips and system calls under load")
	postgresURL := str("postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL, for -store postgres")
	psd2TTL := str("psd2-ttl", "5m", "lifetime of a PSD2 challenge")
	authnTTL := str("authn-ttl", "5m", "lifetime of a factor transaction")
	logLevel := str("log-level", "info", "log level: trace, debug, info, warn, error")
	redirect := str("psd2-redirect-base", "https://bank.example/consent", "base URL of the bank's second-factor step")
	outbox := str("demo-outbox", "", "file the demo e-mail sender writes one-time codes to (none by default)")
	otpKey := str("otp-key", "", "hex key (32 bytes or more) for one-time-code hashes and the limiter's digests, shared by a fleet; random (and digests unkeyed) if empty")
	loadUsers := str("demo-load-users", "0", "also register this many authn users load-0, load-1, … with ChallengeOMATOTP on the demo secret, and as many mail-0, mail-1, … with ChallengeEmail to mail-N@example.com, for load tests")
	loadKBA := str("demo-load-kba", "0", "also register this many authn users kba-0, kba-1, … with ChallengeKBA, enrolled at start with alice's answers (argon2id: about 75 ms of CPU each), for load tests")
	held := str("demo-held", "0", "create this many PSD2 challenges at start and leave them pending (live for -psd2-ttl), to load-test a server holding many; charged to no caller's budget")
	headerTimeout := str("read-header-timeout", "5s", "how long a client may take to send its request headers")
	storeRetryMax := str("store-retry-max", "30s", "longest wait between attempts to reach a store that is down at start (the waits double from 100ms)")
	callerStarts := str("caller-starts", rateString(challenge.DefaultCallerStarts), "challenges each caller (agent, partner, session) may open: N/DURATION, a burst of N refilled over DURATION")
	sourceStarts := str("source-starts", rateString(challenge.DefaultSourceStarts), "challenges each end-user address may open, per caller: N/DURATION")
	freeFailures := str("free-failures", strconv.Itoa(challenge.DefaultFreeFailures), "failures a (user, address) pair makes before holds (1 s, doubling to 15 min) begin")
	subjectFailures := str("subject-failures", rateString(challenge.DefaultSubjectFailures), "hard cap of a user's failures from every address: N/DURATION, at most N in any DURATION")
	deliveries := str("deliveries", rateString(challenge.DefaultDeliveries), "codes and pushes one address may have sent to a destination: N/DURATION, at most N in any DURATION")
	destDeliveries := str("destination-deliveries", rateString(challenge.DefaultDestinationDeliveries), "codes and pushes a destination may get from every address: N/DURATION")
	ipHeader := str("client-ip-header", "", "header a trusted proxy puts the client's address in (X-Forwarded-For, X-Real-IP); read only from -trusted-proxies")
	traceFile := str("trace-file", "", "file to write OpenTelemetry spans to, one JSON object a line (none by default)")
	proxies := str("trusted-proxies", "", "comma-separated networks (CIDR) of the proxies trusted to set -client-ip-header")
	demoPages := boolean("demo-pages", "serve the demo's web pages under /demo/ (a TPP, a partner's login, the bank's consent and security settings) and, unless -psd2-redirect-base is set, point the PSD2 redirect at this server's /demo/bank/consent")
	metricsAddr := str("metrics-addr", "", "address to serve Prometheus metrics on, at /metrics, on a listener of its own; none if empty")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil, &helpRequest{usage: usage(fs, defaults)}
	} else if err != nil {
		return nil, fmt.Errorf("%w (-h lists every flag)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c := &config{addr: *addr, store: *store, redisURL: *redisURL, postgresURL: *postgresURL,
		redirectBase: *redirect, demoOutbox: *outbox, metricsAddr: *metricsAddr, traceFile: *traceFile}
	var errs []error
	fs.Visit(func(f *flag.Flag) { c.redirectSet = c.redirectSet || f.Name == "psd2-redirect-base" })
	c.redirectSet = c.redirectSet || getenv(envName("psd2-redirect-base")) != ""
	if on, err := strconv.ParseBool(*demoPages); err != nil {
		errs = append(errs, fmt.Errorf("-demo-pages: %q is not true or false", *demoPages))
	} else {
		c.demoPages = on
	}
	if on, err := strconv.ParseBool(*redisAutoPipeline); err != nil {
		errs = append(errs, fmt.Errorf("-redis-autopipeline: %q is not true or false", *redisAutoPipeline))
	} else if on && c.store != "redis" {
		errs = append(errs, fmt.Errorf("-redis-autopipeline: only with -store redis (not %s)", c.store))
	} else {
		c.redisAutoPipeline = on
	}
	for _, d := range []struct {
		name string
		raw  string
		dst  *time.Duration
	}{{"psd2-ttl", *psd2TTL, &c.psd2TTL}, {"authn-ttl", *authnTTL, &c.authnTTL}, {"read-header-timeout", *headerTimeout, &c.readHeaderTimeout},
		{"store-retry-max", *storeRetryMax, &c.storeRetryMax}} {
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
	for _, r := range []struct {
		name, raw string
		dst       *challenge.Rate
	}{{"caller-starts", *callerStarts, &c.limits.CallerStarts}, {"source-starts", *sourceStarts, &c.limits.SourceStarts},
		{"subject-failures", *subjectFailures, &c.limits.SubjectFailures}, {"deliveries", *deliveries, &c.limits.Deliveries},
		{"destination-deliveries", *destDeliveries, &c.limits.DestinationDeliveries}} {
		rate, err := parseRate(r.raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %w", r.name, err))
		}
		*r.dst = rate
	}
	if n, err := strconv.Atoi(*freeFailures); err != nil || n < 1 {
		errs = append(errs, fmt.Errorf("-free-failures: %q is not a positive number", *freeFailures))
	} else {
		c.limits.FreeFailures = n
	}
	if _, err := c.limits.WithDefaults(); err != nil {
		errs = append(errs, err)
	}
	c.clientAddress.Header = *ipHeader
	for _, cidr := range strings.Split(*proxies, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			errs = append(errs, fmt.Errorf("-trusted-proxies: %q is not a network in CIDR notation", cidr))
			continue
		}
		c.clientAddress.TrustedProxies = append(c.clientAddress.TrustedProxies, p.Masked())
	}
	if (c.clientAddress.Header == "") != (len(c.clientAddress.TrustedProxies) == 0) {
		errs = append(errs, errors.New("-client-ip-header and -trusted-proxies go together"))
	}
	if n, err := strconv.Atoi(*loadUsers); err != nil || n < 0 || n > maxDemoLoadUsers {
		errs = append(errs, fmt.Errorf("-demo-load-users: %q is not a number from 0 to %d", *loadUsers, maxDemoLoadUsers))
	} else {
		c.demoLoadUsers = n
	}
	for _, n := range []struct {
		name, raw string
		max       int
		dst       *int
	}{{"demo-load-kba", *loadKBA, maxDemoLoadKBA, &c.demoLoadKBA}, {"demo-held", *held, maxDemoHeld, &c.demoHeld}} {
		if v, err := strconv.Atoi(n.raw); err != nil || v < 0 || v > n.max {
			errs = append(errs, fmt.Errorf("-%s: %q is not a number from 0 to %d", n.name, n.raw, n.max))
		} else {
			*n.dst = v
		}
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

// boolFlag is the text of a flag that may be given alone, as -name; it is
// checked to be true or false after parsing, like the environment's.
type boolFlag struct{ value string }

func (b *boolFlag) String() string {
	if b == nil {
		return ""
	}
	return b.value
}
func (b *boolFlag) Set(s string) error { b.value = s; return nil }
func (b *boolFlag) IsBoolFlag() bool   { return true }

// envName is the environment variable that sets a flag: -psd2-ttl is
// CHALLENGEKIT_PSD2_TTL.
func envName(flagName string) string {
	return "CHALLENGEKIT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// helpRequest is -h (or -help): run prints usage on stdout and exits 0.
type helpRequest struct{ usage string }

func (h *helpRequest) Error() string { return "help requested" }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// usage lists every flag with its environment variable and its default
// (the built-in one, not what the environment set).
func usage(fs *flag.FlagSet, defaults map[string]string) string {
	var b strings.Builder
	b.WriteString(`Usage: server [flags]

Serves challengekit's PSD2, factor-transaction and security-question APIs
with demo data. Each flag can also be set by its environment variable; a
flag given on the command line wins over the variable.

`)
	fs.VisitAll(func(f *flag.Flag) {
		def := defaults[f.Name]
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "  -%s  (%s; default %s)\n        %s\n", f.Name, envName(f.Name), def, f.Usage)
	})
	return b.String()
}

// parseRate reads "N/DURATION", as "30/1m".
func parseRate(s string) (challenge.Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	events, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || events < 1 || d <= 0 {
		return challenge.Rate{}, fmt.Errorf("%q is not N/DURATION, as 30/1m", s)
	}
	return challenge.Rate{Events: events, Per: d}, nil
}

// rateString writes r as parseRate reads it, its period in whole hours or
// minutes where it can be ("5/1h", not "5/1h0m0s").
func rateString(r challenge.Rate) string {
	per := r.Per.String()
	switch {
	case r.Per%time.Hour == 0:
		per = strconv.Itoa(int(r.Per/time.Hour)) + "h"
	case r.Per%time.Minute == 0:
		per = strconv.Itoa(int(r.Per/time.Minute)) + "m"
	}
	return strconv.Itoa(r.Events) + "/" + per
}

// digestKey is the key of the shared limiter's digests: derived from
// -otp-key, which every server of a fleet shares, or none without it (a
// key drawn at start would give each server budgets of its own).
func (c *config) digestKey() []byte {
	if c.otpKey == nil {
		return nil
	}
	return deriveKey(c.otpKey, "challengekit limiter digests")
}

// deriveKey is the key for purpose derived from key (HMAC-SHA256 of the
// purpose), so that one -otp-key keys several things, none of them with
// a key another uses.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// demoOrigin is the origin the demo pages are served at, and the one
// passkeys are bound to: the listener's, with a loopback address named
// localhost (browsers offer WebAuthn on http only there).
func (c *config) demoOrigin() string {
	if c.pagesOrigin != "" {
		return c.pagesOrigin
	}
	return originOf(c.addr)
}

// originOf is the http origin of a listen address: "localhost:PORT" for
// a loopback or unspecified host, the address itself otherwise.
func originOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || host == "localhost" || err == nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
