package passkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
)

// Credential is one of a user's passkeys as the store keeps it: the
// credential go-webauthn made at registration, and which transaction last
// moved its sign count, from what.
type Credential struct {
	webauthn.Credential
	// LastTransaction is the transaction whose assertion last moved
	// SignCount; empty if none has.
	LastTransaction string
	// PreviousSignCount is the sign count before LastTransaction moved it.
	PreviousSignCount uint32
}

// Credentials keeps the users' passkeys. Implementations must be safe for
// concurrent use; [RecordCredentials] keeps them in a [challenge.Store].
type Credentials interface {
	// List returns the user's credentials: none for a user who has none.
	List(ctx context.Context, userID string) ([]Credential, error)
	// Add adds a credential to the user's; adding one whose ID the user
	// has already is an error.
	Add(ctx context.Context, userID string, cred webauthn.Credential) error
	// UpdateSignCount records, as one compare-and-set, that transaction
	// txID's assertion by credential id carried sign count count. It
	// reports false, changing nothing, when the count does not move
	// forward (a cloned authenticator: WebAuthn §6.1.1), unless txID is
	// the transaction that moved it there (a step run again); a count of
	// 0 over a stored 0 is an authenticator that keeps no count, and is
	// accepted. An unknown credential is false too.
	UpdateSignCount(ctx context.Context, userID string, id []byte, count uint32, txID string) (bool, error)
}

// CredentialsKind is the record kind of [RecordCredentials]: one record
// per user, whose ID is the user ID.
const CredentialsKind = "authn_passkeys"

// RecordCredentials is [Credentials] on a [challenge.Store]: one record
// per user holding all of the user's credentials, changed by
// compare-and-set. A login moves only a credential's sign count: its
// flags (backup state among them) stay as registration recorded them. It
// is safe for concurrent use.
type RecordCredentials struct {
	records *challenge.Records
}

var _ Credentials = (*RecordCredentials)(nil)

// NewRecordCredentials returns the credentials kept in store; clock
// stamps the records (nil means the system's).
func NewRecordCredentials(store challenge.Store, clock challenge.Clock) (*RecordCredentials, error) {
	r, err := challenge.NewRecords(store, CredentialsKind, clock)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &RecordCredentials{records: r}, nil
}

