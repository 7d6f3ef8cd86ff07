package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
)

var _ backend.ObjectFencer = (*Store)(nil)

var _ backend.FenceReleaser = (*fence)(nil)

// FenceTTL is how long a fence lasts on the server unless its collector
// renews it (every FenceTTL/4 while it stands, and at each fenced
// delete): a collector that dies leaves a fence that lapses after at
// most this long, and writers stop recording into it then.
const FenceTTL = 10 * time.Minute

// scriptBatch bounds the objects one call of recordScript or
// fenceDeleteScript takes: a script blocks the server while it runs.
const scriptBatch = 256

// luaNow is the prelude of the scripts that read the server's clock:
// nowMs() returns the server time in milliseconds.
const luaNow = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// luaFences is the prelude of every script that stores objects or
// reports them present: fenceSets(k) returns the sets of the live fences
// registered in the sorted set k (members are fence ids, scores the
// server time in milliseconds at which they lapse), after removing the
// lapsed ones and their sets. A fence's set is k .. ':' .. id. It reads
// the server's clock only when a fence is registered.
const luaFences = luaNow + `
local function fenceSets(k)
  if redis.call('ZCARD', k) == 0 then return {} end
  local now = nowMs()
  local ids = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  local sets = {}
  for i = 1, #ids, 2 do
    if tonumber(ids[i + 1]) <= now then
      redis.call('ZREM', k, ids[i])
      redis.call('DEL', k .. ':' .. ids[i])
    else
      sets[#sets + 1] = k .. ':' .. ids[i]
    end
  end
  return sets
end
`

// recordScript records objects in every live fence and returns the
// 0-based positions of those missing: KEYS[1] is the fences key, KEYS[2..]
// the object keys. Put runs it after its SETs while a fence stands, and
// stores again what it reports missing (deleted by a fenced delete
// between the SET and the record); Has runs it on the objects it found,
// and reports the missing ones absent.
var recordScript = goredis.NewScript(luaFences + `
if redis.call('EXISTS', unpack(KEYS, 2)) == #KEYS - 1 then
  for _, s in ipairs(fenceSets(KEYS[1])) do redis.call('SADD', s, unpack(KEYS, 2)) end
  return {}
end
local sets = fenceSets(KEYS[1])
local missing = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    for _, s in ipairs(sets) do redis.call('SADD', s, KEYS[i]) end
  else
    missing[#missing + 1] = i - 2
  end
end
return missing
`)

// fenceBeginScript registers fence ARGV[1] in KEYS[1], to lapse ARGV[2]
// milliseconds from now (server time), after dropping the fences that
// have lapsed and their sets. With ARGV[3] = 'renew' it only renews a
// fence that is registered and live, and returns 0 if there is none (it
// has lapsed or was released), else 1. No fence key has a TTL: under a
// volatile-* maxmemory policy Redis would evict it first, and a fence
// whose set is gone would let the delete take what writers rely on.
var fenceBeginScript = goredis.NewScript(luaFences + `
local now = nowMs()
if ARGV[3] == 'renew' then
  local sc = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not sc or tonumber(sc) <= now then return 0 end
else
  fenceSets(KEYS[1]) -- drops the fences that lapsed, and their sets
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`)

// fenceDeleteScript deletes the objects that fence ARGV[1] has not
// recorded and returns the 0-based positions (among KEYS[2..]) of those
// it kept; -1, deleting nothing, if the fence is not live. KEYS[1] is
// the fences key, KEYS[2..] the object keys. It renews the fence by
// ARGV[2] milliseconds.
var fenceDeleteScript = goredis.NewScript(luaNow + `
local now = nowMs()
local sc = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not sc or tonumber(sc) <= now then return -1 end
local set = KEYS[1] .. ':' .. ARGV[1]
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local kept = {}
for i = 2, #KEYS do
  if redis.call('SISMEMBER', set, KEYS[i]) == 1 then
    kept[#kept + 1] = i - 2
  else
    redis.call('DEL', KEYS[i])
  end
end
return kept
`)

// fence is a fence kept on the server (see FenceObjects).
type fence struct {
	s        *Store
	id       string
	stop     context.CancelFunc // ends ctx: stops the renewals (Release)
	ctx      context.Context    // of the renewals
	once     sync.Once
	released atomic.Bool   // Release began: DeleteObjectsFenced refuses it, even if the server still has it
	done     chan struct{} // closed when the renewer has stopped
	ttl      time.Duration // FenceTTL, but in tests
}

