package challenge_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/challenge/challengetest"
)

// newAuditEngine is an engine over consent records that logs to logs,
// observes into rec, and hashes subjects with key (nil: no hash).
func newAuditEngine(t *testing.T, key []byte, logs *challengetest.LogBuffer, rec *challengetest.Recorder) *challenge.Engine {
	t.Helper()
	clock := challengetest.NewClock()
	e, err := challenge.NewEngine(newMemory(t, clock), newConsent(t), challenge.EngineOptions{
		Clock: clock, IDs: &challengetest.SequentialIDs{Prefix: "c"}, Observer: rec,
		Logger: zerolog.New(logs).Level(zerolog.DebugLevel), LogSubjectKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestObserversSeeTheSubjectAndSourceOfEveryChange(t *testing.T) {
	rec := &challengetest.Recorder{}
	e := newAuditEngine(t, nil, &challengetest.LogBuffer{}, rec)
	ctx := context.Background()
	c, err := e.Create(ctx, challenge.Start{Subject: "p-alice", Origin: challenge.Origin{Caller: "acme", Source: "ip:203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(ctx, c.ID, func(tx *challenge.Tx) error {
		tx.SetSource("ip:198.51.100.1")
		return tx.Fire("enter_credentials")
	}); err != nil {
		t.Fatal(err)
	}
	// Attempt names the source too, with or without a Limiter.
	_, _ = e.Step(ctx, c.ID, func(tx *challenge.Tx) error {
		if err := tx.Attempt(tx.Subject(), "ip:192.0.2.9"); err != nil {
			return err
		}
		return tx.Fail(errors.New("wrong answer"))
	})
	// A step whose flow names no source has none.
	if _, err := e.Step(ctx, c.ID, fire("redirect")); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		to      challenge.State
		subject string
		source  string
	}{
		{"pending", "p-alice", "ip:203.0.113.7"},
		{"credentials_entered", "p-alice", "ip:198.51.100.1"},
		{"credentials_entered", "p-alice", "ip:192.0.2.9"},
		{"redirected", "p-alice", ""},
	}
	got := rec.Changes()
	if len(got) != len(want) {
		t.Fatalf("observed %d changes, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].To != w.to || got[i].Subject != w.subject || got[i].Source != w.source {
			t.Errorf("change %d: to %q subject %q source %q, want %q %q %q", i, got[i].To, got[i].Subject, got[i].Source, w.to, w.subject, w.source)
		}
	}
}

func TestLogsNameNoSubjectNorSourceWithoutAKey(t *testing.T) {
	logs := &challengetest.LogBuffer{}
	e := newAuditEngine(t, nil, logs, &challengetest.Recorder{})
	c, err := e.Create(context.Background(), challenge.Start{Subject: "p-alice", Origin: challenge.Origin{Source: "ip:203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(context.Background(), c.ID, fire("enter_credentials")); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, `"message":"challenge created"`) {
		t.Fatalf("no line for the create:\n%s", out)
	}
	for _, banned := range []string{"p-alice", "203.0.113.7", "subject"} {
		if strings.Contains(out, banned) {
			t.Errorf("logs contain %q:\n%s", banned, out)
		}
	}
}

func TestWithAKeyLogsCarryAKeyedHashOfTheSubject(t *testing.T) {
	hashOf := func(key []byte, subject string) string {
		t.Helper()
		logs := &challengetest.LogBuffer{}
		e := newAuditEngine(t, key, logs, &challengetest.Recorder{})
		c, err := e.Create(context.Background(), challenge.Start{Subject: subject, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Step(context.Background(), c.ID, fire("enter_credentials")); err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if strings.Contains(out, subject) {
			t.Errorf("logs contain the subject %q:\n%s", subject, out)
		}
		var hashes []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			_, rest, ok := strings.Cut(line, `"subject_hash":"`)
			if !ok {
				t.Fatalf("a line without subject_hash: %s", line)
			}
			h, _, _ := strings.Cut(rest, `"`)
			hashes = append(hashes, h)
		}
		if len(hashes) != 2 || hashes[0] != hashes[1] {
			t.Fatalf("hashes of one subject's lines: %q", hashes)
		}
		return hashes[0]
	}
	key := []byte("log-correlation-key-0123456789ab")
	alice := hashOf(key, "p-alice")

	m := hmac.New(sha256.New, key)
	m.Write([]byte("p-alice"))
	if want := hex.EncodeToString(m.Sum(nil))[:16]; alice != want || challenge.SubjectHash(key, "p-alice") != want {
		t.Errorf("subject_hash %q, SubjectHash %q, want HMAC-SHA256's first 16 hex digits %q", alice, challenge.SubjectHash(key, "p-alice"), want)
	}
	if again := hashOf(key, "p-alice"); again != alice {
		t.Errorf("the same key and subject hashed to %q, then %q", alice, again)
	}
	if bob := hashOf(key, "p-bob"); bob == alice {
		t.Errorf("two subjects hashed alike: %q", bob)
	}
	if other := hashOf([]byte("another-key-for-another-period!!"), "p-alice"); other == alice {
		t.Errorf("two keys hashed a subject alike: %q", other)
	}
}

// traced is one operation a recordingTracer saw, and how it ended.
type traced struct {
	op  challenge.Operation
	res challenge.OperationResult
}

// recordingTracer is a challenge.Tracer that keeps what it traced.
type recordingTracer struct {
	ops []traced
}

type spanKey struct{}

func (r *recordingTracer) StartOperation(ctx context.Context, op challenge.Operation) (context.Context, func(challenge.OperationResult)) {
	i := len(r.ops)
	r.ops = append(r.ops, traced{op: op})
	return context.WithValue(ctx, spanKey{}, op.Name), func(res challenge.OperationResult) { r.ops[i].res = res }
}

func TestATracerFollowsEveryOperationAndItsStoreCalls(t *testing.T) {
	clock := challengetest.NewClock()
	tr := &recordingTracer{}
	var storeSaw []any
	store := &fakeStore{Store: newMemory(t, clock)}
	store.GetFn = func(ctx context.Context, kind, id string) (*challenge.Record, error) {
		storeSaw = append(storeSaw, ctx.Value(spanKey{}))
		return store.Store.Get(ctx, kind, id)
	}
	e, err := challenge.NewEngine(store, newConsent(t), challenge.EngineOptions{Clock: clock, Tracer: tr, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := e.Create(ctx, challenge.Start{TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(ctx, c.ID, fire("enter_credentials", "redirect")); err != nil {
		t.Fatal(err)
	}
	wrong := errors.New("wrong answer")
	fail := func(tx *challenge.Tx) error { return tx.Fail(wrong) }
	_, _ = e.Step(ctx, c.ID, fail)
	_, _ = e.Step(ctx, c.ID, fail) // locks
	_, _ = e.Get(ctx, c.ID)
	_, _ = e.Step(ctx, "missing", fire("redirect"))

	want := []traced{
		{challenge.Operation{Kind: "consent", Name: "create"}, challenge.OperationResult{Outcome: challenge.OutcomeOK, To: "pending"}},
		{challenge.Operation{Kind: "consent", Name: "step"}, challenge.OperationResult{Outcome: challenge.OutcomeOK, From: "pending", To: "redirected", Event: "redirect"}},
		{challenge.Operation{Kind: "consent", Name: "step"}, challenge.OperationResult{Outcome: challenge.OutcomeFailed, From: "redirected", To: "redirected"}},
		{challenge.Operation{Kind: "consent", Name: "step"}, challenge.OperationResult{Outcome: challenge.OutcomeFailed, From: "redirected", To: "failed", Event: "fail"}},
		{challenge.Operation{Kind: "consent", Name: "get"}, challenge.OperationResult{Outcome: challenge.OutcomeOK, From: "failed", To: "failed"}},
		{challenge.Operation{Kind: "consent", Name: "step"}, challenge.OperationResult{Outcome: challenge.OutcomeError}},
	}
	if len(tr.ops) != len(want) {
		t.Fatalf("traced %d operations, want %d: %+v", len(tr.ops), len(want), tr.ops)
	}
	for i, w := range want {
		got := tr.ops[i]
		if (got.res.Err == nil) != (w.res.Outcome == challenge.OutcomeOK) {
			t.Errorf("operation %d: error %v with outcome %s", i, got.res.Err, got.res.Outcome)
		}
		got.res.Err = nil
		if got != w {
			t.Errorf("operation %d: %+v, want %+v", i, got, w)
		}
	}
	if !errors.Is(tr.ops[5].res.Err, challenge.ErrNotFound) {
		t.Errorf("the missing challenge's error: %v", tr.ops[5].res.Err)
	}
	for i, saw := range storeSaw {
		if saw == nil {
			t.Errorf("store read %d ran outside the operation's context", i)
		}
	}
}