// List implements [Credentials].
func (c *RecordCredentials) List(ctx context.Context, userID string) ([]Credential, error) {
	rec, err := c.records.Get(ctx, userID)
	if errors.Is(err, challenge.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	a, err := decodeAccount(rec.Data)
	if err != nil {
		return nil, fmt.Errorf("passkey: the stored credentials: %w", err)
	}
	return a.Credentials, nil
}

// Add implements [Credentials].
func (c *RecordCredentials) Add(ctx context.Context, userID string, cred webauthn.Credential) error {
	if len(cred.ID) == 0 || len(cred.PublicKey) == 0 {
		return errors.New("passkey: a credential needs an ID and a public key")
	}
	err := c.records.UpdateAbout(ctx, userID, userID, func(data []byte, found bool) ([]byte, error) {
		var a account
		if found {
			var err error
			if a, err = decodeAccount(data); err != nil {
				return nil, fmt.Errorf("the stored credentials: %w", err)
			}
		}
		for _, have := range a.Credentials {
			if bytes.Equal(have.ID, cred.ID) {
				return nil, errors.New("the user has this credential already")
			}
		}
		a.Credentials = append(a.Credentials, Credential{Credential: cred})
		return a.encode(), nil
	})
	if err != nil {
		return fmt.Errorf("passkey: add: %w", err)
	}
	return nil
}

// UpdateSignCount implements [Credentials].
func (c *RecordCredentials) UpdateSignCount(ctx context.Context, userID string, id []byte, count uint32, txID string) (bool, error) {
	accepted := false
	err := c.records.Update(ctx, userID, func(data []byte, found bool) ([]byte, error) {
		accepted = false
		if !found {
			return nil, nil
		}
		a, err := decodeAccount(data)
		if err != nil {
			return nil, fmt.Errorf("the stored credentials: %w", err)
		}
		for i := range a.Credentials {
			cr := &a.Credentials[i]
			if !bytes.Equal(cr.ID, id) {
				continue
			}
			stored := cr.Authenticator.SignCount
			switch {
			case txID != "" && cr.LastTransaction == txID && stored == count:
				accepted = true // this transaction's own update, found again
				return nil, nil
			case count > stored || count == 0 && stored == 0:
				cr.PreviousSignCount, cr.Authenticator.SignCount, cr.LastTransaction = stored, count, txID
				accepted = true
				return a.encode(), nil
			}
			return nil, nil
		}
		return nil, nil
	})
	if err != nil {
		return false, fmt.Errorf("passkey: update sign count: %w", err)
	}
	return accepted, nil
}

// account is a user's record: the user's credentials.
type account struct {
	Credentials []Credential
	rest        string // fields a later release appended, kept as they are
}

// accountVersion leads every encoded account. Version 1 is: the number
// of credentials, and for each its ID, public key, attestation type and
// format, transports, flags (a byte: 1 user present, 2 user verified,
// 4 backup eligible, 8 backup state), AAGUID, sign count, clone warning,
// attachment, the sign count before the last update and the transaction
// that made it; then what a later release appended. The attestation
// statement and extension results of registration are not kept.
const accountVersion = 1

// minCredential is the least an encoded credential takes: eight empty
// strings or lists, the flags, a count, a bool and a count.
const minCredential = 8 + 1 + 1 + 1 + 1

const (
	flagUP = 1 << iota
	flagUV
	flagBE
	flagBS
)

func (a account) encode() []byte {
	b := []byte{accountVersion}
	b = binenc.AppendCount(b, len(a.Credentials))
	for _, c := range a.Credentials {
		b = binenc.AppendBytes(b, c.ID)
		b = binenc.AppendBytes(b, c.PublicKey)
		b = binenc.AppendString(b, c.AttestationType)
		b = binenc.AppendString(b, c.AttestationFormat)
		transports := make([]string, len(c.Transport))
		for i, t := range c.Transport {
			transports[i] = string(t)
		}
		b = binenc.AppendStrings(b, transports)
		b = append(b, flagBit(c.Flags.UserPresent, flagUP)|flagBit(c.Flags.UserVerified, flagUV)|
			flagBit(c.Flags.BackupEligible, flagBE)|flagBit(c.Flags.BackupState, flagBS))
		b = binenc.AppendBytes(b, c.Authenticator.AAGUID)
		b = binenc.AppendInt(b, int64(c.Authenticator.SignCount))
		b = binenc.AppendBool(b, c.Authenticator.CloneWarning)
		b = binenc.AppendString(b, string(c.Authenticator.Attachment))
		b = binenc.AppendInt(b, int64(c.PreviousSignCount))
		b = binenc.AppendString(b, c.LastTransaction)
	}
	return append(b, a.rest...)
}

func decodeAccount(data []byte) (account, error) {
	r := binenc.NewReader(data, accountVersion)
	var a account
	n := r.ReadCount(minCredential)
	if n > 0 {
		a.Credentials = make([]Credential, n)
	}
	for i := range a.Credentials {
		c := &a.Credentials[i]
		c.ID = r.ReadBytes()
		c.PublicKey = r.ReadBytes()
		c.AttestationType = r.ReadString()
		c.AttestationFormat = r.ReadString()
		for _, t := range r.ReadStrings() {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
		flags := r.ReadUint8()
		if r.Err() == nil && flags&^(flagUP|flagUV|flagBE|flagBS) != 0 {
			return account{}, fmt.Errorf("%w: flags %#x", binenc.ErrCorrupt, flags)
		}
		c.Flags = webauthn.CredentialFlags{
			UserPresent:    flags&flagUP != 0,
			UserVerified:   flags&flagUV != 0,
			BackupEligible: flags&flagBE != 0,
			BackupState:    flags&flagBS != 0,
		}
		c.Authenticator.AAGUID = r.ReadBytes()
		count := r.ReadInt()
		c.Authenticator.CloneWarning = r.ReadBool()
		c.Authenticator.Attachment = protocol.AuthenticatorAttachment(r.ReadString())
		previous := r.ReadInt()
		c.LastTransaction = r.ReadString()
		if r.Err() != nil {
			break
		}
		if len(c.ID) == 0 || len(c.PublicKey) == 0 {
			return account{}, fmt.Errorf("%w: a credential without an ID or a key", binenc.ErrCorrupt)
		}
		if !isCount(count) || !isCount(previous) {
			return account{}, fmt.Errorf("%w: a sign count out of range", binenc.ErrCorrupt)
		}
		c.Authenticator.SignCount, c.PreviousSignCount = uint32(count), uint32(previous)
	}
	a.rest = r.Rest()
	if err := r.Err(); err != nil {
		return account{}, err
	}
	for i, c := range a.Credentials {
		for _, d := range a.Credentials[:i] {
			if bytes.Equal(c.ID, d.ID) {
				return account{}, fmt.Errorf("%w: a credential twice", binenc.ErrCorrupt)
			}
		}
	}
	return a, nil
}

// isCount reports whether v is a sign count, which is 32 bits.
func isCount(v int64) bool { return 0 <= v && v <= 1<<32-1 }

func flagBit(set bool, bit byte) byte {
	if set {
		return bit
	}
	return 0
}
