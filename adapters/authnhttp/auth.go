package authnhttp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/challengekit/challengekit/adapters/internal/httpkit"
)

// Agent authentication errors.
var (
	// ErrNoCredentials: the request carries no agent credentials (401).
	ErrNoCredentials = httpkit.ErrNoCredentials
	// ErrBadCredentials: the agent credentials are malformed or wrong (401).
	ErrBadCredentials = httpkit.ErrBadCredentials
)

// MinSecretLength is the shortest client secret NewStaticAgents accepts.
// The floor catches configuration mistakes (an empty or truncated
// secret); it cannot make a guessable one safe: production secrets should
// carry at least 128 random bits.
const MinSecretLength = httpkit.MinSecretLength

// Agents authenticates the agents (login servers, RADIUS front ends)
// that drive factor transactions. Implementations must be safe for
// concurrent use and take the same time whether or not the client ID is
// known.
type Agents interface {
	AuthenticateAgent(clientID, clientSecret string) bool
}

// StaticAgents is an [Agents] over a fixed set of client IDs and
// secrets. It keeps only SHA-256 digests of the secrets and compares them
// in constant time, against a dummy digest for unknown IDs. It is safe for
// concurrent use.
type StaticAgents struct {
	digests map[string][sha256.Size]byte
	dummy   [sha256.Size]byte
}

var _ Agents = (*StaticAgents)(nil)

// NewStaticAgents returns an authenticator for agents, a map from client ID
// to client secret (each secret at least MinSecretLength bytes).
func NewStaticAgents(agents map[string]string) (*StaticAgents, error) {
	s := &StaticAgents{digests: make(map[string][sha256.Size]byte, len(agents)), dummy: sha256.Sum256([]byte("no such agent"))}
	for id, secret := range agents {
		if id == "" || len(secret) < MinSecretLength {
			return nil, fmt.Errorf("authnhttp: agent %q needs an ID and a secret of at least %d bytes", id, MinSecretLength)
		}
		s.digests[id] = sha256.Sum256([]byte(secret))
	}
	if len(s.digests) == 0 {
		return nil, errors.New("authnhttp: NewStaticAgents needs at least one agent")
	}
	return s, nil
}

// AuthenticateAgent implements [Agents].
func (s *StaticAgents) AuthenticateAgent(clientID, clientSecret string) bool {
	want, known := s.digests[clientID]
	if !known {
		want = s.dummy
	}
	got := sha256.Sum256([]byte(clientSecret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known
}
