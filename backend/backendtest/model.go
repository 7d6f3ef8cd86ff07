package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var modelTests = []test{
	{"Random", testModel},
}

// seedVar names the environment variable that replays a model test.
const seedVar = "STRATA_BACKENDTEST_SEED"

// testModel applies a random sequence of operations to the store and to a
// plain map, and compares every result. The seed is logged on failure.
func testModel(t *testing.T, s backend.Store) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(seedVar); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", seedVar, v, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed %d; replay with %s=%d", seed, seedVar, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, seed))
	ctx := t.Context()

	// The universes are small so that operations often hit the same keys.
	// An object's data depends only on its hash, as in a real store.
	universe := make([]backend.Object, 24)
	for i := range universe {
		universe[i] = backend.Object{
			Hash: HashOf(fmt.Sprintf("model/%d", i)),
			Data: bytes.Repeat([]byte{byte(i)}, i*i%50), // some are empty
		}
	}
	names := []string{"HEAD", "refs/heads/a", "refs/heads/a/x", "refs/heads/b", "refs/heads/b2", "refs/tags/a"}
	values := []backend.Hash{backend.ZeroHash, HashOf("v1"), HashOf("v2"), HashOf("v3")}
	prefixes := []string{"", "refs/", "refs/heads/", "refs/heads/a", "refs/heads/b", "HEAD", "x"}

	objects := make(map[backend.Hash][]byte)
	refs := make(map[string]backend.Hash)

	pickObjects := func(max int) []backend.Object {
		objs := make([]backend.Object, 1+rng.IntN(max))
		for i := range objs {
			objs[i] = universe[rng.IntN(len(universe))]
		}
		return objs
	}
	present := func(objs []backend.Object) []bool {
		has := make([]bool, len(objs))
		for i, o := range objs {
			_, has[i] = objects[o.Hash]
		}
		return has
	}

	lister, isLister := s.(backend.ObjectLister)
	deleter, isDeleter := s.(backend.ObjectDeleter)
	getter, isBatchGetter := s.(backend.BatchGetter)

	const steps = 400
	for step := range steps {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("step %d: "+format, append([]any{step}, args...)...)
		}
		switch op := rng.IntN(9); op {
		case 0: // Put
			objs := pickObjects(4)
			if err := s.Put(ctx, objs); err != nil {
				fail("Put(%s): %v", hashes(objs...), err)
			}
			for _, o := range objs {
				objects[o.Hash] = o.Data
			}
		case 1: // Get
			o := universe[rng.IntN(len(universe))]
			got, err := s.Get(ctx, o.Hash)
			if _, ok := objects[o.Hash]; !ok {
				if !errors.Is(err, backend.ErrNotFound) {
					fail("Get(%s) of an absent object = %d bytes, %v; want ErrNotFound", o.Hash.Short(), len(got), err)
				}
			} else if err != nil {
				fail("Get(%s): %v", o.Hash.Short(), err)
			} else if msg := diffBytes(o.Data, got); msg != "" {
				fail("Get(%s): %s", o.Hash.Short(), msg)
			}
		case 2: // Has
			objs := pickObjects(5)
			got, err := s.Has(ctx, hashes(objs...))
			if err != nil {
				fail("Has(%s): %v", hashes(objs...), err)
			}
			if diff := cmp.Diff(present(objs), got); diff != "" {
				fail("Has(%s) mismatch (-want +got):\n%s", hashes(objs...), diff)
			}
		case 3: // CompareAndSwapRef
			name := names[rng.IntN(len(names))]
			old := refs[name]
			if rng.IntN(2) == 0 {
				old = values[rng.IntN(len(values))]
			}
			new := values[rng.IntN(len(values))]
			err := s.CompareAndSwapRef(ctx, name, old, new)
			if old == refs[name] {
				if err != nil {
					fail("CompareAndSwapRef(%q, %s -> %s) with the ref %s: %v", name, old.Describe(), new.Describe(), refs[name].Describe(), err)
				}
				if new.IsZero() {
					delete(refs, name)
				} else {
					refs[name] = new
				}
			} else if !errors.Is(err, backend.ErrConflict) {
				fail("CompareAndSwapRef(%q, %s -> %s) with the ref %s = %v; want ErrConflict", name, old.Describe(), new.Describe(), refs[name].Describe(), err)
			}
		case 4: // GetRef
			name := names[rng.IntN(len(names))]
			got, err := s.GetRef(ctx, name)
			want, ok := refs[name]
			switch {
			case !ok && !errors.Is(err, backend.ErrNotFound):
				fail("GetRef(%q) of an absent ref = %s, %v; want ErrNotFound", name, got.Short(), err)
			case ok && err != nil:
				fail("GetRef(%q): %v", name, err)
			case ok && got != want:
				fail("GetRef(%q) = %s, want %s", name, got.Short(), want.Short())
			}
		case 5: // ListRefs
			prefix := prefixes[rng.IntN(len(prefixes))]
			var want []backend.Ref
			for _, n := range slices.Sorted(maps.Keys(refs)) {
				if strings.HasPrefix(n, prefix) {
					want = append(want, backend.Ref{Name: n, Hash: refs[n]})
				}
			}
			got, err := s.ListRefs(ctx, prefix)
			if err != nil {
				fail("ListRefs(%q): %v", prefix, err)
			}
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				fail("ListRefs(%q) mismatch (-want +got):\n%s", prefix, diff)
			}
		case 6: // DeleteObjects
			if !isDeleter {
				continue
			}
			objs := pickObjects(3)
			if err := deleter.DeleteObjects(ctx, hashes(objs...)); err != nil {
				fail("DeleteObjects(%s): %v", hashes(objs...), err)
			}
			for _, o := range objs {
				delete(objects, o.Hash)
			}
		case 7: // GetMany
			if !isBatchGetter {
				continue
			}
			objs := pickObjects(5)
			got, err := getter.GetMany(ctx, hashes(objs...))
			if err != nil {
				fail("GetMany(%s): %v", hashes(objs...), err)
			}
			if len(got) != len(objs) {
				fail("GetMany of %d hashes returned %d entries", len(objs), len(got))
			}
			for i, o := range objs {
				_, ok := objects[o.Hash]
				if !ok && got[i] != nil {
					fail("GetMany(...)[%d] of absent %s = %q, want nil", i, o.Hash.Short(), got[i])
				}
				if ok && got[i] == nil {
					fail("GetMany(...)[%d] of present %s = nil, want %d bytes", i, o.Hash.Short(), len(o.Data))
				}
				if msg := diffBytes(o.Data, got[i]); ok && msg != "" {
					fail("GetMany(...)[%d] (%s): %s", i, o.Hash.Short(), msg)
				}
			}
		case 8: // ListObjects
			if !isLister {
				continue
			}
			var prefix []byte
			if rng.IntN(2) == 0 {
				prefix = universe[rng.IntN(len(universe))].Hash[:1+rng.IntN(2)]
			}
			var want []backend.Hash
			for h := range objects {
				if bytes.HasPrefix(h[:], prefix) {
					want = append(want, h)
				}
			}
			var got []backend.Hash
			if err := lister.ListObjects(ctx, prefix, func(h backend.Hash) error {
				got = append(got, h)
				return nil
			}); err != nil {
				fail("ListObjects(%x): %v", prefix, err)
			}
			if diff := cmp.Diff(sortHashes(want), sortHashes(got), equateEmpty); diff != "" {
				fail("ListObjects(%x) mismatch (-want +got):\n%s", prefix, diff)
			}
		}
	}
}
