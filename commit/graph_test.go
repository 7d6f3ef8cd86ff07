package commit_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

var ctx = context.Background()

// counting counts the read calls made to a real backend.
type counting struct {
	backend.Store
	reads atomic.Int64
}

func (c *counting) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	c.reads.Add(1)
	return c.Store.Get(ctx, h)
}

func (c *counting) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	c.reads.Add(1)
	return backend.GetMany(ctx, c.Store, hs)
}

func (c *counting) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	c.reads.Add(1)
	return c.Store.GetRef(ctx, name)
}

// objectsOnly hides the ref store, so MergeBases cannot use runs.
type objectsOnly struct{ backend.ObjectStore }

// line writes n commits in a line above parent (zero: a new root).
func line(t *testing.T, s backend.Store, parent backend.Hash, height uint64, n int, tag string) backend.Hash {
	t.Helper()
	var objs []backend.Object
	for i := 0; i < n; i++ {
		c := &commit.Commit{Tree: node.Empty, Author: "t", Message: fmt.Sprintf("%s %d", tag, i), Height: height + 1}
		if !parent.IsZero() {
			c.Parents = []backend.Hash{parent}
		}
		o := commit.Object(c)
		objs = append(objs, o)
		parent, height = o.Hash, height+1
	}
	if err := s.Put(ctx, objs); err != nil {
		t.Fatal(err)
	}
	return parent
}

// TestMergeBaseGraphReads checks that with the commit graph written, a
// cold merge-base search of heads 1,000 commits apart makes about one read
// per RunLen commits per side, not one per commit.
func TestMergeBaseGraphReads(t *testing.T) {
	s := &counting{Store: mem.New()}
	base := line(t, s, backend.Hash{}, 0, 100, "base")
	x := line(t, s, base, 100, 1000, "x")
	y := line(t, s, base, 100, 1000, "y")
	search := func(objs backend.ObjectStore) int64 {
		t.Helper()
		s.reads.Store(0)
		got, err := commit.MergeBases(ctx, objs, node.NewStore(s, -1), []backend.Hash{x}, []backend.Hash{y}, commit.Bounds{MaxDepth: 1 << 20, MaxBases: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]backend.Hash{base}, got); diff != "" {
			t.Fatalf("merge bases (-want +got):\n%s", diff)
		}
		return s.reads.Load()
	}
	if n := search(objectsOnly{s}); n < 2000 {
		t.Fatalf("without runs the search made %d reads, want one per commit (at least 2,000)", n)
	}
	if n, err := commit.WriteGraph(ctx, s, node.NewStore(s, -1), []backend.Hash{x, y}, nil); err != nil || n < 2*(1000/commit.RunLen) {
		t.Fatalf("WriteGraph wrote %d runs (%v), want at least %d", n, err, 2*(1000/commit.RunLen))
	}
	// Per side: up to RunLen commits read before the first run starts,
	// then a ref and a run per RunLen commits; a few more at the base.
	limit := int64(2*(commit.RunLen+2*(1100/commit.RunLen+1)) + 10)
	if n := search(s); n > limit {
		t.Fatalf("with runs the search made %d reads, want at most %d", n, limit)
	}
	if n, err := commit.WriteGraph(ctx, s, node.NewStore(s, -1), []backend.Hash{x, y}, nil); err != nil || n != 0 {
		t.Fatalf("a second WriteGraph wrote %d runs (%v), want 0", n, err)
	}
}

// TestMergeBaseGraphProperty compares MergeBases with and without runs on
// random commit graphs tall enough to hold several runs each, with runs
// written for part of the history only. (TestMergeBaseProperty in the root
// package checks the search without runs against brute force.)
func TestMergeBaseGraphProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	for g := 0; g < 6; g++ {
		s := mem.New()
		n := 200 + r.IntN(300)
		hs := make([]backend.Hash, n)
		heights := make([]uint64, n)
		var objs []backend.Object
		for i := range hs {
			c := &commit.Commit{Tree: node.Empty, Author: "t", Message: fmt.Sprint(i), Height: 1}
			seen := map[int]bool{}
			np := 0
			if i > 0 && r.IntN(40) != 0 {
				np = 1
				if r.IntN(6) == 0 {
					np = 2
				}
			}
			for k := 0; k < np; k++ {
				p := i - 1 - r.IntN(min(i, 1+r.IntN(4)))
				if r.IntN(8) == 0 {
					p = r.IntN(i)
				}
				if seen[p] {
					continue
				}
				seen[p] = true
				c.Parents = append(c.Parents, hs[p])
				c.Height = max(c.Height, heights[p]+1)
			}
			heights[i] = c.Height
			o := commit.Object(c)
			hs[i], objs = o.Hash, append(objs, o)
		}
		if err := s.Put(ctx, objs); err != nil {
			t.Fatal(err)
		}
		var heads []backend.Hash
		for k := 0; k < 3; k++ {
			heads = append(heads, hs[r.IntN(n)])
		}
		if _, err := commit.WriteGraph(ctx, s, node.NewStore(s, -1), heads, nil); err != nil {
			t.Fatal(err)
		}
		for q := 0; q < 30; q++ {
			a, b := hs[n-1-r.IntN(n/4)], hs[r.IntN(n)]
			bounds := commit.Bounds{MaxDepth: 1 << 20, MaxBases: 1000}
			want, werr := commit.MergeBases(ctx, objectsOnly{s}, node.NewStore(s, -1), []backend.Hash{a}, []backend.Hash{b}, bounds)
			got, gerr := commit.MergeBases(ctx, s, node.NewStore(s, -1), []backend.Hash{a}, []backend.Hash{b}, bounds)
			if werr != nil || gerr != nil {
				t.Fatalf("graph %d: errors %v, %v", g, werr, gerr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("graph %d (seed %d): merge bases (-without runs +with runs):\n%s", g, seed, diff)
			}
		}
	}
}

