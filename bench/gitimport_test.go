package bench_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/bench"
)

// TestGitImportWorkload checks that the generated history imports into
// strata with the files and commits it promises, and that the side-by-side
// run works with git. It asserts nothing about time.
func TestGitImportWorkload(t *testing.T) {
	ctx := context.Background()
	var stream bytes.Buffer
	if err := bench.WriteGitHistory(&stream, 1000, 20); err != nil {
		t.Fatal(err)
	}
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	res, err := kv.ImportGit(ctx, &stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 20 || res.Blobs != 1000+19*10 {
		t.Errorf("imported %d commits and %d blobs, want 20 and %d", res.Commits, res.Blobs, 1000+19*10)
	}
	n := 0
	for _, d := range must(kv.Branch("main").List(ctx, ""))(t) {
		n += must(kv.Branch("main").Len(ctx, d.Name))(t)
	}
	if n != 1000 {
		t.Errorf("the head has %d files, want 1000", n)
	}
	r, err := bench.RunGitImport(ctx, t.TempDir(), 300, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Git) != 1 || len(r.Strata) != 1 || r.StreamBytes == 0 {
		t.Errorf("result %+v", r)
	}
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
