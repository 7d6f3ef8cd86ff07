package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

// Compile-time checks that Store implements the backend interfaces.
var (
	_ backend.Store         = (*Store)(nil)
	_ backend.ObjectLister  = (*Store)(nil)
	_ backend.ObjectScanner = (*Store)(nil)
	_ backend.ObjectDeleter = (*Store)(nil)
	_ backend.BatchGetter   = (*Store)(nil)
	_ backend.RefWatcher    = (*Store)(nil)
)

// ErrUnavailable is wrapped by the errors of calls that could not reach the
// server: connection refused or reset, network timeouts, a server that is
// loading its data set or a cluster that is down. Such a call may be
// retried; the go-redis client reconnects by itself.
var ErrUnavailable = errors.New("redis server unavailable")

// ErrNotReplicated is wrapped by the error of a CompareAndSwapRef that
// succeeded on the primary but was acknowledged by fewer replicas than the
// URL's wait=N asked for within wait_timeout. The ref has moved (and
// watchers were told); it may yet reach the replicas, or be lost if the
// primary fails now.
var ErrNotReplicated = errors.New("not acknowledged by enough replicas")

// WatchBuffer is the number of events a watcher's channel buffers. When a
// watcher falls further behind, new events for it are dropped and its
// channel is closed after the buffered ones (see backend.RefWatcher);
// writers never wait for watchers.
const WatchBuffer = watchhub.Buffer

// scanCount is the COUNT hint of each SCAN step of ListObjects.
const scanCount = 1000

// Store is a backend.Store kept in Redis: a single server, a Redis Cluster,
// or a master found through Sentinel. A Store is safe for concurrent use by
// multiple goroutines, and any number of Stores, in any number of
// processes, may share the same prefix on the same server; their ref
// updates are atomic with respect to each other and each one's watchers
// see all of them.
//
// Every method first returns an error wrapping ctx.Err() if ctx is done,
// and after Close an error wrapping backend.ErrClosed; in both cases it
// sends nothing to the server. Errors name the server address (never a
// password); those of calls that could not reach the server wrap
// ErrUnavailable and the underlying network error.
type Store struct {
	client  goredis.UniversalClient
	cluster *goredis.ClusterClient // client, if it is a cluster client
	owned   bool                   // Close closes client

	addr        string        // for messages
	objPrefix   string        // PREFIX ":o:"
	refsKey     string        // PREFIX ":refs"
	fencesKey   string        // PREFIX ":fences" (see fence.go)
	fenceTTL    time.Duration // FenceTTL if 0 (tests set it)
	channel     string        // PREFIX ":refs:events"
	wait        int
	waitTimeout time.Duration

	closed atomic.Bool

	// dropMSETs is, in tests, how many of the next small commits send
	// their script without the MSET before it, as if a fenced delete had
	// taken the objects in between.
	dropMSETs atomic.Int32

	mu          sync.Mutex // guards pubsub
	pubsub      *goredis.PubSub
	watchers    watchhub.Hub
	barriers    sync.Map // barrier token -> chan struct{}, closed when dispatch passes it
	nextBarrier atomic.Uint64
}

// Open parses rawURL (see ParseURL), connects and checks with a PING that
// the server answers, and returns a Store that owns its client: Close
// closes it. A bad URL returns an error wrapping backend.ErrInvalidURL; a
// server that does not answer an error wrapping ErrUnavailable.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open for a Config that ParseURL returned and the caller may
// have adjusted.
func OpenConfig(ctx context.Context, cfg *Config) (*Store, error) {
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("%w: redis %s: %v", backend.ErrInvalidURL, cfg.Addr(), err)
	}
	if cfg.Wait < 0 {
		return nil, fmt.Errorf("%w: redis %s: wait %d is negative", backend.ErrInvalidURL, cfg.Addr(), cfg.Wait)
	}
	client, err := cfg.newClient()
	if err != nil {
		return nil, err
	}
	s := newStore(client, cfg.Prefix, true)
	s.addr = cfg.Addr()
	s.wait, s.waitTimeout = cfg.Wait, cfg.WaitTimeout
	if s.waitTimeout <= 0 {
		s.waitTimeout = DefaultWaitTimeout
	}
	if err := ctx.Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis %s: open: %w", s.addr, err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		err = s.fail(ctx, "open: ping", err)
		_ = client.Close()
		return nil, err
	}
	return s, nil
}