// TestMergeBaseGraphDamage checks that damaged runs and refs are ignored:
// a ref to a missing object, to an object that is not a run, and to a run
// of other commits.
func TestMergeBaseGraphDamage(t *testing.T) {
	s := mem.New()
	base := line(t, s, backend.Hash{}, 0, 10, "base")
	x := line(t, s, base, 10, 300, "x")
	y := line(t, s, base, 10, 300, "y")
	if _, err := commit.WriteGraph(ctx, s, node.NewStore(s, -1), []backend.Hash{x, y}, nil); err != nil {
		t.Fatal(err)
	}
	refs, err := s.ListRefs(ctx, commit.GraphRefPrefix)
	if err != nil || len(refs) < 4 {
		t.Fatalf("%d graph refs (%v), want at least 4", len(refs), err)
	}
	// A valid run, but of other commits.
	other := commit.EncodeRun([]commit.GraphEntry{{Commit: base, Height: 10}})
	otherObj := backend.Object{Hash: hashOf(t, s, other), Data: other}
	for i, v := range []backend.Hash{{1, 2, 3}, x, otherObj.Hash} {
		ref := refs[i]
		if err := s.CompareAndSwapRef(ctx, ref.Name, ref.Hash, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := commit.MergeBases(ctx, s, node.NewStore(s, -1), []backend.Hash{x}, []backend.Hash{y}, commit.Bounds{MaxDepth: 1 << 20, MaxBases: 10})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]backend.Hash{base}, got); diff != "" {
		t.Fatalf("merge bases (-want +got):\n%s", diff)
	}
	// WriteGraph repairs what it can: the three runs are written again.
	if n, err := commit.WriteGraph(ctx, s, node.NewStore(s, -1), []backend.Hash{x, y}, nil); err != nil || n != 3 {
		t.Fatalf("WriteGraph rewrote %d runs (%v), want 3", n, err)
	}
}

// hashOf stores data as an object and returns its hash.
func hashOf(t *testing.T, s backend.Store, data []byte) backend.Hash {
	t.Helper()
	h := codec.Sum(data)
	if err := s.Put(ctx, []backend.Object{{Hash: h, Data: data}}); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestGraphRunGolden checks the graph-run row of docs/FORMAT.md: the run
// of commit-child and commit-root (the golden commits).
func TestGraphRunGolden(t *testing.T) {
	root, _ := hex.DecodeString("f3677937cc061b44d0040a166edcb5414c1ad1e92dba103b31a7f23c7ea7ebce")
	child, _ := hex.DecodeString("23e06aadbcc90678ff4e0ccea60f30ec665b141d8abddb136841f32c3216dd69")
	var r, c backend.Hash
	copy(r[:], root)
	copy(c[:], child)
	es := []commit.GraphEntry{{Commit: c, Height: 2, Parents: []backend.Hash{r}}, {Commit: r, Height: 1}}
	b := commit.EncodeRun(es)
	f, err := os.Open("../docs/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	found := false
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) != 6 || strings.TrimSpace(cells[1]) != "graph-run" {
			continue
		}
		found = true
		if got, want := hex.EncodeToString(b), strings.Trim(strings.TrimSpace(cells[3]), "`"); got != want {
			t.Errorf("graph-run encoding\n got %s\nwant %s (docs/FORMAT.md)", got, want)
		}
		if got, want := codec.Sum(b).String(), strings.Trim(strings.TrimSpace(cells[4]), "`"); got != want {
			t.Errorf("graph-run hash %s, docs/FORMAT.md says %s", got, want)
		}
	}
	if !found {
		t.Fatal("docs/FORMAT.md has no graph-run row")
	}
	got, err := commit.DecodeRun(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestDecodeRunRejects checks that runs of the wrong shape are corrupt.
func TestDecodeRunRejects(t *testing.T) {
	a, b := h(1), h(2)
	for name, es := range map[string][]commit.GraphEntry{
		"empty":            nil,
		"not first parent": {{Commit: a, Height: 2, Parents: []backend.Hash{b}}, {Commit: a, Height: 1}},
		"height order":     {{Commit: a, Height: 2, Parents: []backend.Hash{b}}, {Commit: b, Height: 2}},
		"height 0":         {{Commit: a, Height: 0}},
	} {
		if _, err := commit.DecodeRun(commit.EncodeRun(es)); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: DecodeRun error %v, want ErrCorrupt", name, err)
		}
	}
}
