package main

import (
	"strings"
	"testing"
	"time"
)

// TestSubjectsAreThrottledAlikeAndBriefly drives the demo server's limiter
// (20 transactions per user per 10 minutes, back-off capped at a minute):
// a known and an unknown user are throttled identically, with Retry-After,
// and let in again once it has passed.
func TestSubjectsAreThrottledAlikeAndBriefly(t *testing.T) {
	e := newFaultEnv(t)
	agent := []string{"Authorization", "Basic ZGVtby1hZ2VudDpkZW1vLWFnZW50LXNlY3JldA=="}
	begin := func(user string) (int, string, string) {
		rec := e.exchange("POST", "/authn/v1", `{"userInfo":{"userId":"`+user+`"}}`, agent...)
		return rec.Code, rec.Header().Get("Retry-After"), rec.Body.String()
	}
	for _, user := range []string{"alice", "mallory"} {
		for i := range 20 {
			if status, _, _ := begin(user); status != 200 {
				t.Fatalf("%s, transaction %d: %d", user, i+1, status)
			}
		}
	}
	statusA, retryA, bodyA := begin("alice")
	statusM, retryM, bodyM := begin("mallory")
	if statusA != 429 || statusM != 429 || retryA != "1" || retryM != "1" || bodyA != bodyM ||
		!strings.Contains(bodyA, `"code":"TOO_MANY_REQUESTS"`) {
		t.Fatalf("the 21st transaction: alice %d (Retry-After %q) %s, mallory %d (%q) %s; want the same 429", statusA, retryA, bodyA, statusM, retryM, bodyM)
	}
	e.clock.Advance(time.Second)
	if status, _, _ := begin("alice"); status != 200 {
		t.Fatalf("after waiting Retry-After: %d", status)
	}
	if status, retry, _ := begin("alice"); status != 429 || retry != "2" {
		t.Fatalf("straight after: %d, Retry-After %q; want 429 and a doubled hold", status, retry)
	}
	if status, _, _ := begin("bob"); status != 200 {
		t.Fatalf("another user was throttled: %d", status)
	}
}
