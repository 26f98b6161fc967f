package limitertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

type testCase struct {
	name string
	run  func(t *testing.T, e *env)
}

var ctx = context.Background()

var cases = []testCase{
	{"Starts: a caller has a burst, then one start per interval", func(t *testing.T, e *env) {
		o := challenge.Origin{Caller: e.key("caller")}
		for i := range Limits.CallerStarts.Events {
			allowed(t, fmt.Sprintf("start %d", i+1), e.l.Start(ctx, o))
		}
		refused(t, "one start past the burst", e.l.Start(ctx, o), time.Second)
		e.clock.Advance(time.Second)
		allowed(t, "after waiting as told", e.l.Start(ctx, o))
		refused(t, "straight after", e.l.Start(ctx, o), time.Second)
		allowed(t, "another caller", e.l.Start(ctx, challenge.Origin{Caller: e.key("caller")}))
	}},
	{"Starts: a source has a budget of its own, and a refusal charges neither", func(t *testing.T, e *env) {
		caller, source := e.key("caller"), e.key("source")
		o := challenge.Origin{Caller: caller, Source: source}
		for i := range Limits.SourceStarts.Events {
			allowed(t, fmt.Sprintf("start %d from the source", i+1), e.l.Start(ctx, o))
		}
		for range 5 {
			refused(t, "past the source's burst", e.l.Start(ctx, o), 10*time.Second)
		}
		for i := range Limits.SourceStarts.Events {
			allowed(t, fmt.Sprintf("start %d from another source", i+1), e.l.Start(ctx, challenge.Origin{Caller: caller, Source: e.key("source")}))
		}
		// 6 of the caller's 10 are spent; the 5 refusals spent none.
		for i := range 4 {
			allowed(t, fmt.Sprintf("start %d without a source", i+1), e.l.Start(ctx, challenge.Origin{Caller: caller}))
		}
		refused(t, "the caller's 11th start", e.l.Start(ctx, challenge.Origin{Caller: caller}), time.Second)
	}},
	{"Starts: a source is budgeted per caller", func(t *testing.T, e *env) {
		source := e.key("source")
		first := challenge.Origin{Caller: e.key("caller"), Source: source}
		for range Limits.SourceStarts.Events {
			allowed(t, "a start", e.l.Start(ctx, first))
		}
		refused(t, "past the burst", e.l.Start(ctx, first), 10*time.Second)
		allowed(t, "the same source through another caller", e.l.Start(ctx, challenge.Origin{Caller: e.key("caller"), Source: source}))
	}},
	{"Attempts: free failures, then holds that double up to MaxHold", func(t *testing.T, e *env) {
		a := e.attempt(e.key("subject"), e.key("source"))
		for i := range Limits.FreeFailures {
			allowed(t, fmt.Sprintf("free failure %d", i+1), e.try(a))
		}
		for _, hold := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
			refused(t, "an attempt during the hold", e.try(a), hold)
			e.clock.Advance(hold - time.Microsecond)
			refused(t, "a microsecond before the hold ends", e.try(a), time.Microsecond)
			e.clock.Advance(time.Microsecond)
			allowed(t, "once the hold has passed", e.try(a))
		}
	}},
	{"Attempts: holding one source holds no other", func(t *testing.T, e *env) {
		subject := e.key("subject")
		attacker := e.attempt(subject, e.key("source"))
		for range Limits.FreeFailures {
			allowed(t, "the attacker's failure", e.try(attacker))
		}
		refused(t, "the attacker, held", e.try(attacker), time.Second)
		victim := e.attempt(subject, e.key("source"))
		for range Limits.FreeFailures {
			c, err := e.charge(victim)
			allowed(t, "the victim, from elsewhere", err)
			allowed(t, "the victim's refund", e.l.Refund(ctx, c))
		}
	}},
	{"Attempts: a refunded attempt is no failure", func(t *testing.T, e *env) {
		a := e.attempt(e.key("subject"), e.key("source"))
		for i := range 2 * Limits.SubjectFailures.Events {
			c, err := e.charge(a)
			allowed(t, fmt.Sprintf("right answer %d", i+1), err)
			allowed(t, "its refund", e.l.Refund(ctx, c))
		}
		for range Limits.FreeFailures {
			allowed(t, "a failure, all still free", e.try(a))
		}
		refused(t, "past the free failures", e.try(a), time.Second)
		never := e.attempt(e.key("subject"), e.key("source"))
		never.ID = challenge.NewID()
		allowed(t, "refunding what was never charged", e.l.Refund(ctx, never))
	}},
	{"Attempts: a pair quiet for FailureWindow after its hold is forgiven", func(t *testing.T, e *env) {
		a := e.attempt(e.key("subject"), e.key("source"))
		for range Limits.FreeFailures {
			allowed(t, "a failure", e.try(a))
		}
		e.clock.Advance(Limits.MinHold + Limits.FailureWindow - time.Microsecond)
		allowed(t, "after the hold", e.try(a))
		refused(t, "not yet forgiven", e.try(a), 2*time.Second)
		e.clock.Advance(2*time.Second + Limits.FailureWindow)
		for i := range Limits.FreeFailures {
			allowed(t, fmt.Sprintf("forgiven: free failure %d", i+1), e.try(a))
		}
		refused(t, "past the free failures again", e.try(a), time.Second)
	}},
	{"Attempts: a subject's failures from every source meet one hard cap", func(t *testing.T, e *env) {
		subject := e.key("subject")
		first := e.clock.Now()
		for i := range Limits.SubjectFailures.Events {
			allowed(t, fmt.Sprintf("failure %d, from source %d", i+1, i+1), e.try(e.attempt(subject, e.key("source"))))
			e.clock.Advance(time.Minute)
		}
		fresh := e.attempt(subject, e.key("source"))
		refused(t, "a fresh source past the cap", e.try(fresh), first.Add(time.Hour).Sub(e.clock.Now()))
		e.clock.Set(first.Add(time.Hour))
		allowed(t, "once the oldest failure is an hour old", e.try(fresh))
		refused(t, "the next, until the second oldest is", e.try(e.attempt(subject, e.key("source"))), time.Minute)
	}},
	{"Attempts: kinds and subjects are separate", func(t *testing.T, e *env) {
		subject, source := e.key("subject"), e.key("source")
		a := e.attempt(subject, source)
		for range Limits.FreeFailures {
			allowed(t, "a failure", e.try(a))
		}
		refused(t, "held", e.try(a), time.Second)
		allowed(t, "the same subject and source at another kind", e.try(challenge.Attempt{Kind: "limitertest_other", Subject: subject, Source: source}))
		allowed(t, "another subject from the same source", e.try(e.attempt(e.key("subject"), source)))
	}},
	{"Reset forgets a subject's failures from every source", func(t *testing.T, e *env) {
		subject := e.key("subject")
		held := e.attempt(subject, e.key("source"))
		for range Limits.FreeFailures {
			allowed(t, "a failure", e.try(held))
		}
		for range Limits.SubjectFailures.Events - Limits.FreeFailures {
			allowed(t, "a failure from elsewhere", e.try(e.attempt(subject, e.key("source"))))
		}
		refused(t, "capped", e.try(e.attempt(subject, e.key("source"))), time.Hour)
		allowed(t, "Reset", e.l.Reset(ctx, "limitertest", subject))
		for i := range Limits.FreeFailures {
			allowed(t, fmt.Sprintf("after Reset, the held source's free failure %d", i+1), e.try(held))
		}
		allowed(t, "Reset of a subject with no failures", e.l.Reset(ctx, "limitertest", e.key("subject")))
	}},
	{"Deliveries: at most Events in any period", func(t *testing.T, e *env) {
		dest := e.key("destination")
		first := e.clock.Now()
		for i := range Limits.Deliveries.Events {
			allowed(t, fmt.Sprintf("delivery %d", i+1), e.deliver(dest, "source-1"))
			e.clock.Advance(10 * time.Minute)
		}
		refused(t, "one more within the hour", e.deliver(dest, "source-1"), 30*time.Minute)
		allowed(t, "another destination", e.deliver(e.key("destination"), "source-1"))
		e.clock.Set(first.Add(time.Hour))
		allowed(t, "once the first is an hour old", e.deliver(dest, "source-1"))
		e.clock.Advance(time.Minute)
		refused(t, "the next, until the second is", e.deliver(dest, "source-1"), 9*time.Minute)
	}},
	{"Deliveries: one source spends part of a destination's, every source its ceiling", func(t *testing.T, e *env) {
		dest := e.key("destination")
		for i := range Limits.Deliveries.Events {
			allowed(t, fmt.Sprintf("delivery %d asked from one source", i+1), e.deliver(dest, "source-1"))
		}
		refused(t, "one more from that source", e.deliver(dest, "source-1"), time.Hour)
		left := Limits.DestinationDeliveries.Events - Limits.Deliveries.Events
		for i := range left {
			allowed(t, fmt.Sprintf("delivery %d asked from another source", i+1), e.deliver(dest, "source-2"))
		}
		refused(t, "one more from a third source, past the ceiling", e.deliver(dest, "source-3"), time.Hour)
	}},
	{"Refunds: a charge is taken back once, and only its own", func(t *testing.T, e *env) {
		a := e.attempt(e.key("subject"), e.key("source"))
		var first challenge.Attempt
		for i := range Limits.FreeFailures {
			c, err := e.charge(a)
			allowed(t, fmt.Sprintf("failure %d", i+1), err)
			if i == 0 {
				first = c
			}
		}
		refused(t, "held", e.try(a), time.Second)
		for range 3 {
			allowed(t, "the first charge refunded, again and again", e.l.Refund(ctx, first))
		}
		allowed(t, "one attempt more: one charge was taken back", e.try(a))
		refused(t, "held again: only one", e.try(a), time.Second)
	}},
	{fmt.Sprintf("%d racers attempting, refunding and resetting one subject never fail", Racers), func(t *testing.T, e *env) {
		subject := e.key("subject")
		sources := []string{e.key("source"), e.key("source"), e.key("source")}
		race(t, Racers, func(i int) error {
			a := e.attempt(subject, sources[i%len(sources)])
			for j := range 5 {
				switch (i + j) % 3 {
				case 0:
					if c, err := e.charge(a); err == nil {
						if err := e.l.Refund(ctx, c); err != nil {
							return err
						}
					} else if !errors.Is(err, challenge.ErrThrottled) {
						return err
					}
				case 1:
					if err := e.try(a); err != nil && !errors.Is(err, challenge.ErrThrottled) {
						return err
					}
				default:
					if err := e.l.Reset(ctx, a.Kind, a.Subject); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}},
	{fmt.Sprintf("%d racers spend a start budget exactly", Racers), func(t *testing.T, e *env) {
		caller := e.key("caller")
		o := challenge.Origin{Caller: caller, Source: e.key("source")}
		if won := race(t, Racers, func(int) error { return e.l.Start(ctx, o) }); won != Limits.SourceStarts.Events {
			t.Fatalf("%d starts from one source got through; its burst is %d", won, Limits.SourceStarts.Events)
		}
		want := Limits.CallerStarts.Events - Limits.SourceStarts.Events
		if won := race(t, Racers, func(int) error { return e.l.Start(ctx, challenge.Origin{Caller: caller}) }); won != want {
			t.Fatalf("%d starts of one caller got through; %d were left of its burst", won, want)
		}
	}},
	{fmt.Sprintf("%d racers spend a pair's free failures exactly", Racers), func(t *testing.T, e *env) {
		a := e.attempt(e.key("subject"), e.key("source"))
		if won := race(t, Racers, func(int) error { return e.try(a) }); won != Limits.FreeFailures {
			t.Fatalf("%d attempts got through at once; the pair has %d free failures", won, Limits.FreeFailures)
		}
	}},
	{fmt.Sprintf("%d racers from as many sources spend a subject's cap exactly", Racers), func(t *testing.T, e *env) {
		subject := e.key("subject")
		sources := make([]string, Racers)
		for i := range sources {
			sources[i] = e.key("source")
		}
		if won := race(t, Racers, func(i int) error { return e.try(e.attempt(subject, sources[i])) }); won != Limits.SubjectFailures.Events {
			t.Fatalf("%d attempts got through at once; the subject's cap is %d", won, Limits.SubjectFailures.Events)
		}
	}},
	{fmt.Sprintf("%d racers spend a destination's deliveries exactly", Racers), func(t *testing.T, e *env) {
		dest := e.key("destination")
		if won := race(t, Racers, func(int) error { return e.deliver(dest, "source-1") }); won != Limits.Deliveries.Events {
			t.Fatalf("%d deliveries got through at once; the budget is %d", won, Limits.Deliveries.Events)
		}
	}},
	{"A done context makes every method fail and charge nothing", func(t *testing.T, e *env) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		o := challenge.Origin{Caller: e.key("caller"), Source: e.key("source")}
		a := e.attempt(e.key("subject"), e.key("source"))
		dest := e.key("destination")
		for i := range 20 {
			charged := a
			charged.ID = challenge.NewID()
			for name, err := range map[string]error{
				"Start": e.l.Start(done, o), "Attempt": e.l.Attempt(done, charged), "Refund": e.l.Refund(done, charged),
				"Deliver": e.l.Deliver(done, challenge.Delivery{Destination: dest, Source: "source-1"}), "Reset": e.l.Reset(done, a.Kind, a.Subject),
			} {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("call %d: %s with a cancelled context: %v; want an error wrapping context.Canceled", i+1, name, err)
				}
			}
		}
		for range Limits.SourceStarts.Events {
			allowed(t, "a start after the cancelled ones", e.l.Start(ctx, o))
		}
		for range Limits.FreeFailures {
			allowed(t, "an attempt after the cancelled ones", e.try(a))
		}
		for range Limits.Deliveries.Events {
			allowed(t, "a delivery after the cancelled ones", e.deliver(dest, "source-1"))
		}
	}},
}
