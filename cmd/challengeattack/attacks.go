package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"
)

const demoSecret = "JBSWY3DPEHPK3PXP" // every TOTP user of the demo has it

// codes returns the current TOTP code and a six-digit code that is not.
func codes() (right, wrong string) {
	right, _ = totp.GenerateCode(demoSecret, time.Now())
	wrong = "000000"
	if right == wrong {
		wrong = "000001"
	}
	return right, wrong
}

// wrongGuess begins a login for user from ip on server, starts TOTP and
// sends a wrong code: the Validate's answer, or the first refusal.
func (f *fleet) wrongGuess(ctx context.Context, server int, user, ip string) answer {
	a := f.begin(ctx, server, user, ip)
	if a.status != 200 {
		return a
	}
	tx := a.str("correlationId")
	a = f.step(ctx, server, tx, a.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	if a.status != 200 {
		return a
	}
	_, wrong := codes()
	return f.step(ctx, server+1, tx, a.str("nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, wrong))
}

// login runs a whole TOTP login for user from ip, alternating servers.
func (f *fleet) login(ctx context.Context, user, ip string) error {
	a := f.begin(ctx, 0, user, ip)
	if a.status != 200 {
		return fmt.Errorf("begin: %d %s", a.status, a.code())
	}
	tx := a.str("correlationId")
	if a = f.step(ctx, 1, tx, a.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`); a.status != 200 {
		return fmt.Errorf("init: %d %s", a.status, a.code())
	}
	right, _ := codes()
	a = f.step(ctx, 0, tx, a.str("nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, right))
	if a.status != 200 || strings.Contains(a.str("statusInfo", "message"), "not correct") {
		return fmt.Errorf("validate: %d %s %s", a.status, a.code(), a.str("statusInfo", "message"))
	}
	if a = f.step(ctx, 1, tx, a.str("nonce"), `"challengeop":"Finalize","challengeResult":"Success"`); a.str("statusInfo", "status") != "authenticated" {
		return fmt.Errorf("finalize: %d %s", a.status, a.code())
	}
	return nil
}

// floodResult is what the flood attack measured.
type floodResult struct {
	d                                time.Duration
	started, refused, other, guesses int
	victimAsked, victimAnswered      int
	loginErr                         error
}

func flood(ctx context.Context, f *fleet, d time.Duration) (*floodResult, error) {
	var mu sync.Mutex
	var started, refused, guesses, other int
	var open []answer
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	wg.Go(func() { // the stranger
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; time.Now().Before(deadline); i++ {
			<-tick.C
			a := f.begin(ctx, i, "alice", "198.51.100.7")
			mu.Lock()
			switch a.status {
			case 200:
				started++
				open = append(open, a)
			case 429:
				refused++
			default:
				other++
			}
			var tx answer
			if i%4 == 0 && len(open) > 0 {
				tx, open = open[0], open[1:]
			}
			mu.Unlock()
			if tx.body == nil {
				continue
			}
			id := tx.str("correlationId")
			a = f.step(ctx, i, id, tx.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
			if a.status != 200 {
				continue
			}
			_, wrong := codes()
			if a = f.step(ctx, i+1, id, a.str("nonce"), fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, wrong)); a.status == 200 {
				mu.Lock()
				guesses++
				mu.Unlock()
			}
		}
	})
	var asked, answered int
	var loginErr error
	loggedIn := false
	for i := 0; time.Now().Before(deadline); i++ { // alice
		asked++
		if a := f.begin(ctx, i, "alice", "203.0.113.9"); a.status == 200 {
			answered++
		}
		if !loggedIn && time.Until(deadline) < d/2 {
			loginErr, loggedIn = f.login(ctx, "alice", "203.0.113.9"), true
		}
		time.Sleep(min(5*time.Second, time.Until(deadline)))
	}
	wg.Wait()
	return &floodResult{d: d, started: started, refused: refused, other: other, guesses: guesses,
		victimAsked: asked, victimAnswered: answered, loginErr: loginErr}, nil
}

func (r *floodResult) print(out io.Writer) {
	login := "completed"
	if r.loginErr != nil {
		login = "FAILED: " + r.loginErr.Error()
	}
	fmt.Fprintf(out, "## flood (%v)\n\n", r.d)
	fmt.Fprintf(out, "| who | what | figure |\n|---|---|---|\n")
	fmt.Fprintf(out, "| stranger, 198.51.100.7 | logins started for alice, one every 50 ms over both servers | %d allowed, %d refused (429), %d other |\n", r.started, r.refused, r.other)
	fmt.Fprintf(out, "| stranger | wrong codes evaluated | %d |\n", r.guesses)
	fmt.Fprintf(out, "| alice, 203.0.113.9 | her logins started, one every 5 s | %d of %d answered (%.0f%%) |\n", r.victimAnswered, r.victimAsked, 100*float64(r.victimAnswered)/float64(max(r.victimAsked, 1)))
	fmt.Fprintf(out, "| alice | a TOTP login half-way through | %s |\n\n", login)
}

// guessResult is what the guessing attack measured.
type guessResult struct {
	d                 time.Duration
	evaluated, held   int
	at                []string
	botnet, refusedAt int
	victim            error
}

func guess(ctx context.Context, f *fleet, d time.Duration) (*guessResult, error) {
	const user = "load-7"
	evaluated, held := 0, 0
	first := time.Now()
	var firstMinute []string
	for i := 0; time.Since(first) < d; i++ {
		a := f.wrongGuess(ctx, i, user, "198.51.100.8")
		switch {
		case a.status == 200 && strings.Contains(a.str("statusInfo", "message"), "not correct"):
			evaluated++
			firstMinute = append(firstMinute, time.Since(first).Round(100*time.Millisecond).String())
		case a.status == 429:
			held++
		default:
			return nil, fmt.Errorf("a guess: %d %s", a.status, a.code())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A botnet: a fresh /64 for every guess, until a fresh one is refused.
	botnet, refusedAt := 0, 0
	for i := range 500 {
		a := f.wrongGuess(ctx, i, user, fmt.Sprintf("2001:db8:%x::1", 0x1000+i))
		if a.status == 429 {
			refusedAt = i + 1
			break
		}
		if a.status != 200 {
			return nil, fmt.Errorf("a botnet guess: %d %s", a.status, a.code())
		}
		botnet++
	}
	return &guessResult{d: d, evaluated: evaluated, held: held, at: firstMinute, botnet: botnet, refusedAt: refusedAt,
		victim: f.login(ctx, user, "203.0.113.10")}, nil
}

func (r *guessResult) print(out io.Writer) {
	fmt.Fprintf(out, "## guess (%v from one address, then a botnet)\n\n", r.d)
	fmt.Fprintf(out, "| what | figure |\n|---|---|\n")
	fmt.Fprintf(out, "| wrong codes evaluated from one address in %v | %d (at %s); %d refused 429 |\n", r.d, r.evaluated, strings.Join(r.at, ", "), r.held)
	fmt.Fprintf(out, "| then one guess from each fresh address | %d evaluated; address #%d refused |\n", r.botnet, r.refusedAt)
	fmt.Fprintf(out, "| the user's failures evaluated in the day, fleet-wide | %d |\n", r.evaluated+r.botnet)
	fmt.Fprintf(out, "| the user's own login from another address, past the cap | %v |\n\n", errString(r.victim))
}

func errString(err error) string {
	if err == nil {
		return "succeeded"
	}
	return "refused (" + err.Error() + ")"
}

// pumpResult is what the pumping attack measured.
type pumpResult struct {
	d                   time.Duration
	sent, refused, more int
	at                  []string
}

func pump(ctx context.Context, f *fleet, d time.Duration) (*pumpResult, error) {
	a := f.begin(ctx, 0, "bob", "198.51.100.9")
	if a.status != 200 {
		return nil, fmt.Errorf("begin: %d %s", a.status, a.code())
	}
	tx, nonce := a.str("correlationId"), a.str("nonce")
	sent, refused := 0, 0
	var sentAt []string
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		a := f.step(ctx, i, tx, nonce, `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`)
		switch a.status {
		case 200:
			sent++
			nonce = a.str("nonce")
			sentAt = append(sentAt, time.Since(start).Round(time.Second).String())
		case 429:
			refused++
		default:
			return nil, fmt.Errorf("init: %d %s", a.status, a.code())
		}
		time.Sleep(500 * time.Millisecond)
	}
	more := 0
	for i := range 5 {
		a := f.begin(ctx, i, "bob", "198.51.100.9")
		if a.status != 200 {
			continue
		}
		if a = f.step(ctx, i, a.str("correlationId"), a.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeEmail"}`); a.status == 200 {
			more++
		}
	}
	return &pumpResult{d: d, sent: sent, refused: refused, more: more, at: sentAt}, nil
}

func (r *pumpResult) print(out io.Writer) {
	fmt.Fprintf(out, "## pump (%v)\n\n| what | figure |\n|---|---|\n", r.d)
	fmt.Fprintf(out, "| Init of ChallengeEmail every 500 ms on one transaction | %d codes sent (at %s), %d refused 429 |\n", r.sent, strings.Join(r.at, ", "), r.refused)
	fmt.Fprintf(out, "| then one Init on each of 5 fresh transactions | %d more sent: %d to bob's address this hour |\n\n", r.more, r.sent+r.more)
}

// pauseCase is one write sent while Redis is stopped, and again after.
type pauseCase struct {
	name    string
	send    func() answer
	during  answer
	retried answer
}

// pauseResult is what the pause measured.
type pauseResult struct {
	cases []*pauseCase
	final string // the state of the challenge whose second factor was reported during the pause
	// held are the writes sent while their answers were held, and
	// heldFinal the state of that second factor's challenge after.
	held      []*pauseCase
	heldFinal string
}

func pause(ctx context.Context, f *fleet) (*pauseResult, error) {
	create := `{"iban":"DE02120300000000202051","tpp_name":"Attack"}`
	newChallenge := func() string { return f.do(ctx, "POST", f.server(0)+"/v1/psd2/challenges", create, bank...).str("id") }
	redirected := newChallenge()
	f.do(ctx, "PATCH", f.server(0)+"/v1/psd2/challenges/"+redirected, `{"person_id":"p-alice"}`, partner...)
	pending := newChallenge()
	begun := f.begin(ctx, 0, "load-11", "198.51.100.11")
	inited := f.step(ctx, 0, begun.str("correlationId"), begun.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	right, _ := codes()
	validate := fmt.Sprintf(`"challengeop":"Validate","challengeAnswer":%q`, right)
	answers := `{"UserIdentificationChallenge":[{"ChallengeCode":"com.soa.challenge.question.school","Answer":"Lincoln High"},
		{"ChallengeCode":"com.soa.challenge.question.color","Answer":"Green"},{"ChallengeCode":"com.soa.challenge.question.mothers.name","Answer":"Okafor"}]}`
	cases := []*pauseCase{
		{name: "POST /v1/psd2/challenges", send: func() answer { return f.do(ctx, "POST", f.server(1)+"/v1/psd2/challenges", create, bank...) }},
		{name: "PATCH /v1/psd2/challenges/{id}", send: func() answer {
			return f.do(ctx, "PATCH", f.server(1)+"/v1/psd2/challenges/"+pending, `{"person_id":"p-alice"}`, partner...)
		}},
		{name: "POST …/second_factor", send: func() answer {
			return f.do(ctx, "POST", f.server(1)+"/v1/psd2/challenges/"+redirected+"/second_factor", `{"result":"success"}`, bank...)
		}},
		{name: "POST /authn/v1", send: func() answer { return f.begin(ctx, 1, "load-12", "198.51.100.12") }},
		{name: "PUT /authn/v1 Validate (right code)", send: func() answer {
			return f.step(ctx, 1, begun.str("correlationId"), inited.str("nonce"), validate)
		}},
		{name: "PUT /api/users/{bob}/challenges", send: func() answer {
			return f.do(ctx, "PUT", f.server(1)+"/api/users/eceffbe3-3386-495b-80d3-7526f0eb0edc.acmepaymentscorp/challenges", answers, bob...)
		}},
	}
	var wg sync.WaitGroup
	go f.pause(4500 * time.Millisecond)
	time.Sleep(100 * time.Millisecond) // Redis is stopped now
	for _, c := range cases {
		wg.Go(func() { c.during = c.send() })
	}
	wg.Wait()
	time.Sleep(5 * time.Second) // Redis runs again
	for _, c := range cases {
		c.retried = c.send()
	}
	state := f.do(ctx, "GET", f.server(0)+"/v1/psd2/challenges/"+redirected, "", bank...)
	r := &pauseResult{cases: cases, final: state.str("status")}

	// Now Redis runs, and the answers to record writes are held for 4.5 s:
	// each write is applied, and its answer comes after the server has
	// given up on it.
	redirected, pending = newChallenge(), newChallenge()
	f.do(ctx, "PATCH", f.server(0)+"/v1/psd2/challenges/"+redirected, `{"person_id":"p-alice"}`, partner...)
	begun = f.begin(ctx, 0, "load-13", "198.51.100.13")
	inited = f.step(ctx, 0, begun.str("correlationId"), begun.str("nonce"), `"challengeop":"Init","challengedata":{"factorKey":"ChallengeOMATOTP"}`)
	for _, i := range []int{1, 2, 4, 5} { // the writes to an existing record; send reaches the new ones
		r.held = append(r.held, &pauseCase{name: cases[i].name, send: cases[i].send})
	}
	f.holdAnswers(4500 * time.Millisecond)
	for _, c := range r.held {
		wg.Go(func() { c.during = c.send() })
	}
	wg.Wait()
	time.Sleep(f.holding() + time.Second)
	for _, c := range r.held {
		c.retried = c.send()
	}
	state = f.do(ctx, "GET", f.server(0)+"/v1/psd2/challenges/"+redirected, "", bank...)
	r.heldFinal = state.str("status")
	return r, nil
}

func (r *pauseResult) print(out io.Writer) {
	fmt.Fprintf(out, "## pause (Redis stopped for 4.5 s)\n\n| endpoint | while Redis was stopped | the same request again |\n|---|---|---|\n")
	for _, c := range r.cases {
		fmt.Fprintf(out, "| %s | %d %s | %d %s |\n", c.name, c.during.status, c.during.code(), c.retried.status, c.retried.code())
	}
	fmt.Fprintf(out, "\nThe challenge whose second_factor was sent during the pause is now %s.\n\n", r.final)
	fmt.Fprintf(out, "## held answers (Redis applies each write of a record; its answer comes 4.5 s late)\n\n| endpoint | while the answers were held | the same request again |\n|---|---|---|\n")
	for _, c := range r.held {
		fmt.Fprintf(out, "| %s | %d %s | %d %s |\n", c.name, c.during.status, c.during.code(), c.retried.status, c.retried.code())
	}
	fmt.Fprintf(out, "\nThe challenge whose second_factor was sent while its answer was held is now %s.\n\n", r.heldFinal)
}
