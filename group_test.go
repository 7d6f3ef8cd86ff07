package strata_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/redistest"
)

// TestGroupCommitChain runs 8 goroutines × 500 Sets on one branch on every
// backend: group commit must leave the history serial writes would make,
// a chain of 4,000 commits (heights 1..4000, one parent each but the
// first), holding every caller's commit exactly once, each writer's in its
// own order, and every value.
func TestGroupCommitChain(t *testing.T) {
	const writers, each = 8, 500
	stores := map[string]func(t *testing.T) string{
		"mem":    func(t *testing.T) string { return "mem://" },
		"pebble": func(t *testing.T) string { return t.TempDir() },
		"redis":  func(t *testing.T) string { return redistest.Start(t).URL("group") },
	}
	for name, url := range stores {
		t.Run(name, func(t *testing.T) {
			kv := openURL(t, url(t))
			defer kv.Close()
			main := kv.Branch("main")
			hashes := make([][]strata.Hash, writers)
			errs := make(chan error, writers)
			var wg sync.WaitGroup
			for g := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						h, err := main.Set(ctx, fmt.Sprintf("w%d/k%d", g, i), []byte(fmt.Sprintf("%d-%d", g, i)))
						if err != nil {
							errs <- fmt.Errorf("writer %d, write %d: %w", g, i, err)
							return
						}
						hashes[g] = append(hashes[g], h)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			checkChain(t, kv, writers*each, hashes)
			got, err := dumpBranch(kv, "main")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for g := range writers {
				for i := range each {
					want[fmt.Sprintf("w%d/k%d", g, i)] = fmt.Sprintf("%d-%d", g, i)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// checkChain checks that branch main of kv is a chain of n commits
// (heights n..1 down the first parents, one parent each but the root) and
// that it holds every hash of calls exactly once, each caller's in the
// order the caller made them.
func checkChain(t *testing.T, kv *strata.KV, n int, calls [][]strata.Hash) {
	t.Helper()
	head, err := kv.Branch("main").Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	heightOf := map[strata.Hash]uint64{}
	for h, want := head, uint64(n); !h.IsZero(); want-- {
		c, err := commit.Get(ctx, kv.Backend(), h)
		if err != nil {
			t.Fatal(err)
		}
		if c.Height != want {
			t.Fatalf("commit %s: height %d, want %d", h.Short(), c.Height, want)
		}
		if wantParents := min(want-1, 1); uint64(len(c.Parents)) != wantParents {
			t.Fatalf("commit %s at height %d: %d parents, want %d", h.Short(), c.Height, len(c.Parents), wantParents)
		}
		heightOf[h] = c.Height
		if len(c.Parents) == 0 {
			break
		}
		h = c.Parents[0]
	}
	if len(heightOf) != n {
		t.Fatalf("the chain has %d commits, want %d", len(heightOf), n)
	}
	seen := map[strata.Hash]bool{}
	for g, hs := range calls {
		var last uint64
		for i, h := range hs {
			ht, ok := heightOf[h]
			switch {
			case !ok:
				t.Fatalf("writer %d, write %d: commit %s is not in the chain", g, i, h.Short())
			case seen[h]:
				t.Fatalf("writer %d, write %d: commit %s returned to two callers", g, i, h.Short())
			case ht <= last:
				t.Fatalf("writer %d, write %d: commit at height %d after one at %d", g, i, ht, last)
			}
			seen[h], last = true, ht
		}
	}
	if len(seen) != n {
		t.Fatalf("callers got %d commits, want %d", len(seen), n)
	}
}

// TestOneAtomicWritePerGroup: concurrent writers on one branch of one KV
// make at most one atomic write per commit (fewer when their writes
// overlap and are grouped), no bare Put or compare-and-swap, and the
// chain serial writes would make.
func TestOneAtomicWritePerGroup(t *testing.T) {
	const writers, each = 8, 50
	store := &counting{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	hashes := make([][]strata.Hash, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				h, err := main.Set(ctx, fmt.Sprintf("w%d/k%d", g, i), []byte("v"))
				if err != nil {
					t.Error(err)
					return
				}
				hashes[g] = append(hashes[g], h)
			}
		}()
	}
	wg.Wait()
	strata.WaitCommitGraph(kv) // the runs are written in the background
	got := store.take()
	if got.Put != 0 || got.CAS != 0 || got.Atomic < 1 || got.Atomic > writers*each {
		t.Errorf("writes: %+v, want 1..%d atomic writes and nothing else", got, writers*each)
	}
	if want := writers * each / commit.RunLen; got.Graph != want {
		t.Errorf("%d commit-graph runs written, want %d (one per %d commits)", got.Graph, want, commit.RunLen)
	}
	t.Logf("%d commits in %d atomic writes", writers*each, got.Atomic)
	checkChain(t, kv, writers*each, hashes)
}

// TestGroupCommitTwoKVs: two KVs on one store (as two processes would
// be), each with 4 writers on one branch, meet at the compare-and-swap; a
// group that loses it is made again on the new head. The history is still
// one chain holding every caller's commit once, and every value.
func TestGroupCommitTwoKVs(t *testing.T) {
	const kvs, writers, each = 2, 4, 100
	store := mem.New()
	var hashes [][]strata.Hash
	var mu sync.Mutex
	var wg sync.WaitGroup
	var first *strata.KV
	for k := range kvs {
		kv := strata.New(store)
		if k == 0 {
			first = kv
		}
		main := kv.Branch("main")
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var hs []strata.Hash
				for i := range each {
					h, err := main.Set(ctx, fmt.Sprintf("kv%d/w%d/k%d", k, g, i), []byte("v"))
					if err != nil {
						t.Error(err)
						return
					}
					hs = append(hs, h)
				}
				mu.Lock()
				hashes = append(hashes, hs)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	checkChain(t, first, kvs*writers*each, hashes)
	got, err := dumpBranch(first, "main")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != kvs*writers*each {
		t.Errorf("%d values, want %d", len(got), kvs*writers*each)
	}
}

// TestSetValueReusable: Set's caller may overwrite its value's bytes as
// soon as Set returns, also when its write went through another writer's
// group, and when its context ended while it waited (Set then returns
// only once its write can no longer run). 8 writers on one branch each
// reuse one buffer; some give up at a short deadline. Every write that
// reported success holds the bytes it was given, and no key holds the
// bytes written over them after Set returned.
func TestSetValueReusable(t *testing.T) {
	kv := openURL(t, "mem://")
	defer kv.Close()
	main := kv.Branch("main")
	const writers, each = 8, 200
	var wg sync.WaitGroup
	type write struct {
		want   string
		landed bool
	}
	writes := make([]map[string]write, writers)
	for w := range writers {
		writes[w] = map[string]write{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16)
			for i := range each {
				key := fmt.Sprintf("w%d/k%03d", w, i)
				want := fmt.Sprintf("w%d value %07d", w, i) // 16 bytes, as buf
				copy(buf, want)
				c, cancel := context.WithTimeout(ctx, time.Duration(i%4)*20*time.Microsecond)
				if i%4 == 0 {
					cancel()
					c, cancel = context.WithCancel(ctx)
				}
				_, err := main.Set(c, key, buf)
				cancel()
				copy(buf, "overwritten!!!!!") // at once, as a caller may
				writes[w][key] = write{want, err == nil}
			}
		}()
	}
	wg.Wait()
	n := 0
	for w := range writers {
		for key, wr := range writes[w] {
			got, err := main.Get(ctx, key)
			switch {
			case err == nil && string(got) != wr.want:
				t.Fatalf("%s = %q; want %q", key, got, wr.want)
			case err != nil && wr.landed:
				t.Fatalf("%s: %v after its Set succeeded", key, err)
			case wr.landed:
				n++
			}
		}
	}
	if n < writers*each/4 {
		t.Fatalf("only %d of %d writes landed", n, writers*each)
	}
}
