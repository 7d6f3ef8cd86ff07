package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
)

var _ backend.RefCommitter = (*Store)(nil)

// commitMaxObjects and commitMaxBytes bound the commits that PutAndSwapRef
// sends as one script: a script blocks the server while it runs, so a large
// commit (a bulk load) goes out as a pipeline and a separate swap instead.
const (
	commitMaxObjects = 256
	commitMaxBytes   = 1 << 20
)

// commitScript is casScript that first checks the ref and then stores the
// objects of the commit: KEYS[1] is the refs hash and KEYS[2..] the object
// keys; ARGV is the ref name, the old and new hashes, the events channel,
// then the objects' bytes in the order of their keys. It returns what
// casScript returns; on a conflict it stores nothing.
var commitScript = goredis.NewScript(commitLua)

// commitLua is the source of commitScript, quoted in docs/FORMAT.md: the
// ref check, the objects, then the ref move.
const commitLua = luaCheckRef + `
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 3])
end
` + luaMoveRef

// PutAndSwapRef implements backend.RefCommitter. On a single server, a
// small commit (at most 256 objects and 1 MiB) is one script that checks
// the ref, stores the objects and moves the ref atomically: one round
// trip, and on a conflict nothing is stored. A larger commit, a Cluster
// (whose objects live on other nodes than the refs key) and a store with
// wait=N take two round trips: Put's pipeline, then CompareAndSwapRef.
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
	args := make([]any, 4, 4+len(objs))
	args[0], args[1], args[2], args[3] = name, old[:], new[:], s.channel
	for _, o := range objs {
		keys = append(keys, s.objKey(o.Hash))
		data := o.Data
		if data == nil {
			data = []byte{}
		}
		args = append(args, data)
	}
	res, err := commitScript.Run(ctx, s.client, keys, args...).Result()
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return s.swapResult(op, res, old)
}
