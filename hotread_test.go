package strata_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stratakv/strata"
)

// TestGetWarmAllocs: Branch.Get of a value whose directories are cached
// allocates only the returned bytes (issue 11), for an inline value in a
// nested directory; and the errors of the fast path are unchanged.
func TestGetWarmAllocs(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < 3000; i++ {
			tx.Set(fmt.Sprintf("d/s%d/k%05d", i%7, i), []byte(fmt.Sprint("v", i)))
			tx.Set(fmt.Sprintf("flat/k%05d", i), []byte(fmt.Sprint("v", i))) // an index of leaves
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/s3/k00003", "/d/s3/k00003/", "flat/k00003", "flat/k02999"} {
		v, err := main.Get(ctx, p)
		if want := fmt.Sprint("v", atoiTail(p)); err != nil || string(v) != want {
			t.Fatalf("Get %q = %q, %v; want %s", p, v, err, want)
		}
		if n := testing.AllocsPerRun(200, func() { _, _ = main.Get(ctx, p) }); n != 1 {
			t.Errorf("Get %q: %v allocations per call, want 1 (the value) and nothing else", p, n)
		}
	}
	for _, c := range []struct {
		path string
		want error
	}{
		{"d/s3/k99999", strata.ErrNotFound},
		{"d/s3", strata.ErrNotFound},
		{"d/s3/k00003/x", strata.ErrNotFound},
		{"", strata.ErrNotFound},
		{"d//s3", strata.ErrInvalidPath},
		{"d/../s3", strata.ErrInvalidPath},
	} {
		if _, err := main.Get(ctx, c.path); !errors.Is(err, c.want) {
			t.Errorf("Get %q: %v, want %v", c.path, err, c.want)
		}
	}
	if _, err := kv.Branch("nope").Get(ctx, "d/s3/k00003"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get on a missing branch: %v, want ErrNotFound", err)
	}
	if _, err := kv.Branch("-bad").Get(ctx, "d/s3/k00003"); !errors.Is(err, strata.ErrInvalidBranch) {
		t.Errorf("Get on an invalid branch: %v, want ErrInvalidBranch", err)
	}
}

// atoiTail returns the number that ends path (its last 5 characters,
// trailing slashes aside).
func atoiTail(path string) int {
	path = strings.TrimRight(path, "/")
	n, _ := strconv.Atoi(path[len(path)-5:])
	return n
}
