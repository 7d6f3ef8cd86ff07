package peers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/dolt/go/store/chunks"
	"github.com/dolthub/dolt/go/store/datas"
	"github.com/dolthub/dolt/go/store/hash"
	"github.com/dolthub/dolt/go/store/types"
	"golang.org/x/sync/errgroup"

	"github.com/stratakv/strata/bench"
)

// Dolt makes targets on Dolt's store as of github.com/dolthub/dolt/go
// v0.40.4: one types.Map (a prolly tree) from path to value, committed to
// the dataset "main" of a datas database over chunks.MemoryStorage. The
// map is flat: a directory is a key prefix, so ls reads keys from an
// iterator (seeking past each subdirectory in the nested layout).
func Dolt() bench.Factory {
	return bench.Factory{Name: "dolt", New: func(ctx context.Context) (bench.Target, error) {
		stg := &chunks.MemoryStorage{}
		vs := types.NewValueStore(stg.NewViewWithDefaultFormat())
		return &doltTarget{vs: vs, db: datas.NewTypesDatabase(vs)}, nil
	}}
}

const doltDataset = "main"

type doltTarget struct {
	vs *types.ValueStore
	db datas.Database
}

func (t *doltTarget) Supports(w string) bool { return true }

func (t *doltTarget) commit(ctx context.Context, m types.Map) (bench.Rev, error) {
	ds, err := t.db.GetDataset(ctx, doltDataset)
	if err != nil {
		return "", err
	}
	ds, err = t.db.Commit(ctx, ds, m, datas.CommitOptions{})
	if err != nil {
		return "", err
	}
	h, ok := ds.MaybeHeadAddr()
	if !ok {
		return "", errors.New("dolt: no head after commit")
	}
	return bench.Rev(h.String()), nil
}

// Load streams the keys, which are already in order, into
// types.NewStreamingMap, the fast way to build a large map.
func (t *doltTarget) Load(ctx context.Context, d bench.Dataset) (bench.Rev, error) {
	kvs := make(chan types.Value, 1024)
	sm := types.NewStreamingMap(ctx, t.vs, kvs)
	for i := 0; i < d.N; i++ {
		kvs <- types.String(d.Key(i))
		kvs <- types.String(d.Value(i, 0))
	}
	close(kvs)
	m, err := sm.Wait()
	if err != nil {
		return "", err
	}
	return t.commit(ctx, m)
}

// headCommit returns the head commit's value.
func (t *doltTarget) headCommit(ctx context.Context) (types.Value, error) {
	ds, err := t.db.GetDataset(ctx, doltDataset)
	if err != nil {
		return nil, err
	}
	v, ok := ds.MaybeHead()
	if !ok {
		return nil, errors.New("dolt: no head")
	}
	return v, nil
}

func (t *doltTarget) mapOf(ctx context.Context, commit types.Value) (types.Map, error) {
	v, err := datas.GetCommittedValue(ctx, t.vs, commit)
	if err != nil {
		return types.Map{}, err
	}
	m, ok := v.(types.Map)
	if !ok {
		return types.Map{}, fmt.Errorf("dolt: committed value is a %T, not a Map", v)
	}
	return m, nil
}

func (t *doltTarget) headMap(ctx context.Context) (types.Map, error) {
	c, err := t.headCommit(ctx)
	if err != nil {
		return types.Map{}, err
	}
	return t.mapOf(ctx, c)
}

func (t *doltTarget) mapAt(ctx context.Context, rev bench.Rev) (types.Map, error) {
	h, ok := hash.MaybeParse(string(rev))
	if !ok {
		return types.Map{}, fmt.Errorf("dolt: bad commit hash %q", rev)
	}
	c, err := t.vs.ReadValue(ctx, h)
	if err != nil {
		return types.Map{}, err
	}
	if c == nil {
		return types.Map{}, fmt.Errorf("dolt: no commit %s", rev)
	}
	return t.mapOf(ctx, c)
}

func (t *doltTarget) Commit(ctx context.Context, cs []bench.Change) (bench.Rev, error) {
	m, err := t.headMap(ctx)
	if err != nil {
		return "", err
	}
	ed := m.Edit()
	for _, c := range cs {
		ed.Set(types.String(c.Key), types.String(c.Value))
	}
	if m, err = ed.Map(ctx); err != nil {
		return "", err
	}
	return t.commit(ctx, m)
}

func (t *doltTarget) Get(ctx context.Context, key string) ([]byte, error) {
	m, err := t.headMap(ctx)
	if err != nil {
		return nil, err
	}
	v, ok, err := m.MaybeGet(ctx, types.String(key))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("dolt: %q not found", key)
	}
	return []byte(v.(types.String)), nil
}

// Diff is Map.Diff (top-down, skipping equal chunks) of the two commits'
// maps.
func (t *doltTarget) Diff(ctx context.Context, from, to bench.Rev) (int, error) {
	a, err := t.mapAt(ctx, from)
	if err != nil {
		return 0, err
	}
	b, err := t.mapAt(ctx, to)
	if err != nil {
		return 0, err
	}
	changes := make(chan types.ValueChanged, 64)
	var g errgroup.Group
	g.Go(func() error {
		defer close(changes)
		return b.Diff(ctx, a, changes)
	})
	n := 0
	for range changes {
		n++
	}
	return n, g.Wait()
}

// LogPath walks the first-parent chain and compares the value at key in
// each commit's map with its parent's.
func (t *doltTarget) LogPath(ctx context.Context, key string) (int, error) {
	k := types.String(key)
	at := func(c types.Value) (types.Value, error) {
		m, err := t.mapOf(ctx, c)
		if err != nil {
			return nil, err
		}
		v, _, err := m.MaybeGet(ctx, k)
		return v, err
	}
	c, err := t.headCommit(ctx)
	if err != nil {
		return 0, err
	}
	mine, err := at(c)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		ps, err := datas.GetCommitParents(ctx, t.vs, c)
		if err != nil {
			return 0, err
		}
		if len(ps) == 0 {
			if mine != nil {
				n++
			}
			return n, nil
		}
		c = ps[0].NomsValue()
		theirs, err := at(c)
		if err != nil {
			return 0, err
		}
		if (theirs == nil) != (mine == nil) || (theirs != nil && !theirs.Equals(mine)) {
			n++
		}
		mine = theirs
	}
}

// List reads keys from an iterator positioned at dir+"/", keeping each
// child name once; after a subdirectory it seeks past all its keys.
func (t *doltTarget) List(ctx context.Context, dir string, limit int) ([]string, error) {
	m, err := t.headMap(ctx)
	if err != nil {
		return nil, err
	}
	prefix := dir + "/"
	var out []string
	from := prefix
	for len(out) < limit {
		it, err := m.IteratorFrom(ctx, types.String(from))
		if err != nil {
			return nil, err
		}
		seek := false
		for len(out) < limit {
			k, _, err := it.Next(ctx)
			if err != nil {
				return nil, err
			}
			if k == nil {
				return out, nil
			}
			s := string(k.(types.String))
			if !strings.HasPrefix(s, prefix) {
				return out, nil
			}
			name, _, sub := strings.Cut(s[len(prefix):], "/")
			out = append(out, name)
			if sub {
				// The first key after every key below prefix+name+"/".
				from, seek = prefix+name+"0", true
				break
			}
		}
		if !seek {
			break
		}
	}
	return out, nil
}

func (t *doltTarget) Close() error { return t.db.Close() }
