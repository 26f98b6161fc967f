package redisstore

import "github.com/challengekit/challengekit/challenge"

// The codec, for the fuzz target in package redisstore_test.
var EncodeForTest = encode

// DecodeForTest is decode with Data set, as Get sets it.
func DecodeForTest(b string, rec *challenge.Record) error {
	data, err := decode(b, rec)
	if data != "" {
		rec.Data = []byte(data)
	}
	return err
}
