package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
)

var _ backend.RefCommitter = (*Store)(nil)

// commitMaxObjects and commitMaxBytes bound the commits that PutAndSwapRef
// sends as one MSET and script: MSET blocks the server while it runs, and
// the script takes every object key as an argument, so a large commit (a
// bulk load) goes out as Put's pipeline and a separate swap instead.
const (
	commitMaxObjects = 256
	commitMaxBytes   = 1 << 20
)

// commitScript moves the ref of a commit whose objects the MSET sent just
// before it on the same connection has stored: KEYS[1] is the refs hash
// and KEYS[2..] the object keys; ARGV is the ref name, the old and new
// hashes and the events channel, as for casScript. It checks the ref as
// casScript does (returning the current value on a conflict), then that
// every object key exists (returning 0, and moving nothing, if one does
// not: the MSET failed), then moves the ref as casScript does and
// returns 1.
var commitScript = goredis.NewScript(commitLua)

// commitLua is the source of commitScript, quoted in docs/FORMAT.md: the
// ref check, the objects' check, then the ref move.
const commitLua = luaCheckRef + `
if #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) ~= #KEYS - 1 then return 0 end
` + luaMoveRef

// PutAndSwapRef implements backend.RefCommitter. On a single server, a
// small commit (at most 256 objects and 1 MiB) is one round trip: a
// pipeline of one MSET of the objects and commitScript, which checks the
// ref, checks that the objects are stored and moves the ref, atomically.
// The objects are stored whether or not the ref moves (on a conflict they
// stay, unreferenced, for garbage collection); the ref moves only if every
// object is stored. A larger commit, a Cluster (whose objects live on
// other nodes than the refs key) and a store with wait=N take two round
// trips: Put's pipeline, then CompareAndSwapRef.
func (s *Store) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	size := 0
	for _, o := range objs {
		size += len(o.Data)
	}
	if s.cluster != nil || s.wait > 0 || len(objs) > commitMaxObjects || size > commitMaxBytes {
		if err := s.Put(ctx, objs); err != nil {
			return err
		}
		return s.CompareAndSwapRef(ctx, name, old, new)
	}
	op := fmt.Sprintf("commit %d objects and ref %q", len(objs), name)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	keys := make([]string, 1, 1+len(objs))
	keys[0] = s.refsKey
	pairs := make([]any, 0, 2*len(objs))
	for _, o := range objs {
		k := s.objKey(o.Hash)
		data := o.Data
		if data == nil {
			data = []byte{}
		}
		keys = append(keys, k)
		pairs = append(pairs, k, data)
	}
	args := []any{name, old[:], new[:], s.channel}
	pipe := s.client.Pipeline()
	var mset *goredis.StatusCmd
	if len(objs) > 0 {
		mset = pipe.MSet(ctx, pairs...)
	}
	move := commitScript.EvalSha(ctx, pipe, keys, args...)
	_, _ = pipe.Exec(ctx) // the first error of the two commands, checked one by one
	var msetErr error
	if mset != nil {
		msetErr = mset.Err()
	}
	// The script's answer decides: the ref moved (the objects were all
	// stored, whatever MSET answered: they may have been stored before),
	// or it is another (a conflict, whatever MSET answered), or the
	// objects are not all stored, which MSET's error explains if it failed.
	res, err := move.Result()
	if goredis.HasErrorPrefix(err, "NOSCRIPT") { // the script did not run: send its source
		res, err = commitScript.Eval(ctx, s.client, keys, args...).Result()
	}
	if msetErr != nil {
		if v, ok := res.(int64); err != nil || ok && v != 1 {
			return s.fail(ctx, op+": store objects", msetErr)
		}
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return s.swapResult(op, res, old)
}
