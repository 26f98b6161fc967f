package redisstore

// The codec, for the fuzz target in package redisstore_test.
var (
	EncodeForTest = encode
	DecodeForTest = decode
)
