package redisstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/challengekit/challengekit/challenge"
)

// codecVersion leads every encoded record, so the format can evolve.
const codecVersion = 1

var errCorrupt = errors.New("redisstore: corrupt record")

// encode writes the fields of rec that the hash's own fields (version,
// purge time) and its key (kind, ID) do not hold.
func encode(rec *challenge.Record) []byte {
	b := make([]byte, 0, 64+len(rec.State)+len(rec.Subject)+len(rec.Data))
	b = append(b, codecVersion)
	for _, s := range []string{string(rec.State), rec.Subject} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(rec.Attempts))
	for _, t := range []time.Time{rec.CreatedAt, rec.UpdatedAt, rec.ExpiresAt} {
		b = binary.AppendVarint(b, t.UnixMicro())
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Data)))
	return append(b, rec.Data...)
}

// decode reads what encode wrote into rec. It never panics: anything else
// is errCorrupt.
func decode(b []byte, rec *challenge.Record) error {
	if len(b) == 0 || b[0] != codecVersion {
		return fmt.Errorf("%w: unknown version", errCorrupt)
	}
	b = b[1:]
	bytesField := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: truncated", errCorrupt)
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, nil
	}
	varint := func() (int64, error) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return 0, fmt.Errorf("%w: truncated", errCorrupt)
		}
		b = b[k:]
		return v, nil
	}
	state, err := bytesField()
	if err != nil {
		return err
	}
	subject, err := bytesField()
	if err != nil {
		return err
	}
	attempts, err := varint()
	if err != nil {
		return err
	}
	var times [3]int64
	for i := range times {
		if times[i], err = varint(); err != nil {
			return err
		}
	}
	data, err := bytesField()
	if err != nil {
		return err
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(b))
	}
	rec.State, rec.Subject, rec.Attempts = challenge.State(state), string(subject), int(attempts)
	rec.CreatedAt = time.UnixMicro(times[0]).UTC()
	rec.UpdatedAt = time.UnixMicro(times[1]).UTC()
	rec.ExpiresAt = time.UnixMicro(times[2]).UTC()
	if len(data) > 0 {
		rec.Data = append([]byte(nil), data...)
	}
	return nil
}
