package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// AuthnAgents authenticates the agents (login servers, RADIUS front ends)
// that drive factor transactions. Implementations must be safe for
// concurrent use and take the same time whether or not the client ID is
// known.
type AuthnAgents interface {
	AuthenticateAgent(clientID, clientSecret string) bool
}

// StaticAgents is an [AuthnAgents] over a fixed set of client IDs and
// secrets. It keeps only SHA-256 digests of the secrets and compares them
// in constant time, against a dummy digest for unknown IDs. It is safe for
// concurrent use.
type StaticAgents struct {
	digests map[string][sha256.Size]byte
	dummy   [sha256.Size]byte
}

var _ AuthnAgents = (*StaticAgents)(nil)

// NewStaticAgents returns an authenticator for agents, a map from client ID
// to client secret (each secret at least MinTokenLength bytes).
func NewStaticAgents(agents map[string]string) (*StaticAgents, error) {
	s := &StaticAgents{digests: make(map[string][sha256.Size]byte, len(agents)), dummy: sha256.Sum256([]byte("no such agent"))}
	for id, secret := range agents {
		if id == "" || len(secret) < MinTokenLength {
			return nil, fmt.Errorf("httpapi: agent %q needs an ID and a secret of at least %d bytes", id, MinTokenLength)
		}
		s.digests[id] = sha256.Sum256([]byte(secret))
	}
	if len(s.digests) == 0 {
		return nil, errors.New("httpapi: NewStaticAgents needs at least one agent")
	}
	return s, nil
}

// AuthenticateAgent implements [AuthnAgents].
func (s *StaticAgents) AuthenticateAgent(clientID, clientSecret string) bool {
	want, known := s.digests[clientID]
	if !known {
		want = s.dummy
	}
	got := sha256.Sum256([]byte(clientSecret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known
}
