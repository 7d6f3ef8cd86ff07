package strata_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
)

// BenchmarkMerge1M merges two branches that each changed 10 keys of a
// 1,000,000-key directory (on mem): merge base, three-way tree merge and
// the merge commit. Each iteration merges into a fresh branch at the same
// head. Target: under 5 ms.
func BenchmarkMerge1M(b *testing.B) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	const n = 1_000_000
	main := kv.Branch("main")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < n; i++ {
			tx.Set(fmt.Sprintf("users/k%07d", i), []byte("v"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := kv.CreateBranch(ctx, name, "main"); err != nil {
			b.Fatal(err)
		}
		off := map[string]int{"a": 17, "b": 50_033}[name]
		if _, err := kv.Branch(name).Update(ctx, func(tx *strata.Tx) error {
			for i := 0; i < 10; i++ {
				tx.Set(fmt.Sprintf("users/k%07d", (off+i*99_991)%n), []byte(name))
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		into := fmt.Sprintf("into%d", i)
		if err := kv.CreateBranch(ctx, into, "a"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := kv.Merge(ctx, "b", into); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	d, err := kv.Diff(ctx, "a", fmt.Sprintf("into%d", b.N-1))
	if err != nil || len(d) != 10 {
		b.Fatalf("the merge changed %d values of a (%v), want 10", len(d), err)
	}
}

// chain writes n commits in a line above parent (zero: a new root) and
// returns the last.
func chain(b *testing.B, s backend.Store, parent strata.Hash, height uint64, n int, tag string) strata.Hash {
	var batch []backend.Object
	for i := 0; i < n; i++ {
		c := &commit.Commit{Tree: node.Empty, Author: "bench", Message: fmt.Sprintf("%s %d", tag, i), Time: int64(i), Height: height + 1}
		if !parent.IsZero() {
			c.Parents = []strata.Hash{parent}
		}
		o := commit.Object(c)
		batch = append(batch, o)
		parent, height = o.Hash, height+1
		if len(batch) == 1000 {
			if err := s.Put(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = nil
		}
	}
	if err := s.Put(ctx, batch); err != nil {
		b.Fatal(err)
	}
	return parent
}

// BenchmarkMergeBase10k finds the merge base of two heads each 10,000
// commits above it. "warm" repeats the search with the commits in the
// decoded-object cache, "cold" reads and verifies every commit from the
// backend each time. "+graph" writes the commit graph first
// (WriteCommitGraph), so that a cold search reads one run per
// commit.RunLen commits. Target: under 50 ms.
func BenchmarkMergeBase10k(b *testing.B) {
	for _, tc := range []struct {
		name  string
		url   func(b *testing.B) string
		opts  []strata.OpenOption
		graph bool
	}{
		{"mem/warm", func(*testing.B) string { return "mem://" }, nil, false},
		{"mem/cold", func(*testing.B) string { return "mem://" }, []strata.OpenOption{strata.CacheSize(-1)}, false},
		{"mem/cold+graph", func(*testing.B) string { return "mem://" }, []strata.OpenOption{strata.CacheSize(-1)}, true},
		{"pebble/warm", func(b *testing.B) string { return b.TempDir() }, nil, false},
		{"pebble/cold", func(b *testing.B) string { return b.TempDir() }, []strata.OpenOption{strata.CacheSize(-1)}, false},
		{"pebble/cold+graph", func(b *testing.B) string { return b.TempDir() }, []strata.OpenOption{strata.CacheSize(-1)}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			kv, err := strata.Open(ctx, tc.url(b), tc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer kv.Close()
			base := chain(b, kv.Backend(), strata.Hash{}, 0, 100, "base")
			x := chain(b, kv.Backend(), base, 100, 10_000, "x")
			y := chain(b, kv.Backend(), base, 100, 10_000, "y")
			if tc.graph {
				for name, h := range map[string]strata.Hash{"x": x, "y": y} {
					if err := kv.Backend().CompareAndSwapRef(ctx, "heads/"+name, strata.Hash{}, h); err != nil {
						b.Fatal(err)
					}
				}
				if n, err := kv.WriteCommitGraph(ctx); err != nil || n == 0 {
					b.Fatalf("WriteCommitGraph wrote %d runs: %v", n, err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				hs, err := kv.MergeBase(ctx, x.String(), y.String())
				if err != nil || len(hs) != 1 || hs[0] != base {
					b.Fatalf("merge base %v, %v; want %s", hs, err, base.Short())
				}
			}
		})
	}
}

// BenchmarkAddParallel increments one counter from GOMAXPROCS goroutines
// at once on mem: every write that loses the race for the head merges its
// increment into the new head.
func BenchmarkAddParallel(b *testing.B) {
	kv, err := strata.Open(ctx, "mem://", strata.MaxRetries(100000))
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := main.Add(ctx, "hits", 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// autoGraphStore is the Pebble store of BenchmarkMergeBase10kAuto, built
// once per process (the benchmark function runs more than once).
var autoGraphStore struct {
	once       sync.Once
	dir        string
	base, x, y strata.Hash
	err        error
}

// BenchmarkMergeBase10kAuto is BenchmarkMergeBase10k's "pebble/cold+graph"
// with a history made through the write path (Branch.Set, 8 writers per
// branch, so group commit) and no WriteCommitGraph: the commit-graph runs
// it reads are the ones the committer wrote itself. The store is built
// once (20,100 synced commits) and reopened cold for each run.
func BenchmarkMergeBase10kAuto(b *testing.B) {
	s := &autoGraphStore
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "strata-mergebase-auto-"); s.err != nil {
			return
		}
		kv, err := strata.Open(ctx, s.dir)
		if err != nil {
			s.err = err
			return
		}
		defer kv.Close()
		write := func(name string, n int) strata.Hash {
			br := kv.Branch(name)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < n; i += 8 {
						if _, err := br.Set(ctx, fmt.Sprintf("%s/k%d", name, i%100), []byte(fmt.Sprint(i))); err != nil {
							s.err = err
							return
						}
					}
				}()
			}
			wg.Wait()
			h, err := br.Head(ctx)
			if err != nil {
				s.err = err
			}
			return h
		}
		s.base = write("x", 100)
		if s.err = kv.CreateBranch(ctx, "y", "x"); s.err != nil {
			return
		}
		s.x, s.y = write("x", 10_000), write("y", 10_000)
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	kv, err := strata.Open(ctx, s.dir, strata.CacheSize(-1))
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	refs, err := kv.Backend().ListRefs(ctx, commit.GraphRefPrefix)
	if err != nil || len(refs) < 300 {
		b.Fatalf("%d commit-graph runs (%v), want one per %d commits", len(refs), err, commit.RunLen)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs, err := kv.MergeBase(ctx, s.x.String(), s.y.String())
		if err != nil || len(hs) != 1 || hs[0] != s.base {
			b.Fatalf("merge base %v, %v; want %s", hs, err, s.base.Short())
		}
	}
}