// NewFromClient returns a Store that uses a client the caller made and
// owns: Close closes the Store's own subscription but not client, which
// the caller closes after the Store. An empty prefix means DefaultPrefix;
// a prefix that ParseURL would reject returns an error wrapping
// backend.ErrInvalidURL, and so does a *goredis.Ring, whose client-side
// sharding cannot run the atomic ref update. Ref updates do not wait for
// replicas.
func NewFromClient(client goredis.UniversalClient, prefix string) (*Store, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("%w: redis: %v", backend.ErrInvalidURL, err)
	}
	if _, ok := client.(*goredis.Ring); ok {
		return nil, fmt.Errorf("%w: redis: a Ring client is not supported; use a Cluster", backend.ErrInvalidURL)
	}
	s := newStore(client, prefix, false)
	switch c := client.(type) {
	case *goredis.ClusterClient:
		s.addr = "cluster " + strings.Join(c.Options().Addrs, ",")
	case *goredis.Client:
		s.addr = c.Options().Addr
	default:
		s.addr = fmt.Sprintf("%T", client)
	}
	return s, nil
}

func newStore(client goredis.UniversalClient, prefix string, owned bool) *Store {
	s := &Store{
		client:    client,
		owned:     owned,
		objPrefix: prefix + ":o:",
		refsKey:   prefix + ":refs",
		fencesKey: prefix + ":fences",
		channel:   prefix + ":refs:events",
	}
	s.cluster, _ = client.(*goredis.ClusterClient)
	return s
}

// objKey returns the key of the object h: the object prefix and the 32 raw
// bytes of h.
func (s *Store) objKey(h backend.Hash) string {
	return s.objPrefix + string(h[:])
}

// begin returns the error a call must fail with before doing anything: the
// context's, or ErrClosed.
func (s *Store) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis %s: %s: %w", s.addr, op, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("redis %s: %s: %w", s.addr, op, backend.ErrClosed)
	}
	return nil
}

// fail wraps an error that the client returned for op with the server
// address and, where it applies, ErrClosed, ctx.Err() or ErrUnavailable.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("redis %s: %s: %w (%v)", s.addr, op, backend.ErrClosed, err)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("redis %s: %s: %w (%v)", s.addr, op, ctx.Err(), err)
	case unavailable(err):
		return fmt.Errorf("redis %s: %s: %w: %w", s.addr, op, ErrUnavailable, err)
	}
	return fmt.Errorf("redis %s: %s: %w", s.addr, op, err)
}

// unavailable reports whether err means that the server could not be
// reached or cannot serve now, as opposed to refusing the command.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, goredis.ErrPoolTimeout):
		return true
	}
	for _, prefix := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"} {
		if goredis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}

// Get returns the bytes stored under h, which the caller owns. If h is not
// stored it returns an error wrapping backend.ErrNotFound. A stored empty
// object is a non-nil empty slice.
func (s *Store) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	op := "get " + h.Short()
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	b, err := s.client.Get(ctx, s.objKey(h)).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, fmt.Errorf("redis %s: %s: %w", s.addr, op, backend.ErrNotFound)
	case err != nil:
		return nil, s.fail(ctx, op, err)
	case b == nil:
		b = []byte{}
	}
	return b, nil
}

// Put stores every object's Data under its Hash with one pipeline of SET
// commands (go-redis splits it by node on a cluster), and returns after the
// server acknowledged all of them; the caller may reuse the slices then.
// On a single server the pipeline ends with a ZCARD of the fences key:
// while a garbage collector's fence stands (see FenceObjects), a second
// round trip records the objects in it, and any object that a fenced
// delete took between its SET and that record is stored again (at most
// twice more). An object that is already stored is written again with the
// same bytes, which also repairs a damaged copy. If any command fails, Put
// returns an error (the first one) and the other objects may or may not
// be stored.
func (s *Store) Put(ctx context.Context, objs []backend.Object) error {
	op := fmt.Sprintf("put %d objects", len(objs))
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	for try := 0; len(objs) > 0; try++ {
		if try == 3 {
			return fmt.Errorf("redis %s: %s: %d objects deleted again and again between their SET and the fence's record", s.addr, op, len(objs))
		}
		fenced, err := s.put(ctx, op, objs)
		if err != nil || !fenced {
			return err
		}
		missing, err := s.record(ctx, op, len(objs), func(i int) backend.Hash { return objs[i].Hash })
		if err != nil {
			return err
		}
		again := make([]backend.Object, len(missing))
		for j, i := range missing {
			again[j] = objs[i]
		}
		objs = again
	}
	return nil
}

