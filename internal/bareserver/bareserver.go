// Package bareserver is the ceiling the endpoints are measured against:
// plain net/http on the same routes as the HTTP adapters, decoding each
// request into a struct of the same fields and encoding an answer of the
// same shape, with nothing in between: no authentication, validation,
// state, store or logs. Only the security-question PUT does more: it
// hashes each answer with argon2id at the library's default parameters,
// bounded like the library's, because that deliberate cost is the
// endpoint's and no server can skip it.
//
// cmd/challengeload serves it as a process of its own; the handler
// benchmarks of the HTTP adapters call it in-process. A test of
// cmd/challengeload checks that it answers every step of every load
// scenario with the same fields as examples/server.
package bareserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"
)

type barePSD2Create struct {
	IBAN    string `json:"iban"`
	TPPName string `json:"tpp_name"`
	TPPID   string `json:"tpp_id"`
	Scope   string `json:"scope"`
}

type barePSD2Challenge struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	IBAN        string  `json:"iban"`
	TPPName     string  `json:"tpp_name"`
	TPPID       string  `json:"tpp_id,omitempty"`
	Scope       string  `json:"scope,omitempty"`
	PersonID    *string `json:"person_id"`
	RedirectURL *string `json:"redirect_url"`
	CreatedAt   string  `json:"created_at"`
	ExpiresAt   string  `json:"expires_at"`
}

type barePSD2Patch struct {
	PersonID string `json:"person_id"`
}

type barePSD2Redirect struct {
	PersonID    string `json:"person_id"`
	RedirectURL string `json:"redirect_url"`
}

type barePSD2SecondFactor struct {
	Result string `json:"result"`
}

type bareKeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type bareAuthnRequest struct {
	ClientInfo *struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	} `json:"clientInfo"`
	UserInfo *struct {
		UserID  string `json:"userId"`
		GroupID string `json:"groupId"`
	} `json:"userInfo"`
	TimeToLiveInSec int    `json:"timeToLiveInSec"`
	CorrelationID   string `json:"correlationId"`
	ChallengeOp     string `json:"challengeop"`
	Nonce           string `json:"nonce"`
	ChallengeData   *struct {
		FactorKey        string         `json:"factorKey"`
		FactorAttributes []bareKeyValue `json:"factorAttributes"`
	} `json:"challengedata"`
	ChallengeAnswer       string `json:"challengeAnswer"`
	ChallengeResult       string `json:"challengeResult"`
	ChallengeResultReason string `json:"challengeResultReason"`
}

type bareAuthnResponse struct {
	CorrelationID string `json:"correlationId"`
	Nonce         string `json:"nonce"`
	StatusInfo    struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"statusInfo"`
	InitContext   *bareFactorContext  `json:"initContext,omitempty"`
	ChallengeInfo []bareChallengeInfo `json:"challengeInfo"`
	Cookies       []bareKeyValue      `json:"cookies"`
	RequestParams []bareKeyValue      `json:"requestParams"`
}

type bareFactorContext struct {
	FactorKey        string `json:"factorKey"`
	Passive          bool   `json:"passive"`
	FactorAttributes []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"factorAttributes,omitempty"`
}

