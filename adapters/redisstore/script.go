package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// script is a Lua script that the store and the limiter send with EVALSHA,
// and with EVAL when Redis answers NOSCRIPT, as redis.Script.Run does.
// Unlike Script.Run, its run takes the command's whole argument list,
// which the caller allocates once with room for the command's name, the
// script and the key count: Script.Run would copy keys and arguments into
// a list of its own. Its hash and source are put in interfaces once, here,
// rather than at every call.
type script struct {
	*redis.Script // for Load
	hash, src     any
}

func newScript(src string) script {
	sc := redis.NewScript(src)
	return script{Script: sc, hash: sc.Hash(), src: src}
}

// run sends the script with args, whose first three elements it sets (the
// command's name, the script, len(keys)) and whose next are the keys, then
// the script's arguments.
func (sc script) run(ctx context.Context, c redis.UniversalClient, keys int, args []any) *redis.Cmd {
	args[0], args[1], args[2] = "evalsha", sc.hash, keys
	cmd := sc.send(ctx, c, args)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		// A list of its own: the answered command keeps args as its Args.
		cmd = sc.send(ctx, c, append([]any{"eval", sc.src}, args[2:]...))
	}
	return cmd
}

func (script) send(ctx context.Context, c redis.UniversalClient, args []any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3) // Cluster routes it on its first key
	_ = c.Process(ctx, cmd)
	return cmd
}

// bytesArg is a []byte that goes in a command's arguments as a pointer,
// which, unlike the slice itself, an interface holds without allocating.
// go-redis sends it as it would send the slice.
type bytesArg []byte

func (b *bytesArg) MarshalBinary() ([]byte, error) { return *b, nil }
