package redisstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/challengekit/challengekit/challenge"
	"github.com/challengekit/challengekit/internal/binenc"
)

// codecVersion leads every encoded record, so the format can evolve.
const codecVersion = 1

var errCorrupt = errors.New("redisstore: corrupt record")

// encode writes the fields of rec that the hash's own fields (version,
// purge time) and its key (kind, ID) do not hold.
func encode(rec *challenge.Record) []byte {
	b := make([]byte, 1, 1+binenc.Size(4, len(rec.State), len(rec.Subject), len(rec.Data)))
	b[0] = codecVersion
	b = binenc.AppendString(b, string(rec.State))
	b = binenc.AppendString(b, rec.Subject)
	b = binenc.AppendInt(b, int64(rec.Attempts))
	for _, t := range [...]time.Time{rec.CreatedAt, rec.UpdatedAt, rec.ExpiresAt} {
		b = binenc.AppendInt(b, t.UnixMicro())
	}
	return binenc.AppendBytes(b, rec.Data)
}

// decode reads what encode wrote into rec, but for Data, which it returns
// as it is encoded (a substring of b). It never panics: anything else is
// errCorrupt.
func decode(b string, rec *challenge.Record) (data string, err error) {
	r := binenc.NewStringReader(b, codecVersion)
	state, subject, attempts := r.ReadString(), r.ReadString(), r.ReadInt()
	created, updated, expires := r.ReadInt(), r.ReadInt(), r.ReadInt()
	data = r.ReadString()
	if err := r.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", errCorrupt, err)
	}
	rec.State, rec.Subject, rec.Attempts = challenge.State(state), subject, int(attempts)
	rec.CreatedAt = time.UnixMicro(created).UTC()
	rec.UpdatedAt = time.UnixMicro(updated).UTC()
	rec.ExpiresAt = time.UnixMicro(expires).UTC()
	return data, nil
}
