package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
// before it on the same connection has stored: KEYS[1] is the refs hash,
// KEYS[2] the fences key and KEYS[3..] the object keys; ARGV is the ref
// name, the old and new hashes and the events channel, as for casScript.
// It checks the ref as casScript does (returning the current value on a
// conflict), then that every object key exists (returning 0, and moving
// nothing, if one does not: the MSET failed, or garbage collection
// deleted one in between), records the objects in the garbage
// collector's fences (see FenceObjects), then moves the ref as casScript
// does and returns 1.
var commitScript = goredis.NewScript(commitLua)

// commitSHA is the SHA-1 of commitLua, boxed once for commitArgs.
var commitSHA any = commitScript.Hash()

// commitLua is the source of commitScript, quoted in docs/FORMAT.md: the
// fences' prelude, the ref check, the objects' check and record, then
// the ref move.
const commitLua = luaFences + luaCheckRef + `
if #KEYS > 2 and redis.call('EXISTS', unpack(KEYS, 3)) ~= #KEYS - 2 then return 0 end
for _, s in ipairs(fenceSets(KEYS[2])) do
  if #KEYS > 2 then redis.call('SADD', s, unpack(KEYS, 3)) end
end
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
	op := func() string { return fmt.Sprintf("commit %d objects and ref %q", len(objs), name) }
	if ctx.Err() != nil || s.closed.Load() {
		if err := s.begin(ctx, op()); err != nil {
			return err
		}
	}
	msetArgs, evalArgs := s.commitArgs(objs, name, old, new)
	err := s.commit(ctx, op, msetArgs, evalArgs, old)
	if errors.Is(err, errObjectsGone) && ctx.Err() == nil {
		// MSET stored them, but garbage collection deleted one before
		// the script could record them in its fence: once more (a
		// collection deletes an object once; a second one racing the
		// retry too makes the commit fail, with nothing moved).
		err = s.commit(ctx, op, msetArgs, evalArgs, old)
	}
	return err
}

// errObjectsGone is commit's error when the script found an object of
// the commit missing although MSET succeeded.
var errObjectsGone = errors.New("objects of the commit are not stored")

// commit sends the MSET and the commit script of PutAndSwapRef in one
// pipeline and returns the outcome.
func (s *Store) commit(ctx context.Context, op func() string, msetArgs, evalArgs []any, old backend.Hash) error {
	pipe := s.client.Pipeline()
	var mset *goredis.StatusCmd
	if len(msetArgs) > 1 && (s.dropMSETs.Load() == 0 || s.dropMSETs.Add(-1) < 0) {
		mset = goredis.NewStatusCmd(ctx, msetArgs...)
		_ = pipe.Process(ctx, mset)
	}
	move := goredis.NewCmd(ctx, evalArgs...)
	_ = pipe.Process(ctx, move)
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
	if v, ok := res.(int64); ok && v == 1 && err == nil {
		return nil
	}
	if goredis.HasErrorPrefix(err, "NOSCRIPT") { // the script did not run: send its source
		evalArgs[0], evalArgs[1] = "eval", commitLua
		res, err = s.client.Do(ctx, evalArgs...).Result()
	}
	if msetErr != nil {
		if v, ok := res.(int64); err != nil || ok && v != 1 {
			return s.fail(ctx, op()+": store objects", msetErr)
		}
	}
	if err != nil {
		return s.fail(ctx, op(), err)
	}
	if v, ok := res.(int64); ok && v == 0 {
		return fmt.Errorf("redis %s: %s: %w (stored, then deleted by garbage collection or eviction before the script ran); the ref did not move", s.addr, op(), errObjectsGone)
	}
	return s.swapResult(op(), res, old)
}

// commitArgs returns the arguments of PutAndSwapRef's two commands: MSET
// of objs, and EVALSHA of commitScript with the refs key, the fences key
// and the object keys as KEYS and name, old, new and the events channel as ARGV. Every
// object key is cut from one string, and every argument but name is
// passed as a pointer (a *string, or a *bytesArg into objs' own Data and
// one array of the two hashes), which boxes without allocating: the
// arguments take five allocations (six from 255 objects on, when the key
// count no longer boxes without allocating) whatever the number of objects, where
// go-redis's MSet and Script.EvalSha would box each key and value anew.
// The arguments point into objs, which must not change until the
// commands are sent.
func (s *Store) commitArgs(objs []backend.Object, name string, old, new backend.Hash) (msetArgs, evalArgs []any) {
	n := len(objs)
	keyLen := len(s.objPrefix) + backend.HashSize
	var sb strings.Builder
	sb.Grow(n * keyLen)
	for _, o := range objs {
		sb.WriteString(s.objPrefix)
		sb.Write(o.Hash[:])
	}
	all := sb.String()
	keys := make([]string, n)
	args := make([]any, 1+2*n+5+n+4)
	msetArgs, evalArgs = args[:1+2*n], args[1+2*n:]
	msetArgs[0] = "mset"
	evalArgs[0], evalArgs[1], evalArgs[2], evalArgs[3], evalArgs[4] = "evalsha", commitSHA, 2+n, &s.refsKey, &s.fencesKey
	for i := range objs {
		keys[i] = all[i*keyLen : (i+1)*keyLen]
		msetArgs[1+2*i], msetArgs[2+2*i] = &keys[i], (*bytesArg)(&objs[i].Data)
		evalArgs[5+i] = &keys[i]
	}
	h := &struct {
		hashes [2]backend.Hash
		args   [2]bytesArg
	}{hashes: [2]backend.Hash{old, new}}
	h.args[0], h.args[1] = h.hashes[0][:], h.hashes[1][:]
	evalArgs[5+n], evalArgs[6+n], evalArgs[7+n], evalArgs[8+n] = name, &h.args[0], &h.args[1], &s.channel
	return msetArgs, evalArgs
}

// bytesArg is a command argument that go-redis sends as its bytes (a nil
// or empty one as the empty string): a *bytesArg is an
// encoding.BinaryMarshaler, and a pointer boxes into an any without the
// allocation that boxing a []byte takes.
type bytesArg []byte

// MarshalBinary returns *b itself, not a copy.
func (b *bytesArg) MarshalBinary() ([]byte, error) { return *b, nil }
