package strata_test

// Regression tests for issue 9, findings 8 to 12: damage is never absence,
// damaged branches are reported and repairable, paths are bounded, and
// nothing works after Close.

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	damaged "github.com/stratakv/strata/internal/damage"
	"github.com/stratakv/strata/internal/redistest"
	"github.com/stratakv/strata/node"
)

// subdir returns the hash of directory name in the directory object h.
func subdir(t *testing.T, kv *strata.KV, h strata.Hash, name string) strata.Hash {
	t.Helper()
	d, err := node.NewStore(kv.Backend(), -1).Load(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if d.Leaf == nil {
		t.Fatalf("directory %s is an index, not a leaf node", h.Short())
	}
	e, ok := d.Leaf.Find(name)
	if !ok || e.Kind != node.KindNode {
		t.Fatalf("no directory %q in %s", name, h.Short())
	}
	return e.Hash
}

// isDamage checks that err is damage naming h, not absence.
func isDamage(t *testing.T, what string, err error, h strata.Hash) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error on a store with a missing object", what)
	case errors.Is(err, strata.ErrNotFound):
		t.Errorf("%s: %v: wraps ErrNotFound; a missing object is damage", what, err)
	case !errors.Is(err, strata.ErrCorrupt) || !errors.Is(err, strata.ErrMissing):
		t.Errorf("%s: %v: want ErrMissing and ErrCorrupt", what, err)
	case !strings.Contains(err.Error(), h.String()):
		t.Errorf("%s: %v: does not name the missing object %s", what, err, h)
	}
}

func TestMissingObjectIsDamage(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "a/b/c", []byte("v")))
	must[strata.Hash](t)(main.Set(ctx, "top", []byte("t")))
	head := must[strata.Commit](t)(kv.Commit(ctx, "main"))
	sub := subdir(t, kv, head.Tree, "a")
	damage(t, kv, sub, nil)
	// A fresh KV, so that no cache hides the damage.
	kv = strata.New(kv.Backend(), strata.CacheSize(-1))
	main = kv.Branch("main")

	_, err := main.Get(ctx, "a/b/c")
	isDamage(t, "Get", err, sub)
	if err != nil && !strings.Contains(err.Error(), `"/a"`) {
		t.Errorf("Get: %v: does not name the directory /a", err)
	}
	_, err = main.Set(ctx, "a/b/d", []byte("w"))
	isDamage(t, "Set", err, sub)
	_, _, err = main.Add(ctx, "a/n", 1)
	isDamage(t, "Add", err, sub)
	_, err = main.List(ctx, "a")
	isDamage(t, "List", err, sub)
	_, err = kv.Diff(ctx, "main~1", "main")
	if err != nil {
		t.Errorf("Diff of an undamaged part: %v", err)
	}
	_, err = kv.Log(ctx, "main", 0, strata.PathFilter("a/b"))
	isDamage(t, "Log -- a/b", err, sub)

	// Absence in the healthy part of the tree stays ErrNotFound, and so
	// does a hash the caller typed that names nothing.
	if _, err := main.Get(ctx, "nope"); !errors.Is(err, strata.ErrNotFound) || errors.Is(err, strata.ErrCorrupt) {
		t.Errorf("Get of an absent key: %v, want ErrNotFound only", err)
	}
	missing := strings.Repeat("ab", 32)
	if _, err := kv.Resolve(ctx, missing); !errors.Is(err, strata.ErrNotFound) || errors.Is(err, strata.ErrCorrupt) {
		t.Errorf("Resolve of a hash that names nothing: %v, want ErrNotFound only", err)
	}

	// A missing commit reached from a ref, and a missing parent.
	damage(t, kv, head.Parents[0], nil)
	_, err = kv.Log(ctx, "main", 0)
	isDamage(t, "Log with a missing parent", err, head.Parents[0])
	damage(t, kv, head.Hash, nil)
	_, err = main.Get(ctx, "top")
	isDamage(t, "Get with a missing head commit", err, head.Hash)
}

func TestMissingObjectInDiff(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "a/b/c", []byte("v")))
	must[strata.Hash](t)(main.Set(ctx, "a/b/d", []byte("w")))
	head := must[strata.Commit](t)(kv.Commit(ctx, "main"))
	sub := subdir(t, kv, subdir(t, kv, head.Tree, "a"), "b")
	damage(t, kv, sub, nil)
	kv = strata.New(kv.Backend(), strata.CacheSize(-1))
	_, err := kv.Diff(ctx, "main~1", "main")
	isDamage(t, "Diff", err, sub)
	if err != nil && !strings.Contains(err.Error(), `"/a/b"`) {
		t.Errorf("Diff: %v: does not name the directory /a/b", err)
	}
}

