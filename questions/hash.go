package questions

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/challengekit/challengekit/challenge"
)

// Params are argon2id parameters. They are written into every hash, so a
// deployment can raise them later and old hashes still verify.
type Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	SaltLen   uint32 // bytes
	KeyLen    uint32 // bytes
}

// DefaultParams returns OWASP's baseline for argon2id (19 MiB, 2 passes,
// 1 lane), a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a stored hash, so a corrupt record
// cannot make one verification take the machine's memory.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
)

// ErrMalformedHash: a stored hash is not an argon2id hash this package
// can verify.
var ErrMalformedHash = errors.New("questions: malformed answer hash")

// Hasher hashes and verifies normalized answers with argon2id. At most a
// fixed number of hashes run at once, so a burst of requests queues instead
// of exhausting memory; a request whose context ends while it waits gives
// up. It is safe for concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a Hasher with params that runs at most maxConcurrent
// hashes at once (zero means GOMAXPROCS).
func NewHasher(params Params, maxConcurrent int) (*Hasher, error) {
	switch {
	case params.Time == 0 || params.Time > maxTime:
		return nil, fmt.Errorf("questions: argon2id time %d out of range 1..%d", params.Time, maxTime)
	case params.MemoryKiB < 8*uint32(params.Threads) || params.MemoryKiB > maxMemoryKiB:
		return nil, fmt.Errorf("questions: argon2id memory %d KiB out of range", params.MemoryKiB)
	case params.Threads == 0:
		return nil, errors.New("questions: argon2id needs at least one thread")
	case params.SaltLen < 16 || params.KeyLen < 16:
		return nil, errors.New("questions: argon2id salt and key must be at least 16 bytes")
	case maxConcurrent < 0:
		return nil, fmt.Errorf("questions: negative hash concurrency %d", maxConcurrent)
	}
	if maxConcurrent == 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: params, slots: make(chan struct{}, maxConcurrent)}, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		// Every slot stayed busy until the request's deadline: the
		// server is overloaded, and nothing was changed, so the caller
		// may retry (503), rather than a server fault (500).
		return fmt.Errorf("questions: waiting to hash: %w: %w", challenge.ErrUnavailable, ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of a normalized answer, with a
// fresh random salt: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func (h *Hasher) Hash(ctx context.Context, normalized string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt) // never fails
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(normalized), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	h.release()
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether a normalized answer matches an encoded hash,
// using the parameters recorded in the hash and a constant-time comparison.
func (h *Hasher) Verify(ctx context.Context, normalized, encoded string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(normalized), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	h.release()
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether an encoded hash was made with parameters
// other than the Hasher's, so a caller can replace it after a successful
// verification.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := parseHash(encoded)
	return err != nil || p.Time != h.params.Time || p.MemoryKiB != h.params.MemoryKiB ||
		p.Threads != h.params.Threads || uint32(len(salt)) != h.params.SaltLen || uint32(len(key)) != h.params.KeyLen
}

func parseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil ||
		p.Time == 0 || p.Time > maxTime || p.MemoryKiB > maxMemoryKiB || threads == 0 || threads > 255 ||
		p.MemoryKiB < 8*threads {
		return p, nil, nil, ErrMalformedHash
	}
	p.Threads = uint8(threads)
	enc := base64.RawStdEncoding
	if salt, err = enc.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformedHash
	}
	if key, err = enc.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
