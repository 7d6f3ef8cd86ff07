package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/console"
)

// Stores built once per size, outside the timed loops (a 1,000,000-key
// directory takes a while to build).
var (
	benchMu     sync.Mutex
	benchStores = map[string]*strata.KV{}
)

func benchStore(b *testing.B, key string, build func(ctx context.Context, kv *strata.KV) error) *strata.KV {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if kv, ok := benchStores[key]; ok {
		return kv
	}
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := build(ctx, kv); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s in %v", key, time.Since(start).Round(time.Millisecond))
	benchStores[key] = kv
	return kv
}

// bigDir writes a directory d of n values in one commit (one transaction,
// the bulk path).
func bigDir(n int) func(ctx context.Context, kv *strata.KV) error {
	return func(ctx context.Context, kv *strata.KV) error {
		_, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
			for i := range n {
				if err := tx.Set(fmt.Sprintf("d/k%08d", i), []byte(strconv.Itoa(i))); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	}
}

// longHistory writes n commits of one value each.
func longHistory(n int) func(ctx context.Context, kv *strata.KV) error {
	return func(ctx context.Context, kv *strata.KV) error {
		b := kv.Branch("main")
		for i := range n {
			if _, err := b.Set(ctx, fmt.Sprintf("k/%d", i%1000), []byte(strconv.Itoa(i)), strata.Message("commit "+strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	}
}

// serve renders path b.N times through the console handler (no network:
// the server's time to render the page).
func serve(b *testing.B, kv *strata.KV, path string) {
	b.Helper()
	h := console.New(kv, console.Options{})
	req := httptest.NewRequest("GET", path, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, w.Code)
		}
	}
}

// BenchmarkTreePage renders the first page, and a page in the middle, of
// a directory of n values (100 entries a page, each with its kind and size).
func BenchmarkTreePage(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d/first", n), func(b *testing.B) {
			serve(b, benchStore(b, "dir"+strconv.Itoa(n), bigDir(n)), "/tree/main/d")
		})
		b.Run(fmt.Sprintf("keys=%d/middle", n), func(b *testing.B) {
			serve(b, benchStore(b, "dir"+strconv.Itoa(n), bigDir(n)), fmt.Sprintf("/tree/main/d?after=k%08d", n/2))
		})
	}
}

// BenchmarkLogPage renders the first page (100 commits, with the graph)
// of a history of n commits.
func BenchmarkLogPage(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			serve(b, benchStore(b, "log"+strconv.Itoa(n), longHistory(n)), "/log/main")
		})
	}
}

// BenchmarkValuePage renders a value and its history (the last 20 commits
// that changed it, each 1000 commits apart) in a history of n commits.
func BenchmarkValuePage(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			serve(b, benchStore(b, "log"+strconv.Itoa(n), longHistory(n)), "/value/main/k/7")
		})
	}
}

// BenchmarkLogPathPage renders the first page of a path-filtered log (a
// value changed every 1000 commits) in a history of n commits: the walk
// stops 2000 generations down unless asked to search deeper.
func BenchmarkLogPathPage(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			serve(b, benchStore(b, "log"+strconv.Itoa(n), longHistory(n)), "/log/main?path=k/7")
		})
	}
}