type bareChallengeInfo struct {
	FactorContext    bareFactorContext `json:"factorContext"`
	ChallengeAttrMap []bareKeyValue    `json:"challengeAttrMap"`
	Prompts          []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"prompts"`
}

type bareQuestion struct {
	ChallengeCode     string `json:"ChallengeCode"`
	ChallengeQuestion string `json:"ChallengeQuestion"`
	MinimumLength     int    `json:"MinimumLength"`
	MaximumLength     int    `json:"MaximumLength"`
	// The rules the demo catalog shows, all false.
	CanContainQuestionWords bool `json:"CanContainQuestionWords"`
	CanContainUserID        bool `json:"CanContainUserID"`
	CanEqualOtherAnswers    bool `json:"CanEqualOtherAnswers"`
	IsCaseSensitive         bool `json:"IsCaseSensitive"`
}

type bareCatalog struct {
	Challenge           []bareQuestion `json:"Challenge"`
	RequiredAnswerCount int            `json:"RequiredAnswerCount"`
}

type bareUserChallenge struct {
	UserID            string `json:"UserID"`
	ChallengeCode     string `json:"ChallengeCode"`
	ChallengeQuestion string `json:"ChallengeQuestion,omitempty"`
	Answer            string `json:"Answer,omitempty"`
}

type bareUserChallenges struct {
	UserIdentificationChallenge []bareUserChallenge `json:"UserIdentificationChallenge"`
}

// catalogFixture is the demo business's catalog.
var catalogFixture = func() bareCatalog {
	c := bareCatalog{RequiredAnswerCount: 3}
	for _, q := range [][2]string{
		{"city.birth", "What is the city of your birth?"}, {"color", "What is your favorite color?"},
		{"pet", "What is the name of your pet?"}, {"mothers.name", "What is your mother's maiden name?"},
		{"school", "What was the name of your first school?"},
	} {
		c.Challenge = append(c.Challenge, bareQuestion{ChallengeCode: "com.soa.challenge.question." + q[0],
			ChallengeQuestion: q[1], MinimumLength: 3, MaximumLength: 64})
	}
	return c
}()

// Options configure the bare server. The zero value serves every route.
type Options struct {
	// Outbox is the file a ChallengeEmail Init appends its code to, as
	// "time destination code" lines; none if empty.
	Outbox string
	// Redis, if set, is where each request makes its step's Trips: a
	// client, or go-redis's AutoPipeliner on one, as examples/server's
	// -redis-autopipeline.
	Redis redis.Cmdable
	// Trips are the round trips each step makes, by the step's name.
	Trips map[string]Trips
	// TripKind is what each round trip asks of Redis; zero means
	// RecordTrips.
	TripKind TripKind
}

// Trips are one step's Redis round trips: reads and writes.
type Trips struct {
	Reads  int `json:"reads"`
	Writes int `json:"writes"`
}

// TripKind is what the bare server's round trips ask of Redis.
type TripKind string

const (
	// RecordTrips read and write records as a store does: a read is one
	// HMGET of a record's three fields (version, purge time, the encoded
	// record), a write one script that reads a record's version and
	// writes its four fields (version, purge time, record, write token)
	// and its TTL: the commands of a store's read and versioned write,
	// minus the version comparison itself.
	RecordTrips TripKind = "record"
	// PlainTrips are the cheapest round trips: a GET, or a SET of about a
	// record's size. No store that compares versions can write with them.
	PlainTrips TripKind = "plain"
)

// StepHeader names the load generator's step in a request.
const StepHeader = "X-Load-Step"

// redisKey is the key plain trips read and write, and redisValue what
// they write: about a stored record's size. Record trips spread over
// recordKeys hashes under redisKey, so that they are not all served from
// one hot key.
const (
	redisKey   = "challengeload:bare"
	recordKeys = 4096
)

var redisValue = strings.Repeat("x", 400)

// writeScript is a record trip's write: the calls of a store's versioned
// update (HMGET, HSET of four fields, PEXPIRE). ARGV: now (µs), the
// version the writer read, the record, the purge time, the TTL in ms,
// the write's token, as the store's update sends them.
var writeScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'p', 't')
local v = tonumber(cur[1] or '0') + 1
redis.call('HSET', KEYS[1], 'v', v, 'p', ARGV[4], 'r', ARGV[3], 't', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return v`)

// tripper makes a step's round trips.
type tripper struct {
	client redis.Cmdable
	kind   TripKind
	next   atomic.Uint64 // spreads record trips over the records

	mu     sync.Mutex
	seeded atomic.Bool // the records exist, so that reads find a record's fields
}

