package httpkit

import "errors"

// Caller authentication errors. Each HTTP package exports them under its
// own name, for its authenticators to return (possibly wrapped).
var (
	// ErrNoCredentials: the request carries no credentials (401).
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: the credentials are malformed or unknown (401).
	ErrBadCredentials = errors.New("bad credentials")
)

// MinSecretLength is the shortest bearer token or client secret the
// built-in authenticators accept. The floor catches configuration
// mistakes (an empty or truncated secret); it cannot make a guessable one
// safe: production secrets should carry at least 128 random bits.
const MinSecretLength = 12
