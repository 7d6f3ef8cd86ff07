package strata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

var ctx = context.Background()

func openMem(t *testing.T) *strata.KV {
	t.Helper()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return kv
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestSetGetDelete(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	if _, err := main.Head(ctx); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("head of empty branch: %v", err)
	}
	if _, err := main.Get(ctx, "x"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("get on empty branch: %v", err)
	}
	h1 := must[strata.Hash](t)(main.Set(ctx, "config/db/host", []byte("db1"), strata.Message("point at db1"), strata.Author("ops")))
	if got := must[strata.Hash](t)(main.Head(ctx)); got != h1 {
		t.Fatalf("head %s, want %s", got.Short(), h1.Short())
	}
	if v := must[[]byte](t)(main.Get(ctx, "/config/db/host/")); string(v) != "db1" {
		t.Fatalf("get = %q", v)
	}
	// Setting the same value makes no commit.
	if h := must[strata.Hash](t)(main.Set(ctx, "config/db/host", []byte("db1"))); h != h1 {
		t.Fatalf("same value made commit %s", h.Short())
	}
	c := must[strata.Commit](t)(kv.Commit(ctx, "main"))
	if c.Author != "ops" || c.Message != "point at db1" || c.Height != 1 || len(c.Parents) != 0 {
		t.Errorf("commit = %+v", c)
	}
	h2 := must[strata.Hash](t)(main.Delete(ctx, "config"))
	if _, err := main.Get(ctx, "config/db/host"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := main.Delete(ctx, "config"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("delete of a missing path: %v", err)
	}
	c2 := must[strata.Commit](t)(kv.Commit(ctx, "main"))
	if c2.Hash != h2 || c2.Height != 2 || !cmp.Equal(c2.Parents, []strata.Hash{h1}) {
		t.Errorf("second commit = %+v", c2)
	}
	if es := must[[]strata.Entry](t)(main.List(ctx, "")); len(es) != 0 {
		t.Errorf("root after deleting everything: %v", es)
	}
}

func TestInvalidInput(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	for _, p := range []string{"a//b", ".", "a/../b", "x\x00y"} {
		if _, err := main.Set(ctx, p, []byte("v")); !errors.Is(err, strata.ErrInvalidPath) {
			t.Errorf("set %q: %v", p, err)
		}
		if _, err := main.Get(ctx, p); !errors.Is(err, strata.ErrInvalidPath) {
			t.Errorf("get %q: %v", p, err)
		}
	}
	for _, name := range []string{"", "-x", "/x", "a..b", "a b", "x/", "a~1", "a^", "a:b"} {
		if _, err := kv.Branch(name).Set(ctx, "k", []byte("v")); !errors.Is(err, strata.ErrInvalidBranch) {
			t.Errorf("branch %q: %v", name, err)
		}
	}
	for _, name := range []string{"main", "feature/x-1", "v1.2_3", "ünïcode"} {
		if _, err := kv.Branch(name).Set(ctx, "k", []byte("v")); err != nil {
			t.Errorf("branch %q: %v", name, err)
		}
	}
	if _, err := main.Set(ctx, "k/sub", []byte("v")); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("set below a value: %v", err)
	}
	for _, u := range []string{"", "foo://x", "mem://host", "mem://?x=1", "pebble://remote/dir"} {
		if _, err := strata.Open(ctx, u); !errors.Is(err, strata.ErrInvalidURL) {
			t.Errorf("open %q: %v", u, err)
		}
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Get(ctx, "k"); !errors.Is(err, strata.ErrClosed) {
		t.Errorf("get after close: %v", err)
	}
	if _, err := main.Set(ctx, "k", []byte("w")); !errors.Is(err, strata.ErrClosed) {
		t.Errorf("set after close: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "b", []byte("old")))
	h := must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		tx.Set("a", []byte("1"))
		tx.Delete("b")
		tx.Delete("never-existed")
		if v, err := tx.Get("a"); err != nil || string(v) != "1" {
			t.Errorf("tx reads its own write: %q %v", v, err)
		}
		if _, err := tx.Get("b"); !errors.Is(err, strata.ErrNotFound) {
			t.Errorf("tx reads its own delete: %v", err)
		}
		return nil
	}, strata.Message("batch")))
	c := must[strata.Commit](t)(kv.Commit(ctx, "main"))
	if c.Hash != h || c.Message != "batch" || c.Height != 2 {
		t.Errorf("commit = %+v", c)
	}
	changes := must[[]strata.Change](t)(kv.Diff(ctx, "main~1", "main"))
	want := []strata.Change{{Op: strata.Added, Path: "a", New: []byte("1")}, {Op: strata.Removed, Path: "b", Old: []byte("old")}}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Error(diff)
	}
	// An error from fn writes nothing.
	boom := errors.New("boom")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error { tx.Set("c", nil); return boom }); !errors.Is(err, boom) {
		t.Errorf("update error: %v", err)
	}
	// A bad change fails the update even if its error is ignored.
	if _, err := main.Update(ctx, func(tx *strata.Tx) error { tx.Set("c", nil); tx.Set("x//y", nil); return nil }); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("ignored bad path: %v", err)
	}
	if got := must[strata.Hash](t)(main.Head(ctx)); got != h {
		t.Errorf("failed updates moved the head")
	}
	// An update that changes nothing makes no commit.
	if got := must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error { return tx.Set("a", []byte("1")) })); got != h {
		t.Errorf("no-op update made a commit")
	}
}

