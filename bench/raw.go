package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"

	pdb "github.com/cockroachdb/pebble/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend/pebble"
)

// The floors store each key's value straight into the raw backend, under
// the SHA-256 of the key (32 random-looking bytes, like the content
// addresses strata writes), with no versioning. They support load (N puts
// in one synced batch, or N pipelined SETs), set (one synced put, or one
// SET round trip) and get (one read).

func rawKey(prefix, key string) []byte {
	h := sha256.Sum256([]byte(key))
	return append([]byte(prefix), h[:]...)
}

func rawSupports(w string) bool { return w == WLoad || w == WSet || w == WGet }

// RawPebble makes floor targets on Pebble itself
// (github.com/cockroachdb/pebble/v2 with the options strata's backend sets:
// Pebble's defaults but for pebble.MemTableSize), each in a new directory
// under parent ("" means os.TempDir()) that Close removes.
func RawPebble(parent string) Factory {
	return Factory{Name: "raw-pebble", Floor: true, New: func(ctx context.Context) (Target, error) {
		dir, err := os.MkdirTemp(parent, "stratabench-rawpebble-*")
		if err != nil {
			return nil, err
		}
		db, err := pdb.Open(dir, &pdb.Options{Logger: quietLogger{}, MemTableSize: pebble.MemTableSize})
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		return &rawPebble{db: db, dir: dir}, nil
	}}
}

type rawPebble struct {
	db  *pdb.DB
	dir string
}

func (t *rawPebble) Supports(w string) bool { return rawSupports(w) }

func (t *rawPebble) Load(ctx context.Context, d Dataset) (Rev, error) {
	b := t.db.NewBatch()
	defer b.Close()
	for i := 0; i < d.N; i++ {
		if err := b.Set(rawKey("o", d.Key(i)), d.Value(i, 0), nil); err != nil {
			return "", err
		}
	}
	return "", b.Commit(pdb.Sync)
}

func (t *rawPebble) Commit(ctx context.Context, cs []Change) (Rev, error) {
	if len(cs) == 1 {
		return "", t.db.Set(rawKey("o", cs[0].Key), cs[0].Value, pdb.Sync)
	}
	b := t.db.NewBatch()
	defer b.Close()
	for _, c := range cs {
		if err := b.Set(rawKey("o", c.Key), c.Value, nil); err != nil {
			return "", err
		}
	}
	return "", b.Commit(pdb.Sync)
}

func (t *rawPebble) Get(ctx context.Context, key string) ([]byte, error) {
	v, closer, err := t.db.Get(rawKey("o", key))
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	return out, closer.Close()
}

func (t *rawPebble) Diff(context.Context, Rev, Rev) (int, error)         { return 0, ErrUnsupported }
func (t *rawPebble) LogPath(context.Context, string) (int, error)        { return 0, ErrUnsupported }
func (t *rawPebble) List(context.Context, string, int) ([]string, error) { return nil, ErrUnsupported }

func (t *rawPebble) Close() error {
	err := t.db.Close()
	if rerr := os.RemoveAll(t.dir); err == nil {
		err = rerr
	}
	return err
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// RawRedis makes floor targets on the Redis server at addr, through
// go-redis directly. Each new target empties the server (FLUSHALL): give
// it a server the benchmark started, never a shared one.
func RawRedis(addr string) Factory {
	return Factory{Name: "raw-redis", Floor: true, New: func(ctx context.Context) (Target, error) {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		if err := c.FlushAll(ctx).Err(); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("redis %s: %w", addr, err)
		}
		return &rawRedis{c: c}, nil
	}}
}

type rawRedis struct{ c *goredis.Client }

func (t *rawRedis) Supports(w string) bool { return rawSupports(w) }

// RedisPipelineDepth is the number of SETs the Redis floor sends per
// pipeline when it loads: go-redis is fastest with pipelines of this
// order; one pipeline of a million commands is several times slower.
const RedisPipelineDepth = 10_000

// Load sends N SETs in pipelines of RedisPipelineDepth commands.
func (t *rawRedis) Load(ctx context.Context, d Dataset) (Rev, error) {
	for lo := 0; lo < d.N; lo += RedisPipelineDepth {
		pipe := t.c.Pipeline()
		for i := lo; i < min(d.N, lo+RedisPipelineDepth); i++ {
			pipe.Set(ctx, string(rawKey("raw:o:", d.Key(i))), d.Value(i, 0), 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return "", err
		}
	}
	return "", nil
}

// Commit of one change is one SET round trip, not pipelined.
func (t *rawRedis) Commit(ctx context.Context, cs []Change) (Rev, error) {
	if len(cs) == 1 {
		return "", t.c.Set(ctx, string(rawKey("raw:o:", cs[0].Key)), cs[0].Value, 0).Err()
	}
	pipe := t.c.Pipeline()
	for _, c := range cs {
		pipe.Set(ctx, string(rawKey("raw:o:", c.Key)), c.Value, 0)
	}
	_, err := pipe.Exec(ctx)
	return "", err
}

func (t *rawRedis) Get(ctx context.Context, key string) ([]byte, error) {
	return t.c.Get(ctx, string(rawKey("raw:o:", key))).Bytes()
}

func (t *rawRedis) Diff(context.Context, Rev, Rev) (int, error)         { return 0, ErrUnsupported }
func (t *rawRedis) LogPath(context.Context, string) (int, error)        { return 0, ErrUnsupported }
func (t *rawRedis) List(context.Context, string, int) ([]string, error) { return nil, ErrUnsupported }

func (t *rawRedis) Close() error {
	err := t.c.FlushAll(context.Background()).Err()
	if cerr := t.c.Close(); err == nil {
		err = cerr
	}
	return err
}