// seed writes every record once, before the first record trip.
func (t *tripper) seed(ctx context.Context) error {
	if t.kind == PlainTrips || t.seeded.Load() {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seeded.Load() {
		return nil
	}
	for range recordKeys {
		if err := t.write(ctx); err != nil {
			return err
		}
	}
	t.seeded.Store(true)
	return nil
}

func (t *tripper) write(ctx context.Context) error {
	now := time.Now().UnixMicro()
	return writeScript.Run(ctx, t.client, []string{t.recordKey()},
		now, "1", redisValue, now+int64(time.Hour/time.Microsecond), time.Hour.Milliseconds(), "0123456789abcdef").Err()
}

func (t *tripper) recordKey() string {
	return redisKey + ":" + strconv.FormatUint(t.next.Add(1)%recordKeys, 10)
}

// withRedis makes each request's round trips before next answers it.
func withRedis(next http.Handler, t *tripper, trips map[string]Trips) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := t.roundTrips(r.Context(), trips[r.Header.Get(StepHeader)]); err != nil {
			http.Error(w, `{"error":"redis"}`, http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (t *tripper) roundTrips(ctx context.Context, n Trips) error {
	if err := t.seed(ctx); err != nil {
		return err
	}
	for range n.Reads {
		var err error
		if t.kind == PlainTrips {
			err = t.client.Get(ctx, redisKey).Err()
		} else {
			err = t.client.HMGet(ctx, t.recordKey(), "v", "p", "r").Err()
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	for range n.Writes {
		var err error
		if t.kind == PlainTrips {
			err = t.client.Set(ctx, redisKey, redisValue, 0).Err()
		} else {
			err = t.write(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Handler returns the bare server's routes with the zero Options.
func Handler() http.Handler { return New(Options{}) }

// kbaTag ends the nonces of a ChallengeKBA transaction.
const kbaTag = "~kba"

// New returns the bare server's routes.
func New(opts Options) http.Handler {
	var seq atomic.Uint64
	var outboxMu sync.Mutex
	id := func() string { return "bare" + strconv.FormatUint(seq.Add(1), 36) }
	hashes := make(chan struct{}, runtime.GOMAXPROCS(0)) // as questions.Hasher bounds them
	mux := http.NewServeMux()

	challenge := func(id, status string, in barePSD2Create) barePSD2Challenge {
		now := time.Now().UTC()
		return barePSD2Challenge{ID: id, Status: status, IBAN: in.IBAN, TPPName: in.TPPName, TPPID: in.TPPID, Scope: in.Scope,
			CreatedAt: now.Format(time.RFC3339), ExpiresAt: now.Add(5 * time.Minute).Format(time.RFC3339)}
	}
	// What the server would have stored for GET and second_factor to show.
	storedCreate := barePSD2Create{IBAN: "DE02120300000000202051", TPPName: "Load Test TPP", TPPID: "tpp-load", Scope: "accounts"}
	mux.HandleFunc("POST /v1/psd2/challenges", func(w http.ResponseWriter, r *http.Request) {
		var in barePSD2Create
		if decode(w, r, &in) {
			encode(w, http.StatusCreated, challenge(id(), "pending", in))
		}
	})
	mux.HandleFunc("GET /v1/psd2/challenges/{id}", func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, challenge(r.PathValue("id"), "pending", storedCreate))
	})
	mux.HandleFunc("PATCH /v1/psd2/challenges/{id}", func(w http.ResponseWriter, r *http.Request) {
		var in barePSD2Patch
		if decode(w, r, &in) {
			encode(w, http.StatusOK, barePSD2Redirect{PersonID: in.PersonID, RedirectURL: "https://bank.example/consent?consent_challenge=" + id()})
		}
	})
	mux.HandleFunc("POST /v1/psd2/challenges/{id}/second_factor", func(w http.ResponseWriter, r *http.Request) {
		var in barePSD2SecondFactor
		if decode(w, r, &in) {
			c := challenge(r.PathValue("id"), "authorized", storedCreate)
			person, url := "p-alice", "https://bank.example/consent?consent_challenge="+id()
			c.PersonID, c.RedirectURL = &person, &url
			encode(w, http.StatusOK, c)
		}
	})

	// send writes a code as the example server's demo sender does.
	send := func(destination, code string) error {
		outboxMu.Lock()
		defer outboxMu.Unlock()
		f, err := os.OpenFile(opts.Outbox, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, werr := fmt.Fprintf(f, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339), destination, code)
		if err := f.Close(); werr == nil {
			werr = err
		}
		return werr
	}
	authn := func(w http.ResponseWriter, r *http.Request) {
		var in bareAuthnRequest
		if !decode(w, r, &in) {
			return
		}
		out := bareAuthnResponse{CorrelationID: in.CorrelationID, Nonce: id(),
			ChallengeInfo: []bareChallengeInfo{}, Cookies: []bareKeyValue{}, RequestParams: []bareKeyValue{}}
		out.StatusInfo.Code, out.StatusInfo.Message, out.StatusInfo.Status = "AUTHN_PENDING", "Waiting for the user to complete a factor.", "pending verification"
		if out.CorrelationID == "" {
			out.CorrelationID = id()
			if in.UserInfo != nil {
				out.CorrelationID += "." + in.UserInfo.UserID
			}
		}
		factor := "ChallengeOMATOTP"
		if in.ChallengeData != nil && in.ChallengeData.FactorKey != "" {
			factor = in.ChallengeData.FactorKey
		}
		kba := factor == "ChallengeKBA" || strings.HasSuffix(in.Nonce, kbaTag)
		if kba {
			factor = "ChallengeKBA"
			out.Nonce += kbaTag
		}
		var prompt *bareKeyValue
		switch {
		case in.ChallengeOp == "Init" && factor == "ChallengeEmail":
			_, user, _ := strings.Cut(in.CorrelationID, ".")
			if opts.Outbox != "" {
				if err := send(user+"@example.com", fmt.Sprintf("%06d", rand.IntN(1_000_000))); err != nil {
					http.Error(w, `{"error":"outbox"}`, http.StatusInternalServerError)
					return
				}
			}
			prompt = &bareKeyValue{Name: "otp", Value: "Enter the 6-digit code sent to m***@example.com"}
		case kba && in.ChallengeOp == "Validate":
			hashes <- struct{}{}
			_ = argon2.IDKey([]byte(in.ChallengeAnswer), make([]byte, 16), 2, 19*1024, 1, 32) // questions.DefaultParams
			<-hashes
			fallthrough
		case kba && in.ChallengeOp == "Init":
			q := catalogFixture.Challenge[0]
			prompt = &bareKeyValue{Name: q.ChallengeCode, Value: q.ChallengeQuestion}
		}
		if in.ChallengeOp != "" {
			out.InitContext = &bareFactorContext{FactorKey: factor, Passive: true}
		}
		if in.ChallengeOp == "Finalize" {
			out.StatusInfo.Code, out.StatusInfo.Message, out.StatusInfo.Status = "AUTHN_SUCCESS", "The user is authenticated.", "authenticated"
		} else {
			var info bareChallengeInfo
			info.FactorContext.FactorKey, info.FactorContext.Passive = factor, true
			info.FactorContext.FactorAttributes = []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			}{{Name: "deviceName", Value: "Phone"}}
			info.ChallengeAttrMap = []bareKeyValue{}
			info.Prompts = []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			}{}
			if prompt != nil {
				info.Prompts = append(info.Prompts, struct {
					Key   string `json:"key"`
					Value string `json:"value"`
				}{prompt.Name, prompt.Value})
			}
			out.ChallengeInfo = append(out.ChallengeInfo, info)
		}
		encode(w, http.StatusOK, out)
	}
	mux.HandleFunc("POST /authn/v1", authn)
	mux.HandleFunc("PUT /authn/v1", authn)

	mux.HandleFunc("GET /api/businesses/{BusinessID}/challenges", func(w http.ResponseWriter, _ *http.Request) {
		encode(w, http.StatusOK, catalogFixture)
	})
	mux.HandleFunc("GET /api/users/{UserID}/challenges", func(w http.ResponseWriter, r *http.Request) {
		var out bareUserChallenges
		for _, q := range catalogFixture.Challenge[:3] {
			out.UserIdentificationChallenge = append(out.UserIdentificationChallenge,
				bareUserChallenge{UserID: r.PathValue("UserID"), ChallengeCode: q.ChallengeCode, ChallengeQuestion: q.ChallengeQuestion})
		}
		encode(w, http.StatusOK, out)
	})
	mux.HandleFunc("PUT /api/users/{UserID}/challenges", func(w http.ResponseWriter, r *http.Request) {
		var in bareUserChallenges
		if !decode(w, r, &in) {
			return
		}
		salt := make([]byte, 16)
		for i := range in.UserIdentificationChallenge {
			a := &in.UserIdentificationChallenge[i]
			a.UserID = r.PathValue("UserID")
			hashes <- struct{}{}
			_ = argon2.IDKey([]byte(a.Answer), salt, 2, 19*1024, 1, 32) // questions.DefaultParams
			<-hashes
		}
		encode(w, http.StatusOK, in)
	})
	if opts.Redis != nil {
		kind := opts.TripKind
		if kind == "" {
			kind = RecordTrips
		}
		return withRedis(mux, &tripper{client: opts.Redis, kind: kind}, opts.Trips)
	}
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return false
	}
	return true
}

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
