package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// newRedisClient returns the client -redis-url names, and the secrets in
// the URL (passwords) that must never reach a log line or an answer. The
// scheme chooses the topology:
//
//	redis://[user:password@]host:port[/db][?option=value…]    one node (rediss:// for TLS, unix:///path.sock for a socket)
//	redis+cluster://[user:password@]host:port[?addr=host2:port2&addr=…]    a Cluster, from one or more of its nodes (rediss+cluster:// for TLS)
//	redis+sentinel://[user:password@]sentinel:port[/db]?master_name=NAME[&addr=sentinel2:port2…][&password=…]    a master found through Sentinel (rediss+sentinel:// for TLS);
//	    the user and password before @ are the Sentinels', ?username= and ?password= the master's
//
// Options are go-redis's (redis.ParseURL, ParseClusterURL and
// ParseFailoverURL), in snake case: dial_timeout=3s, pool_size=20, ….
// Unless the URL says otherwise, a command is tried twice and each try
// dials once, within storeDialTimeout: a store that is down fails fast.
func newRedisClient(rawURL string) (redis.UniversalClient, []string, error) {
	client, secrets, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, nil, withoutCredentials(err, rawURL)
	}
	return client, secrets, nil
}

// redisCommands returns what the store and the limiter send their
// commands through: client itself, or, with autoPipeline, go-redis's
// AutoPipeliner on it (one node, a Sentinel's master or a Cluster), which
// sends the commands of concurrent callers together, in shared
// pipelines. A command waits on the pipeliner's context, not its
// caller's: the client's ReadTimeout bounds it. close closes the
// pipeliner, then the client.
func redisCommands(client redis.UniversalClient, autoPipeline bool) (redis.UniversalClient, func(), error) {
	if !autoPipeline {
		return client, func() { _ = client.Close() }, nil
	}
	ap, err := client.AutoPipeline()
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("-redis-autopipeline: %w", err)
	}
	return ap, func() { _ = ap.Close(); _ = client.Close() }, nil
}

// withoutCredentials keeps a URL's user and password out of err, which
// is printed: url.Error quotes the whole URL, and a URL that does not
// parse has no password the redactor could know.
func withoutCredentials(err error, rawURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(host, "@"); at > 0 {
			msg = strings.ReplaceAll(msg, host[:at], "xxxxx")
			if unescaped, uerr := url.PathUnescape(host[:at]); uerr == nil && unescaped != host[:at] {
				msg = strings.ReplaceAll(msg, unescaped, "xxxxx")
			}
		}
	}
	return errors.New(msg)
}

func parseRedisURL(rawURL string) (redis.UniversalClient, []string, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, nil, errors.New("want a URL such as redis://host:6379/0")
	}
	base, topology, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" && !(base == "unix" && topology == "") {
		return nil, nil, fmt.Errorf("unknown scheme %q (redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel, rediss+sentinel)", scheme)
	}
	u := base + "://" + rest
	switch topology {
	case "":
		opts, err := redis.ParseURL(u)
		if err != nil {
			return nil, nil, err
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = orDefault(opts.DialTimeout, storeDialTimeout),
			orDefault(opts.ReadTimeout, storeIOTimeout), orDefault(opts.WriteTimeout, storeIOTimeout)
		opts.MaxRetries, opts.DialerRetries = orDefault(opts.MaxRetries, 1), orDefault(opts.DialerRetries, 1)
		return redis.NewClient(opts), []string{opts.Password}, nil
	case "cluster":
		opts, err := redis.ParseClusterURL(u)
		if err != nil {
			return nil, nil, err
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = orDefault(opts.DialTimeout, storeDialTimeout),
			orDefault(opts.ReadTimeout, storeIOTimeout), orDefault(opts.WriteTimeout, storeIOTimeout)
		opts.MaxRetries, opts.DialerRetries = orDefault(opts.MaxRetries, 1), orDefault(opts.DialerRetries, 1)
		return redis.NewClusterClient(opts), []string{opts.Password}, nil
	case "sentinel":
		opts, err := redis.ParseFailoverURL(u)
		if err != nil {
			return nil, nil, err
		}
		if opts.MasterName == "" {
			return nil, nil, errors.New("a Sentinel URL names its master: ?master_name=NAME")
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = orDefault(opts.DialTimeout, storeDialTimeout),
			orDefault(opts.ReadTimeout, storeIOTimeout), orDefault(opts.WriteTimeout, storeIOTimeout)
		opts.MaxRetries, opts.DialerRetries = orDefault(opts.MaxRetries, 1), orDefault(opts.DialerRetries, 1)
		return redis.NewFailoverClient(opts), []string{opts.Password, opts.SentinelPassword}, nil
	default:
		return nil, nil, fmt.Errorf("unknown scheme %q (redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel, rediss+sentinel)", scheme)
	}
}

// orDefault returns v, or def where v is the zero value (not set in the URL).
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
