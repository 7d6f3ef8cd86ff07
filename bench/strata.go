package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/backend/pebble"
)

// BranchName is the branch every strata target writes.
const BranchName = "main"

// StrataMem makes strata targets on the in-memory backend. They support
// every workload, mem included.
func StrataMem() Factory {
	return Factory{Name: "strata-mem", New: func(ctx context.Context) (Target, error) {
		return NewStrata(strata.New(mem.New()), true, nil), nil
	}}
}

// StrataPebble makes strata targets on the embedded Pebble backend, each
// in a new directory under parent ("" means os.TempDir()) that Close
// removes.
func StrataPebble(parent string) Factory {
	return Factory{Name: "strata-pebble", New: func(ctx context.Context) (Target, error) {
		dir, err := os.MkdirTemp(parent, "stratabench-pebble-*")
		if err != nil {
			return nil, err
		}
		s, err := pebble.Open(ctx, dir, nil)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		return NewStrata(strata.New(s), false, func() error { return os.RemoveAll(dir) }), nil
	}}
}

// NewStrata returns a Target over kv, writing branch BranchName. inMemory
// says whether the mem workload (heap per key) means anything for kv's
// backend. cleanup, if not nil, runs after kv is closed.
func NewStrata(kv *strata.KV, inMemory bool, cleanup func() error) Target {
	return &strataTarget{kv: kv, br: kv.Branch(BranchName), inMemory: inMemory, cleanup: cleanup}
}

// NewStrataBackend is NewStrata over a backend the caller opened.
func NewStrataBackend(s backend.Store, inMemory bool, cleanup func() error) Target {
	return NewStrata(strata.New(s), inMemory, cleanup)
}

type strataTarget struct {
	kv       *strata.KV
	br       *strata.Branch
	inMemory bool
	cleanup  func() error

	mu       sync.Mutex
	branches []*strata.Branch // CommitOnBranch's, by number
}

func (t *strataTarget) Supports(w string) bool { return w != WMem || t.inMemory }

func (t *strataTarget) Load(ctx context.Context, d Dataset) (Rev, error) {
	h, err := t.br.Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < d.N; i++ {
			if err := tx.Set(d.Key(i), d.Value(i, 0)); err != nil {
				return err
			}
		}
		return nil
	}, strata.Message("load"))
	return Rev(h.String()), err
}

// setMessage is the message of a single-key commit (an option made once).
var setMessage = strata.Message("set")

func (t *strataTarget) Commit(ctx context.Context, cs []Change) (Rev, error) {
	h, err := commitTo(ctx, t.br, cs)
	return Rev(h.String()), err
}

// commitTo commits cs on br: with Branch.Set for one change (the
// single-key write users make), else with one Update.
func commitTo(ctx context.Context, br *strata.Branch, cs []Change) (strata.Hash, error) {
	if len(cs) == 1 {
		return br.Set(ctx, cs[0].Key, cs[0].Value, setMessage)
	}
	return br.Update(ctx, func(tx *strata.Tx) error {
		for _, c := range cs {
			if err := tx.Set(c.Key, c.Value); err != nil {
				return err
			}
		}
		return nil
	}, strata.Message("update"))
}

// CommitConcurrently is Commit: strata's writes to one branch are safe
// for concurrent use (and grouped; see strata's docs/ARCHITECTURE.md).
func (t *strataTarget) CommitConcurrently(ctx context.Context, cs []Change) error {
	_, err := commitTo(ctx, t.br, cs)
	return err
}

// CommitOnBranch is CommitConcurrently on branch "BranchName-b", created
// from BranchName's head at its first commit.
func (t *strataTarget) CommitOnBranch(ctx context.Context, b int, cs []Change) error {
	br, err := t.branch(ctx, b)
	if err != nil {
		return err
	}
	_, err = commitTo(ctx, br, cs)
	return err
}

// branch returns branch b of CommitOnBranch, creating it if needed.
func (t *strataTarget) branch(ctx context.Context, b int) (*strata.Branch, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.branches) <= b {
		t.branches = append(t.branches, nil)
	}
	if t.branches[b] == nil {
		name := fmt.Sprintf("%s-%d", BranchName, b)
		if err := t.kv.CreateBranch(ctx, name, BranchName); err != nil && !errors.Is(err, strata.ErrExists) {
			return nil, err
		}
		t.branches[b] = t.kv.Branch(name)
	}
	return t.branches[b], nil
}

// Set is Commit of one change (Branch.Set), without naming the commit.
func (t *strataTarget) Set(ctx context.Context, key string, value []byte) error {
	_, err := t.br.Set(ctx, key, value, setMessage)
	return err
}

var (
	_ ConcurrentCommitter = (*strataTarget)(nil)
	_ Setter              = (*strataTarget)(nil)
)

func (t *strataTarget) Get(ctx context.Context, key string) ([]byte, error) {
	return t.br.Get(ctx, key)
}

func (t *strataTarget) Diff(ctx context.Context, from, to Rev) (int, error) {
	cs, err := t.kv.Diff(ctx, string(from), string(to))
	return len(cs), err
}

// LogPath is kv.Log over the whole history with strata.PathFilter(key).
func (t *strataTarget) LogPath(ctx context.Context, key string) (int, error) {
	cs, err := t.kv.Log(ctx, BranchName, 0, strata.PathFilter(key))
	return len(cs), err
}

// List is Branch.List with strata.Limit(limit).
func (t *strataTarget) List(ctx context.Context, dir string, limit int) ([]string, error) {
	es, err := t.br.List(ctx, dir, strata.Limit(limit))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out, nil
}

func (t *strataTarget) Close() error {
	err := t.kv.Close()
	if t.cleanup != nil {
		if cerr := t.cleanup(); cerr != nil && err == nil {
			err = fmt.Errorf("clean up: %w", cerr)
		}
	}
	return err
}
