package strata_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stratakv/strata"
)

// FuzzResolve: resolving any revision on a small store never panics, and
// returns either a commit of the store or an error wrapping ErrNotFound,
// ErrInvalidRevision or ErrInvalidBranch.
func FuzzResolve(f *testing.F) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		f.Fatal(err)
	}
	defer kv.Close()
	commits := map[strata.Hash]bool{}
	main := kv.Branch("main")
	for i, v := range []string{"1", "2", "3"} {
		h, err := main.Set(ctx, "k", []byte(v), strata.Time(time.Unix(int64(i), 0)))
		if err != nil {
			f.Fatal(err)
		}
		commits[h] = true
	}
	if err := kv.CreateBranch(ctx, "side", "main~1"); err != nil {
		f.Fatal(err)
	}
	h, err := kv.Branch("side").Set(ctx, "s", []byte("x"), strata.Time(time.Unix(9, 0)))
	if err != nil {
		f.Fatal(err)
	}
	commits[h] = true
	if _, err := kv.Merge(ctx, "side", "main", strata.Time(time.Unix(10, 0))); err != nil {
		f.Fatal(err)
	}
	head, err := main.Head(ctx)
	if err != nil {
		f.Fatal(err)
	}
	commits[head] = true
	for _, s := range []string{
		"main", "main~", "main~2", "main^", "main^2", "main^0", "main~1^2~",
		"side", head.String(), head.String()[:6], "", "~", "^", "main~-1",
		"main~99999999999999999999", "main^^^^", "-x", "a..b", "ZZZZ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		h, err := kv.Resolve(ctx, rev)
		if err != nil {
			if !errors.Is(err, strata.ErrNotFound) && !errors.Is(err, strata.ErrInvalidRevision) && !errors.Is(err, strata.ErrInvalidBranch) {
				t.Fatalf("Resolve(%q): %v: not ErrNotFound, ErrInvalidRevision or ErrInvalidBranch", rev, err)
			}
			return
		}
		if !commits[h] {
			t.Fatalf("Resolve(%q) = %s, not a commit of the store", rev, h.Short())
		}
	})
}