// put sends one pipeline of SETs, and on a single server a ZCARD of the
// fences key after them: fenced reports whether a fence stood then.
func (s *Store) put(ctx context.Context, op string, objs []backend.Object) (fenced bool, err error) {
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.StatusCmd, len(objs))
	for i, o := range objs {
		data := o.Data
		if data == nil {
			data = []byte{}
		}
		cmds[i] = pipe.Set(ctx, s.objKey(o.Hash), data, 0)
	}
	var fences *goredis.IntCmd
	if s.cluster == nil {
		fences = pipe.ZCard(ctx, s.fencesKey)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return false, s.fail(ctx, op, err)
	}
	for i, c := range cmds { // Exec reports the first error; be sure
		if err := c.Err(); err != nil {
			return false, s.fail(ctx, fmt.Sprintf("%s: object %s", op, objs[i].Hash.Short()), err)
		}
	}
	return fences != nil && fences.Val() > 0, nil
}

// record records n objects (hash(i) is the hash of object i) in the live
// fences with recordScript, and returns the positions of those that are
// missing.
func (s *Store) record(ctx context.Context, op string, n int, hash func(i int) backend.Hash) ([]int, error) {
	res, err := s.runScripts(ctx, recordScript, s.batchKeys(n, hash), nil)
	if err != nil {
		return nil, s.fail(ctx, op+": record in the fences", err)
	}
	return s.positions(op, n, res, func(r any) error {
		return fmt.Errorf("redis %s: %s: the script returned %v", s.addr, op, r)
	})
}

// Has reports, for each hash in hs, whether it is stored; the result has
// len(hs) entries in the same order, from one pipeline of EXISTS commands.
// On a single server the pipeline ends with a ZCARD of the fences key:
// while a garbage collector's fence stands (see FenceObjects), a second
// round trip records the objects found in it (a writer may rely on them),
// and one that a fenced delete took in between is reported absent.
func (s *Store) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	op := fmt.Sprintf("has %d hashes", len(hs))
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	has := make([]bool, len(hs))
	if len(hs) == 0 {
		return has, nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(hs))
	for i, h := range hs {
		cmds[i] = pipe.Exists(ctx, s.objKey(h))
	}
	var fences *goredis.IntCmd
	if s.cluster == nil {
		fences = pipe.ZCard(ctx, s.fencesKey)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var found []int
	for i, c := range cmds {
		n, err := c.Result()
		if err != nil {
			return nil, s.fail(ctx, op, err)
		}
		has[i] = n > 0
		if has[i] {
			found = append(found, i)
		}
	}
	if fences == nil || fences.Val() == 0 || len(found) == 0 {
		return has, nil
	}
	gone, err := s.record(ctx, op, len(found), func(j int) backend.Hash { return hs[found[j]] })
	if err != nil {
		return nil, err
	}
	for _, j := range gone {
		has[found[j]] = false
	}
	return has, nil
}

// GetMany returns the bytes stored under each hash in hs, in the same
// order, in one round trip: one MGET on a single server, a pipeline of GETs
// on a cluster. The caller owns the slices. A missing object is a nil
// entry, not an error; a stored empty object is a non-nil empty entry.
func (s *Store) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	op := fmt.Sprintf("get %d objects", len(hs))
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	out := make([][]byte, len(hs))
	if len(hs) == 0 {
		return out, nil
	}
	if s.cluster != nil {
		pipe := s.client.Pipeline()
		cmds := make([]*goredis.StringCmd, len(hs))
		for i, h := range hs {
			cmds[i] = pipe.Get(ctx, s.objKey(h))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return nil, s.fail(ctx, op, err)
		}
		for i, c := range cmds {
			b, err := c.Bytes()
			switch {
			case errors.Is(err, goredis.Nil):
			case err != nil:
				return nil, s.fail(ctx, op, err)
			case b == nil:
				out[i] = []byte{}
			default:
				out[i] = b
			}
		}
		return out, nil
	}
	keys := make([]string, len(hs))
	for i, h := range hs {
		keys[i] = s.objKey(h)
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	if len(vals) != len(hs) {
		return nil, fmt.Errorf("redis %s: %s: MGET returned %d values", s.addr, op, len(vals))
	}
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
		case string:
			out[i] = append(make([]byte, 0, len(v)), v...)
		default:
			return nil, fmt.Errorf("redis %s: %s: MGET returned a %T", s.addr, op, v)
		}
	}
	return out, nil
}

