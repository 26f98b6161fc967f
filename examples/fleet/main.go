// Command fleet runs two challengekit servers in one process over one
// Redis, and finishes on the second a PSD2 challenge started on the first:
// the servers keep no state of their own, and share one limiter.
//
//	go run ./examples/fleet [-redis-url redis://127.0.0.1:6379/0]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/challengekit/challengekit/adapters/psd2http"
	"github.com/challengekit/challengekit/adapters/redisstore"
	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/psd2"
)

func main() {
	url := flag.String("redis-url", "redis://127.0.0.1:6379/0", "the Redis both servers share")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *url); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// server builds one stateless server over the shared Redis.
func server(client redis.UniversalClient) (*httptest.Server, error) {
	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		return nil, err
	}
	accounts, err := psd2.NewMemoryAccounts([]psd2.Account{{IBAN: "DE02120300000000202051", Owner: "p-alice", Partner: "acme"}})
	if err != nil {
		return nil, err
	}
	redirects, err := psd2.NewRedirectBase("https://bank.example/consent", "")
	if err != nil {
		return nil, err
	}
	// The limiter shares the Redis too: the fleet spends one budget.
	limiter, err := redisstore.NewLimiter(client, challenge.Limits{}, redisstore.Options{})
	if err != nil {
		return nil, err
	}
	svc, err := psd2.NewService(store, accounts, redirects, psd2.Options{Engine: challenge.EngineOptions{Limiter: limiter}})
	if err != nil {
		return nil, err
	}
	auth, err := psd2http.NewTokens(map[string][]string{"acme": {"fleet-partner-token"}}, []string{"fleet-bank-token"})
	if err != nil {
		return nil, err
	}
	h, err := psd2http.New(svc, auth, psd2http.Options{})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h.Register(mux)
	return httptest.NewServer(mux), nil
}

func call(method, url, token, body string) (map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return out, fmt.Errorf("%s %s: %d %v", method, url, resp.StatusCode, out)
	}
	return out, nil
}

func run(ctx context.Context, out io.Writer, redisURL string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	client := redis.NewClient(opts)
	defer client.Close()
	if err := client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", redisURL, err)
	}
	a, err := server(client)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := server(client)
	if err != nil {
		return err
	}
	defer b.Close()

	c, err := call("POST", a.URL+"/v1/psd2/challenges", "fleet-bank-token", `{"iban":"DE02120300000000202051","tpp_name":"Acme"}`)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server A created the challenge: %s\n", c["status"])
	p, err := call("PATCH", b.URL+"/v1/psd2/challenges/"+c["id"].(string), "fleet-partner-token", `{"person_id":"p-alice"}`)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server B took the PATCH: redirect %v\n", p["redirect_url"] != nil)
	g, err := call("GET", a.URL+"/v1/psd2/challenges/"+c["id"].(string), "fleet-partner-token", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server A sees it: %s\n", g["status"])
	return nil
}