// FenceObjects implements backend.ObjectFencer on a single server (or
// one behind Sentinel): it registers a fence in the sorted set P:fences,
// and every Put, PutAndSwapRef and Has of every process records the
// objects it stores or finds in the fence's set P:fences:<id>, in the
// same script as the write (see docs/FORMAT.md). A goroutine renews the
// fence every FenceTTL/4 until Release; one whose collector has died
// lapses after FenceTTL. On a Cluster, whose objects live on other nodes
// than that key, it returns an error wrapping errors.ErrUnsupported.
func (s *Store) FenceObjects(ctx context.Context) (backend.Fence, error) {
	const op = "fence objects"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	if s.cluster != nil {
		return nil, fmt.Errorf("redis %s: %s: a Cluster keeps no fences: %w", s.addr, op, errors.ErrUnsupported)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	f := &fence{s: s, id: hex.EncodeToString(b[:]), done: make(chan struct{})}
	f.ttl = s.fenceTTL
	if f.ttl <= 0 {
		f.ttl = FenceTTL
	}
	if _, err := fenceBeginScript.Run(ctx, s.client, []string{s.fencesKey}, f.id, f.ttl.Milliseconds(), "begin").Result(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	f.ctx, f.stop = context.WithCancel(context.Background())
	go f.renew()
	return f, nil
}

// renew renews the fence every FenceTTL/4 until Release. A renewal that
// fails is tried again at the next tick; a fence that has lapsed
// meanwhile stays lapsed (the next fenced delete reports it).
func (f *fence) renew() {
	defer close(f.done)
	t := time.NewTicker(f.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done(): // released; a renewal in flight is cancelled too
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
			_ = fenceBeginScript.Run(ctx, f.s.client, []string{f.s.fencesKey}, f.id, f.ttl.Milliseconds(), "renew").Err()
			cancel()
		}
	}
}

// Release implements backend.Fence: it stops the renewals and removes the
// fence and its set from the server, waiting for it for up to 30 seconds.
// If the server cannot be reached, or the Store is closed already, the
// fence lapses by itself after at most FenceTTL, and the next write after
// that removes it; until then every Put and Has pays the record's round
// trip.
func (f *fence) Release() { f.ReleaseContext(context.Background()) }

// ReleaseContext implements backend.FenceReleaser: Release, giving up on
// the server once ctx is done.
func (f *fence) ReleaseContext(ctx context.Context) {
	f.once.Do(func() {
		f.released.Store(true)
		f.stop()
		<-f.done
		if f.s.closed.Load() || ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		pipe := f.s.client.TxPipeline()
		pipe.ZRem(ctx, f.s.fencesKey, f.id)
		pipe.Del(ctx, f.s.fencesKey+":"+f.id)
		_, _ = pipe.Exec(ctx)
	})
}

// DeleteObjectsFenced implements backend.ObjectFencer: one script per 256
// objects, in one pipeline, each deleting the objects the fence has not
// recorded, atomically with respect to every write's script.
func (s *Store) DeleteObjectsFenced(ctx context.Context, bf backend.Fence, hs []backend.Hash) ([]backend.Hash, error) {
	op := fmt.Sprintf("delete %d objects", len(hs))
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	f, ok := bf.(*fence)
	if !ok || f.s != s || f.released.Load() {
		return nil, fmt.Errorf("redis %s: %s: %w", s.addr, op, backend.ErrBadFence)
	}
	var kept []backend.Hash
	keys := s.batchKeys(len(hs), func(i int) backend.Hash { return hs[i] })
	argv := make([][]any, len(keys))
	for i := range argv {
		argv[i] = []any{f.id, f.ttl.Milliseconds()}
	}
	res, err := s.runScripts(ctx, fenceDeleteScript, keys, argv)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	pos, err := s.positions(op, len(hs), res, func(any) error {
		return fmt.Errorf("redis %s: %s: fence %s has lapsed or was released: %w", s.addr, op, f.id, backend.ErrBadFence)
	})
	if err != nil {
		return nil, err
	}
	for _, i := range pos {
		kept = append(kept, hs[i])
	}
	return kept, nil
}

// positions turns the replies of a script run once per scriptBatch of n
// objects (batchKeys), each a table of 0-based positions within its
// batch, into positions among the n. A reply that is not a table is
// notTable's error.
func (s *Store) positions(op string, n int, res []any, notTable func(r any) error) ([]int, error) {
	var out []int
	for b, r := range res {
		pos, ok := r.([]any)
		if !ok {
			return nil, notTable(r)
		}
		for _, p := range pos {
			i, ok := p.(int64)
			if !ok || i < 0 || int(i) >= min(scriptBatch, n-b*scriptBatch) {
				return nil, fmt.Errorf("redis %s: %s: the script returned %v", s.addr, op, r)
			}
			out = append(out, b*scriptBatch+int(i))
		}
	}
	return out, nil
}

// runScripts runs script once per keys[i] and argv[i] (no ARGV if argv
// is nil), all in one pipeline, and returns each call's reply. A server that does not have
// the script gets its source, and the calls are sent again: every
// script it runs stores, reads or deletes what a second run stores,
// reads or deletes the same way.
func (s *Store) runScripts(ctx context.Context, script *goredis.Script, keys [][]string, argv [][]any) ([]any, error) {
	run := func(eval func(pipe goredis.Pipeliner, i int) *goredis.Cmd) ([]any, error) {
		pipe := s.client.Pipeline()
		cmds := make([]*goredis.Cmd, len(keys))
		for i := range keys {
			cmds[i] = eval(pipe, i)
		}
		_, _ = pipe.Exec(ctx) // the first error: each command is checked below
		out := make([]any, len(cmds))
		for i, c := range cmds {
			v, err := c.Result()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	args := func(i int) []any {
		if argv == nil {
			return nil
		}
		return argv[i]
	}
	out, err := run(func(pipe goredis.Pipeliner, i int) *goredis.Cmd {
		return script.EvalSha(ctx, pipe, keys[i], args(i)...)
	})
	if goredis.HasErrorPrefix(err, "NOSCRIPT") {
		out, err = run(func(pipe goredis.Pipeliner, i int) *goredis.Cmd {
			return script.Eval(ctx, pipe, keys[i], args(i)...)
		})
	}
	return out, err
}

// batchKeys returns, for each scriptBatch of n objects, the fences key
// followed by their object keys; hash(i) is the hash of object i.
func (s *Store) batchKeys(n int, hash func(i int) backend.Hash) [][]string {
	var out [][]string
	for i := 0; i < n; i += scriptBatch {
		m := min(scriptBatch, n-i)
		keys := make([]string, 1+m)
		keys[0] = s.fencesKey
		for j := range m {
			keys[1+j] = s.objKey(hash(i + j))
		}
		out = append(out, keys)
	}
	return out
}