func TestRevisions(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	var hs []strata.Hash
	for i := 0; i < 5; i++ {
		hs = append(hs, must[strata.Hash](t)(main.Set(ctx, "k", []byte(strconv.Itoa(i)))))
	}
	for rev, want := range map[string]strata.Hash{
		"main": hs[4], "main~": hs[3], "main~2": hs[2], "main^": hs[3], "main^0": hs[4], "main~1^1~1": hs[1],
		hs[1].String(): hs[1], hs[1].String()[:12]: hs[1], strings.ToUpper(hs[2].String()[:10]): hs[2],
		hs[4].String()[:8] + "~4": hs[0],
	} {
		got, err := kv.Resolve(ctx, rev)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", rev, got.Short(), err, want.Short())
		}
	}
	for _, rev := range []string{"main~5", "nope", "main^2", strings.Repeat("0", 64), "abc", hs[0].String()[:3]} {
		if _, err := kv.Resolve(ctx, rev); !errors.Is(err, strata.ErrNotFound) {
			t.Errorf("Resolve(%q): %v, want ErrNotFound", rev, err)
		}
	}
	for _, rev := range []string{"", "main~x", "main~-1", "~1", "a b", "main^^x"} {
		if _, err := kv.Resolve(ctx, rev); !errors.Is(err, strata.ErrInvalidRevision) {
			t.Errorf("Resolve(%q): %v, want ErrInvalidRevision", rev, err)
		}
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, "main~2"))
	if v := must[[]byte](t)(snap.Get(ctx, "k")); string(v) != "2" {
		t.Errorf("main~2: k = %q", v)
	}
	log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 3))
	if len(log) != 3 || log[0].Hash != hs[4] || log[2].Hash != hs[2] {
		t.Errorf("log = %v", log)
	}
	if all := must[[]strata.Commit](t)(kv.Log(ctx, "main~1", 0)); len(all) != 4 || all[3].Hash != hs[0] {
		t.Errorf("full log from main~1 has %d commits", len(all))
	}
}