func TestPathLimits(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	deepest := strings.TrimSuffix(strings.Repeat("d/", strata.MaxPathSegments), "/")
	tooDeep := deepest + "/d"
	longest := strings.Repeat("x", strata.MaxPathBytes)
	tooLong := longest + "x"
	for _, p := range []string{deepest, longest[:255] + "/" + longest[:strata.MaxPathBytes-256]} {
		if err := strata.ValidatePath(p); err != nil {
			t.Errorf("ValidatePath of a path at the limit (%d bytes): %v", len(p), err)
		}
	}
	must[strata.Hash](t)(main.Set(ctx, deepest, []byte("v")))
	for _, p := range []string{tooDeep, tooLong, "/" + deepest + "/d/"} {
		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, strata.ErrInvalidPath) {
				t.Errorf("%s of a %d-byte path: %v, want ErrInvalidPath", what, len(p), err)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("%s: the error quotes the whole path (%d bytes)", what, len(err.Error()))
			}
		}
		check("ValidatePath", strata.ValidatePath(p))
		_, err := main.Set(ctx, p, []byte("v"))
		check("Set", err)
		_, err = main.Get(ctx, p)
		check("Get", err)
		_, err = main.List(ctx, p)
		check("List", err)
		_, err = main.Delete(ctx, p)
		check("Delete", err)
		_, _, err = main.Add(ctx, p, 1)
		check("Add", err)
		_, err = main.Update(ctx, func(tx *strata.Tx) error { return tx.Set(p, []byte("v")) })
		check("Tx.Set", err)
		_, err = kv.Log(ctx, "main", 0, strata.PathFilter(p))
		check("Log", err)
	}
}