// escapeGlob escapes the characters that SCAN's MATCH patterns treat
// specially, so that b matches only itself.
func escapeGlob(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch c {
		case '*', '?', '[', ']', '\\':
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// ListObjects calls fn with the hash of every stored object whose first
// bytes equal prefix (every object for an empty prefix), in no particular
// order, each hash once. It SCANs the keys of the server, or of every
// master of a cluster, with a MATCH pattern, so its cost grows with the
// number of keys in the database, strata's or not. fn is called from the
// calling goroutine and may use the Store; objects stored or deleted
// meanwhile may or may not be reported. ListObjects remembers the hashes
// it reported (32 bytes each) to skip SCAN's repeats. It stops and returns
// fn's error unchanged if fn returns one, and returns an error wrapping
// ctx.Err() if ctx is done before it finishes.
func (s *Store) ListObjects(ctx context.Context, prefix []byte, fn func(backend.Hash) error) error {
	op := fmt.Sprintf("list objects %x", prefix)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if len(prefix) > backend.HashSize {
		return nil
	}
	pattern := escapeGlob([]byte(s.objPrefix)) + escapeGlob(prefix) + "*"
	keyLen := len(s.objPrefix) + backend.HashSize

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []string)
	scanErr := make(chan error, 1)
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				select {
				case batches <- keys:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	go func() {
		defer close(batches)
		if s.cluster != nil {
			scanErr <- s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
				return scan(ctx, c)
			})
		} else {
			scanErr <- scan(ctx, s.client)
		}
	}()

	seen := make(map[backend.Hash]struct{})
	for keys := range batches {
		for _, k := range keys {
			if len(k) != keyLen || !strings.HasPrefix(k, s.objPrefix) {
				continue
			}
			var h backend.Hash
			copy(h[:], k[len(s.objPrefix):])
			if _, dup := seen[h]; dup || !bytes.HasPrefix(h[:], prefix) {
				continue
			}
			seen[h] = struct{}{}
			if err := ctx.Err(); err != nil {
				cancel()
				for range batches { // let the scanners finish
				}
				return s.fail(ctx, op, err)
			}
			if err := fn(h); err != nil {
				cancel()
				for range batches {
				}
				return err
			}
		}
	}
	if err := <-scanErr; err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// ScanObjects calls fn with the hash and bytes of every stored object
// (backend.ObjectScanner), in no particular order, each once: it SCANs
// the keys as ListObjects does and reads them in batches of scanCount
// with GetMany (one MGET, or one pipeline on a cluster), while the SCAN
// goes on in the background. An object deleted between its SCAN and its
// read is skipped. fn is called from the calling goroutine, owns the
// data and may use the Store. It stops and returns fn's error unchanged
// if fn returns one.
func (s *Store) ScanObjects(ctx context.Context, fn func(backend.Hash, []byte) error) error {
	batch := make([]backend.Hash, 0, scanCount)
	flush := func() error {
		datas, err := s.GetMany(ctx, batch)
		if err != nil {
			return err
		}
		for i, h := range batch {
			if datas[i] == nil {
				continue // deleted since the SCAN saw it
			}
			if err := fn(h, datas[i]); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.ListObjects(ctx, nil, func(h backend.Hash) error {
		batch = append(batch, h)
		if len(batch) < scanCount {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// DeleteObjects removes every object in hs with one pipeline of DEL
// commands. Hashes that are not stored are ignored, so deleting an absent
// object succeeds.
func (s *Store) DeleteObjects(ctx context.Context, hs []backend.Hash) error {
	op := fmt.Sprintf("delete %d objects", len(hs))
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if len(hs) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(hs))
	for i, h := range hs {
		cmds[i] = pipe.Del(ctx, s.objKey(h))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return s.fail(ctx, op, err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return s.fail(ctx, op, err)
		}
	}
	return nil
}

// hashOf decodes a ref value read from the server.
func (s *Store) hashOf(name string, v []byte) (backend.Hash, error) {
	h, err := backend.HashFromBytes(v)
	if err != nil || h.IsZero() {
		return backend.ZeroHash, fmt.Errorf("redis %s: ref %q holds %d bytes, not a hash: %w", s.addr, name, len(v), backend.ErrCorrupt)
	}
	return h, nil
}

// GetRef returns the hash that name points at (HGET), or an error wrapping
// backend.ErrNotFound if name is absent. A stored value that is not a
// non-zero 32-byte hash returns an error wrapping backend.ErrCorrupt.
func (s *Store) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	op := fmt.Sprintf("get ref %q", name)
	if err := s.begin(ctx, op); err != nil {
		return backend.ZeroHash, err
	}
	v, err := s.client.HGet(ctx, s.refsKey, name).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return backend.ZeroHash, fmt.Errorf("redis %s: %s: %w", s.addr, op, backend.ErrNotFound)
	case err != nil:
		return backend.ZeroHash, s.fail(ctx, op, err)
	}
	return s.hashOf(name, v)
}

// ListRefs returns every ref whose name starts with prefix, sorted bytewise
// by name; an empty prefix lists all refs. It reads the whole refs hash
// (HGETALL) and filters it here. The result is a new slice that the caller
// owns; it is empty, not an error, when no ref matches.
func (s *Store) ListRefs(ctx context.Context, prefix string) ([]backend.Ref, error) {
	op := fmt.Sprintf("list refs %q", prefix)
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	all, err := s.client.HGetAll(ctx, s.refsKey).Result()
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var refs []backend.Ref
	for name, v := range all {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		h, err := s.hashOf(name, []byte(v))
		if err != nil {
			return nil, err
		}
		refs = append(refs, backend.Ref{Name: name, Hash: h})
	}
	slices.SortFunc(refs, func(a, b backend.Ref) int { return strings.Compare(a.Name, b.Name) })
	return refs, nil
}

// casScript is the whole of CompareAndSwapRef, run atomically by the
// server. KEYS[1] is the refs hash; ARGV is the ref name, the old and new
// hashes (32 bytes each, zero for absent) and the events channel. It
// returns 1 on success and the current value (32 bytes, zero for absent)
// on a conflict. A successful change publishes the event "\x01" old new
// name; a swap from absent to absent changes nothing and publishes
// nothing.
var casScript = goredis.NewScript(casLua)

// casLua is the source of casScript, quoted in docs/FORMAT.md: the ref
// check, then the ref move.
const casLua = luaCheckRef + luaMoveRef

// luaCheckRef returns the current value of the ref ARGV[1] in the hash
// KEYS[1] unless it is ARGV[2] (32 zero bytes standing for absent).
const luaCheckRef = `
local zero = string.rep('\0', 32)
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then cur = zero end
if cur ~= ARGV[2] then return cur end
`

// luaMoveRef sets the ref to ARGV[3] (deletes it for zero), publishes the
// event on channel ARGV[4] and returns 1.
const luaMoveRef = `
if ARGV[3] == zero then
  if cur == zero then return 1 end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], '\1' .. ARGV[2] .. ARGV[3] .. ARGV[1])
return 1
`

// CompareAndSwapRef atomically sets name to new if it currently points at
// old, with one Lua script (EVALSHA, falling back to EVAL) that also
// publishes the change to watchers. An old of backend.ZeroHash means "name
// must be absent"; a new of backend.ZeroHash deletes name. A missing name
// never matches a non-zero old. If the current value differs from old it
// changes nothing and returns an error wrapping backend.ErrConflict (and
// backend.ErrExists when old is ZeroHash and name exists), naming both
// values.
//
// With wait=N in the URL, the script and a WAIT N are sent together on the
// connection of the master that holds the refs key, and a success that
// fewer than N replicas acknowledged within the wait timeout returns an
// error wrapping ErrNotReplicated. A swap from absent to absent changes
// nothing and is not reported to watchers; a swap to the same value is.
func (s *Store) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	op := fmt.Sprintf("compare-and-swap ref %q", name)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	keys := []string{s.refsKey}
	args := []any{name, old[:], new[:], s.channel}
	var res any
	var err error
	var acked *goredis.IntCmd
	if s.wait > 0 {
		res, acked, err = s.casAndWait(ctx, keys, args)
	} else {
		res, err = casScript.Run(ctx, s.client, keys, args...).Result()
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if err := s.swapResult(op, res, old); err != nil {
		return err
	}
	if acked == nil {
		return nil
	}
	n, err := acked.Result()
	if err != nil {
		return s.fail(ctx, op+": updated, then WAIT", err)
	}
	if int(n) < s.wait {
		return fmt.Errorf("redis %s: %s: updated, but %d of %d replicas acknowledged within %v: %w",
			s.addr, op, n, s.wait, s.waitTimeout, ErrNotReplicated)
	}
	return nil
}

// swapResult turns the reply of casScript or commitScript into an error:
// nil for success (1); for a conflict (the current value) an error
// wrapping backend.ErrConflict (backend.ErrExists if old is the zero hash)
// that names both values; for commitScript's missing objects (0) an error
// saying the ref did not move.
func (s *Store) swapResult(op string, res any, old backend.Hash) error {
	switch v := res.(type) {
	case int64:
		if v != 1 {
			return fmt.Errorf("redis %s: %s: objects of the commit are not stored; the ref did not move", s.addr, op)
		}
		return nil
	case string:
		cur, herr := backend.HashFromBytes([]byte(v))
		if herr != nil {
			return fmt.Errorf("redis %s: %s: ref holds %d bytes, not a hash: %w", s.addr, op, len(v), backend.ErrCorrupt)
		}
		if old.IsZero() {
			return fmt.Errorf("redis %s: %s: is %s: %w", s.addr, op, cur.Short(), backend.ErrExists)
		}
		return fmt.Errorf("redis %s: %s: is %s, want %s: %w", s.addr, op, cur.Describe(), old.Short(), backend.ErrConflict)
	}
	return fmt.Errorf("redis %s: %s: the script returned a %T", s.addr, op, res)
}

// waiter is the part of *goredis.Pipeline that goredis.Pipeliner lacks:
// Wait, which also extends the read timeout to the wait timeout.
type waiter interface {
	Wait(ctx context.Context, numReplicas int, timeout time.Duration) *goredis.IntCmd
}

// casAndWait runs the CAS script and WAIT in one pipeline, so that both use
// the same connection, to the master that holds the refs key: WAIT counts
// the replicas that have the writes of its own connection.
func (s *Store) casAndWait(ctx context.Context, keys []string, args []any) (any, *goredis.IntCmd, error) {
	var node goredis.Cmdable = s.client
	if s.cluster != nil {
		c, err := s.cluster.MasterForKey(ctx, s.refsKey)
		if err != nil {
			return nil, nil, err
		}
		node = c
	}
	run := func(eval func(pipe goredis.Pipeliner) *goredis.Cmd) (*goredis.Cmd, *goredis.IntCmd, error) {
		pipe := node.Pipeline()
		w, ok := pipe.(waiter)
		if !ok {
			return nil, nil, fmt.Errorf("a %T cannot send WAIT", pipe)
		}
		cas := eval(pipe)
		acked := w.Wait(ctx, s.wait, s.waitTimeout)
		_, _ = pipe.Exec(ctx) // the first error of the two commands, checked one by one
		return cas, acked, cas.Err()
	}
	cas, acked, err := run(func(pipe goredis.Pipeliner) *goredis.Cmd {
		return casScript.EvalSha(ctx, pipe, keys, args...)
	})
	if goredis.HasErrorPrefix(err, "NOSCRIPT") { // the script did not run: send its source
		cas, acked, err = run(func(pipe goredis.Pipeliner) *goredis.Cmd {
			return casScript.Eval(ctx, pipe, keys, args...)
		})
	}
	if err != nil {
		return nil, nil, err
	}
	return cas.Val(), acked, nil
}

// Close closes every watcher's channel and the Store's subscription and,
// for a Store from Open, its client; a Store from NewFromClient leaves the
// caller's client open. After Close every other method returns an error
// wrapping backend.ErrClosed. Close is idempotent; it returns the error of
// closing the client, if any, the first time.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.mu.Lock()
	ps := s.pubsub
	s.pubsub = nil
	s.watchers.Close()
	s.mu.Unlock()

	var errs []error
	if ps != nil {
		if err := ps.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.owned {
		if err := s.client.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redis %s: close: %w", s.addr, err)
	}
	return nil
}

// RefNames implements backend.RefRepairer: the names of every ref that
// starts with prefix (HKEYS of the refs hash, filtered here), sorted,
// whatever their values.
func (s *Store) RefNames(ctx context.Context, prefix string) ([]string, error) {
	op := fmt.Sprintf("list ref names %q", prefix)
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	all, err := s.client.HKeys(ctx, s.refsKey).Result()
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var names []string
	for _, n := range all {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// DeleteRef implements backend.RefRepairer: it removes ref name (HDEL),
// whatever it holds; watchers are not told.
func (s *Store) DeleteRef(ctx context.Context, name string) error {
	op := fmt.Sprintf("delete ref %q", name)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := s.client.HDel(ctx, s.refsKey, name).Err(); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

var _ backend.RefRepairer = (*Store)(nil)