func TestBranches(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "k", []byte("1")))
	if err := kv.CreateBranch(ctx, "feature", "main"); err != nil {
		t.Fatal(err)
	}
	if err := kv.CreateBranch(ctx, "feature", "main"); !errors.Is(err, strata.ErrExists) || !errors.Is(err, strata.ErrConflict) {
		t.Errorf("create twice: %v", err)
	}
	if err := kv.CreateBranch(ctx, "other", "nope"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("create from missing rev: %v", err)
	}
	if err := kv.CreateBranch(ctx, "bad..name", "main"); !errors.Is(err, strata.ErrInvalidBranch) {
		t.Errorf("create bad name: %v", err)
	}
	must[strata.Hash](t)(kv.Branch("feature").Set(ctx, "k", []byte("2")))
	if v := must[[]byte](t)(main.Get(ctx, "k")); string(v) != "1" {
		t.Errorf("main sees feature's write: %q", v)
	}
	bs := must[[]strata.BranchInfo](t)(kv.Branches(ctx))
	if len(bs) != 2 || bs[0].Name != "feature" || bs[1].Name != "main" {
		t.Errorf("branches = %v", bs)
	}
	if err := kv.DeleteBranch(ctx, "feature"); err != nil {
		t.Fatal(err)
	}
	if err := kv.DeleteBranch(ctx, "feature"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

// TestConcurrentWriters: 8 goroutines × 200 Sets of distinct keys on one
// branch all land, through compare-and-swap retries.
func TestConcurrentWriters(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	const writers, each = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := main.Set(ctx, fmt.Sprintf("w%d/k%03d", w, i), []byte{byte(w), byte(i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	for w := 0; w < writers; w++ {
		es := must[[]strata.Entry](t)(main.List(ctx, fmt.Sprintf("w%d", w)))
		n += len(es)
		for i := 0; i < each; i++ {
			v, err := main.Get(ctx, fmt.Sprintf("w%d/k%03d", w, i))
			if err != nil || !bytes.Equal(v, []byte{byte(w), byte(i)}) {
				t.Fatalf("w%d/k%03d = %v, %v", w, i, v, err)
			}
		}
	}
	if n != writers*each {
		t.Fatalf("%d keys, want %d", n, writers*each)
	}
	if log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0)); len(log) != writers*each {
		t.Fatalf("%d commits, want %d", len(log), writers*each)
	}
}

// TestConcurrentUpdatesNoLostIncrement: read-modify-write in Update is
// re-run on conflict, so concurrent increments are never lost.
func TestConcurrentUpdatesNoLostIncrement(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_, err := main.Update(ctx, func(tx *strata.Tx) error {
					n := 0
					if v, err := tx.Get("counter"); err == nil {
						n, _ = strconv.Atoi(string(v))
					}
					return tx.Set("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v := must[[]byte](t)(main.Get(ctx, "counter")); string(v) != "200" {
		t.Fatalf("counter = %s, want 200", v)
	}
}

func TestTimeOptionMakesHashesReproducible(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var hs []strata.Hash
	for i := 0; i < 2; i++ {
		kv := openMem(t)
		hs = append(hs, must[strata.Hash](t)(kv.Branch("main").Set(ctx, "a/b", []byte("c"), strata.Time(at), strata.Author("x"), strata.Message("m"))))
	}
	if hs[0] != hs[1] {
		t.Fatalf("same commit in two stores hashes %s and %s", hs[0].Short(), hs[1].Short())
	}
}

// seed returns $STRATA_SEED if set (to replay a failure), else a random seed.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("STRATA_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_SEED: %v", err)
		}
		return n
	}
	return rand.Uint64()
}

// modelTest applies a random sequence of set, delete, update and branch
// operations to a KV and to a model (a map per branch, plus each branch's
// history of states), and compares them after every step. reopen, if not
// nil, is called at random steps and returns the KV to continue with.
func modelTest(t *testing.T, steps int, kv *strata.KV, reopen func(*strata.KV) *strata.KV) {
	s := seed(t)
	t.Logf("seed %d (replay with STRATA_SEED=%d)", s, s)
	r := rand.New(rand.NewPCG(s, 42))
	type state = map[string]string
	model := map[string][]state{} // branch -> states, newest last
	cur := func(b string) state {
		h := model[b]
		if len(h) == 0 {
			return state{}
		}
		return h[len(h)-1]
	}
	clone := func(m state) state {
		c := make(state, len(m))
		for k, v := range m {
			c[k] = v
		}
		return c
	}
	names := []string{"a", "b", "c", "dd"}
	branchNames := []string{"main", "dev", "feature/x"}
	randPath := func() string {
		segs := make([]string, 1+r.IntN(3))
		for i := range segs {
			segs[i] = names[r.IntN(len(names))]
		}
		return strings.Join(segs, "/")
	}
	// clash reports whether setting path in m would put a value above or at a directory.
	clash := func(m state, path string) bool {
		for k := range m {
			if strings.HasPrefix(k, path+"/") || strings.HasPrefix(path, k+"/") {
				return true
			}
		}
		return false
	}
	remove := func(m state, path string) bool {
		found := false
		for k := range m {
			if k == path || strings.HasPrefix(k, path+"/") {
				delete(m, k)
				found = true
			}
		}
		return found
	}
	check := func(step int, op string) {
		t.Helper()
		for _, b := range branchNames {
			hist := model[b]
			got, err := dumpBranch(kv, b)
			if len(hist) == 0 {
				if !errors.Is(err, strata.ErrNotFound) {
					t.Fatalf("step %d (%s): branch %s should not exist: %v", step, op, b, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d (%s): dump %s: %v", step, op, b, err)
			}
			if diff := cmp.Diff(map[string]string(cur(b)), got); diff != "" {
				t.Fatalf("step %d (%s): branch %s differs from model (-want +got):\n%s", step, op, b, diff)
			}
		}
	}
	for step := 0; step < steps; step++ {
		b := branchNames[r.IntN(len(branchNames))]
		br := kv.Branch(b)
		var op string
		switch k := r.IntN(10); {
		case k < 4: // set
			path, v := randPath(), strconv.Itoa(r.IntN(4))
			op = fmt.Sprintf("set %s %s=%s", b, path, v)
			_, err := br.Set(ctx, path, []byte(v))
			m := cur(b)
			switch {
			case clash(m, path):
				if !errors.Is(err, strata.ErrInvalidPath) {
					t.Fatalf("step %d (%s): err %v, want ErrInvalidPath", step, op, err)
				}
			case err != nil:
				t.Fatalf("step %d (%s): %v", step, op, err)
			case m[path] != v || len(model[b]) == 0:
				m = clone(m)
				m[path] = v
				model[b] = append(model[b], m)
			}
		case k < 6: // delete
			path := randPath()
			op = fmt.Sprintf("delete %s %s", b, path)
			_, err := br.Delete(ctx, path)
			m := clone(cur(b))
			if remove(m, path) {
				if err != nil {
					t.Fatalf("step %d (%s): %v", step, op, err)
				}
				model[b] = append(model[b], m)
			} else if !errors.Is(err, strata.ErrNotFound) {
				t.Fatalf("step %d (%s): err %v, want ErrNotFound", step, op, err)
			}
		case k < 8: // update with several changes
			// The changes are drawn before Update: its function may run
			// more than once and must do the same each time.
			type change struct {
				del  bool
				path string
				v    string
			}
			var changes []change
			for i, n := 0, 1+r.IntN(4); i < n; i++ {
				changes = append(changes, change{r.IntN(3) == 0, randPath(), strconv.Itoa(r.IntN(4))})
			}
			var m state
			var ops []string
			_, err := br.Update(ctx, func(tx *strata.Tx) error {
				m, ops = clone(cur(b)), nil
				for _, c := range changes {
					if c.del {
						ops = append(ops, "-"+c.path)
						if err := tx.Delete(c.path); err != nil {
							return err
						}
						remove(m, c.path)
					} else if !clash(m, c.path) {
						ops = append(ops, c.path+"="+c.v)
						if err := tx.Set(c.path, []byte(c.v)); err != nil {
							return err
						}
						m[c.path] = c.v
					}
				}
				return nil
			})
			op = fmt.Sprintf("update %s %v", b, ops)
			if err != nil {
				t.Fatalf("step %d (%s): %v", step, op, err)
			}
			if !cmp.Equal(m, cur(b)) {
				model[b] = append(model[b], m)
			}
		case k < 9: // create branch from another
			from := branchNames[r.IntN(len(branchNames))]
			op = fmt.Sprintf("branch %s from %s", b, from)
			err := kv.CreateBranch(ctx, b, from)
			switch {
			case len(model[from]) == 0:
				if !errors.Is(err, strata.ErrNotFound) {
					t.Fatalf("step %d (%s): err %v, want ErrNotFound", step, op, err)
				}
			case len(model[b]) > 0:
				if !errors.Is(err, strata.ErrExists) {
					t.Fatalf("step %d (%s): err %v, want ErrExists", step, op, err)
				}
			case err != nil:
				t.Fatalf("step %d (%s): %v", step, op, err)
			default:
				model[b] = append([]state{}, model[from]...)
			}
		default: // delete branch
			op = "delete branch " + b
			err := kv.DeleteBranch(ctx, b)
			if len(model[b]) == 0 {
				if !errors.Is(err, strata.ErrNotFound) {
					t.Fatalf("step %d (%s): err %v, want ErrNotFound", step, op, err)
				}
			} else if err != nil {
				t.Fatalf("step %d (%s): %v", step, op, err)
			}
			delete(model, b)
		}
		check(step, op)
		// Older states are reachable as REV~N.
		if hist := model[b]; len(hist) > 1 {
			back := r.IntN(len(hist))
			got, err := dumpRev(kv, fmt.Sprintf("%s~%d", b, back))
			if err != nil {
				t.Fatalf("step %d: %s~%d: %v", step, b, back, err)
			}
			if diff := cmp.Diff(map[string]string(hist[len(hist)-1-back]), got); diff != "" {
				t.Fatalf("step %d: %s~%d differs from model:\n%s", step, b, back, diff)
			}
		}
		if reopen != nil && r.IntN(25) == 0 {
			kv = reopen(kv)
		}
	}
}

func dumpBranch(kv *strata.KV, b string) (map[string]string, error) {
	if _, err := kv.Branch(b).Head(ctx); err != nil {
		return nil, err
	}
	return dumpRev(kv, b)
}

func dumpRev(kv *strata.KV, rev string) (map[string]string, error) {
	snap, err := kv.At(ctx, rev)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(dir string) error
	walk = func(dir string) error {
		es, err := snap.List(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range es {
			p := e.Name
			if dir != "" {
				p = dir + "/" + e.Name
			}
			if e.Dir {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			v, err := snap.Get(ctx, p)
			if err != nil {
				return err
			}
			out[p] = string(v)
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return out, nil
}

func TestModelMem(t *testing.T) {
	modelTest(t, 2000, openMem(t), nil)
}

func TestDiffSorted(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		for _, k := range []string{"a", "a.txt", "b/c", "z"} {
			tx.Set(k, []byte("1"))
		}
		return nil
	}))
	must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		tx.Delete("a")
		tx.Set("a/x", []byte("2"))
		tx.Set("a.txt", []byte("2"))
		tx.Set("b/c", []byte("2"))
		tx.Delete("z")
		return nil
	}))
	changes := must[[]strata.Change](t)(kv.Diff(ctx, "main~1", "main"))
	var paths []string
	for _, c := range changes {
		paths = append(paths, c.Op.String()+" "+c.Path)
	}
	want := []string{"remove a", "modify a.txt", "add a/x", "modify b/c", "remove z"}
	if !sort.StringsAreSorted([]string{"a", "a.txt", "a/x"}) {
		t.Fatal("byte order assumption")
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Error(diff)
	}
}

// lostReplyStore commits, then reports a failure, once: as a network
// backend does when the reply to a commit that landed is lost.
type lostReplyStore struct {
	backend.Store
	failNext bool
}

func (s *lostReplyStore) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if err := s.Store.(backend.RefCommitter).PutAndSwapRef(ctx, objs, name, old, new); err != nil {
		return err
	}
	if s.failNext {
		s.failNext = false
		return errors.New("connection reset by peer")
	}
	return nil
}

// TestCommitWithUnknownOutcomeIsNotRepeated: when storing a commit fails
// in a way that may have landed, the write reports the error and does not
// make its change a second time.
func TestCommitWithUnknownOutcomeIsNotRepeated(t *testing.T) {
	st := &lostReplyStore{Store: mem.New()}
	kv := strata.New(st)
	defer kv.Close()
	main := kv.Branch("main")
	incr := func(tx *strata.Tx) error {
		n := 0
		if v, err := tx.Get("n"); err == nil {
			n, _ = strconv.Atoi(string(v))
		}
		return tx.Set("n", []byte(strconv.Itoa(n+1)))
	}
	must[strata.Hash](t)(main.Update(ctx, incr)) // n = 1; the KV now knows the head
	st.failNext = true
	if _, err := main.Update(ctx, incr); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("update whose commit reply was lost: %v", err)
	}
	if v := must[[]byte](t)(main.Get(ctx, "n")); string(v) != "2" {
		t.Fatalf("n = %s after one acknowledged and one unacknowledged increment, want 2", v)
	}
}