// TestEverythingAfterClose calls every exported method that can fail, on
// handles taken before Close, after Close.
func TestEverythingAfterClose(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "a/b", []byte("v")))
	must[strata.Hash](t)(main.SetValue(ctx, "n", strata.Counter(1)))
	snap := must[*strata.Snapshot](t)(kv.At(ctx, "main"))
	head := must[strata.Hash](t)(main.Head(ctx))
	// Warm every cache.
	must[[]byte](t)(snap.Get(ctx, "a/b"))
	must[[]strata.Entry](t)(snap.List(ctx, "a"))
	var tx *strata.Tx
	must[strata.Hash](t)(main.Update(ctx, func(t *strata.Tx) error { tx = t; return nil }))
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}

	hash := head.String()
	calls := map[string]func() error{
		"Snapshot.Get":      func() error { _, err := snap.Get(ctx, "a/b"); return err },
		"Snapshot.GetValue": func() error { _, err := snap.GetValue(ctx, "a/b"); return err },
		"Snapshot.List":     func() error { _, err := snap.List(ctx, "a"); return err },
		"Snapshot.Len":      func() error { _, err := snap.Len(ctx, "a"); return err },
		"KV.At":             func() error { _, err := kv.At(ctx, hash); return err },
		"KV.Commit":         func() error { _, err := kv.Commit(ctx, hash); return err },
		"KV.Resolve":        func() error { _, err := kv.Resolve(ctx, hash); return err },
		"KV.Log":            func() error { _, err := kv.Log(ctx, hash, 0); return err },
		"KV.Diff":           func() error { _, err := kv.Diff(ctx, hash, hash); return err },
		"KV.Changes":        func() error { _, err := kv.Changes(ctx, hash); return err },
		"KV.Branches":       func() error { _, err := kv.Branches(ctx); return err },
		"KV.CreateBranch":   func() error { return kv.CreateBranch(ctx, "x", hash) },
		"KV.DeleteBranch":   func() error { return kv.DeleteBranch(ctx, "main") },
		"KV.Fsck":           func() error { _, err := kv.Fsck(ctx); return err },
		"KV.Fsck(rev)":      func() error { _, err := kv.Fsck(ctx, hash); return err },
		"KV.Merge":          func() error { _, err := kv.Merge(ctx, hash, "main"); return err },
		"KV.MergeBase":      func() error { _, err := kv.MergeBase(ctx, hash, hash); return err },
		"KV.Watch":          func() error { _, err := kv.Watch(ctx, "main"); return err },
		"Branch.Head":       func() error { _, err := main.Head(ctx); return err },
		"Branch.Get":        func() error { _, err := main.Get(ctx, "a/b"); return err },
		"Branch.GetValue":   func() error { _, err := main.GetValue(ctx, "n"); return err },
		"Branch.List":       func() error { _, err := main.List(ctx, "a"); return err },
		"Branch.Len":        func() error { _, err := main.Len(ctx, "a"); return err },
		"Branch.Set":        func() error { _, err := main.Set(ctx, "a/c", []byte("w")); return err },
		"Branch.SetValue":   func() error { _, err := main.SetValue(ctx, "t", strata.Text("w")); return err },
		"Branch.Delete":     func() error { _, err := main.Delete(ctx, "a/b"); return err },
		"Branch.Add":        func() error { _, _, err := main.Add(ctx, "n", 1); return err },
		"Branch.Update":     func() error { _, err := main.Update(ctx, func(*strata.Tx) error { return nil }); return err },
		"Branch.Revert":     func() error { _, err := main.Revert(ctx, hash); return err },
		"Branch.CherryPick": func() error { _, err := main.CherryPick(ctx, hash); return err },
		"Tx.Get":            func() error { _, err := tx.Get("a/b"); return err },
		"Tx.GetValue":       func() error { _, err := tx.GetValue("n"); return err },
		"Tx.List":           func() error { _, err := tx.List("a"); return err },
		"Tx.Set":            func() error { return tx.Set("a/c", []byte("w")) },
		"Tx.SetValue":       func() error { return tx.SetValue("t", strata.Text("w")) },
		"Tx.Delete":         func() error { return tx.Delete("a/b") },
		"Tx.Add":            func() error { _, err := tx.Add("n", 1); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, strata.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// corruptRef overwrites ref name of the closed Pebble store in dir with 5
// bytes, as a damaged disk might.
func corruptRef(t *testing.T, dir, name string) {
	t.Helper()
	if err := damaged.PebbleRef(dir, name, []byte("12345")); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptBranchPebble(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	kv, err := strata.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"alpha", "main", "zeta"} {
		must[strata.Hash](t)(kv.Branch(b).Set(ctx, "k", []byte(b)))
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	corruptRef(t, dir, "heads/main")
	kv, err = strata.Open(ctx, dir, strata.MustExist())
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	testCorruptBranch(t, kv)
}

func testCorruptBranch(t *testing.T, kv *strata.KV) {
	t.Helper()
	if _, err := kv.Branch("main").Get(ctx, "k"); !errors.Is(err, strata.ErrCorrupt) || errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get on the damaged branch: %v, want ErrCorrupt", err)
	}
	bs, err := kv.Branches(ctx)
	var bad *strata.CorruptBranchesError
	if !errors.As(err, &bad) || !errors.Is(err, strata.ErrCorrupt) {
		t.Fatalf("Branches: %v, want a *CorruptBranchesError", err)
	}
	if diff := cmp.Diff([]string{"main"}, bad.Names); diff != "" {
		t.Errorf("damaged branches (-want +got):\n%s", diff)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if diff := cmp.Diff([]string{"alpha", "zeta"}, names); diff != "" {
		t.Errorf("readable branches (-want +got):\n%s", diff)
	}

	rep, err := kv.Fsck(ctx)
	if err != nil {
		t.Fatalf("Fsck: %v", err)
	}
	if rep.Commits != 2 {
		t.Errorf("Fsck checked %d commits, want the other branches' 2", rep.Commits)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Object != "branch" || rep.Problems[0].Where != "main" || !errors.Is(rep.Problems[0].Err, strata.ErrCorrupt) {
		t.Errorf("Fsck problems = %v, want the damaged branch main", rep.Problems)
	}

	// The repair: delete the damaged branch.
	if err := kv.DeleteBranch(ctx, "main"); err != nil {
		t.Fatalf("DeleteBranch of the damaged branch: %v", err)
	}
	bs, err = kv.Branches(ctx)
	if err != nil || len(bs) != 2 {
		t.Errorf("Branches after the repair: %v, %v", bs, err)
	}
	if rep, err := kv.Fsck(ctx); err != nil || len(rep.Problems) != 0 {
		t.Errorf("Fsck after the repair: %v, %v", rep, err)
	}
	must[strata.Hash](t)(kv.Branch("main").Set(ctx, "k", []byte("again")))
}

func TestCorruptBranchRedis(t *testing.T) {
	srv := redistest.Start(t)
	kv, err := strata.Open(ctx, srv.URL("bad"))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	for _, b := range []string{"alpha", "main", "zeta"} {
		must[strata.Hash](t)(kv.Branch(b).Set(ctx, "k", []byte(b)))
	}
	if _, err := srv.Do("HSET", "bad:refs", "heads/main", "12345"); err != nil {
		t.Fatal(err)
	}
	testCorruptBranch(t, kv)
}
