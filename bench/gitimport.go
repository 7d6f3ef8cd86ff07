package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stratakv/strata"
)

// WriteGitHistory writes a stream shaped like `git fast-export` output of
// a linear history of commits commits that grows to files files: commit j
// adds the next files/commits files (of about 200 bytes, in directories of
// 100) and, after the first, changes 10 earlier files. Every file version
// is a marked blob written before the commit that uses it, as
// fast-export writes them. The stream is the same for the same sizes.
func WriteGitHistory(w io.Writer, files, commits int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	per := max(files/commits, 1)
	mark, added := 0, 0
	blob := func(i, gen int) int {
		body := fmt.Sprintf("# generated file %d, version %d\nname: service-%d\nreplicas: %d\nimage: registry.example.com/team/service-%d:%d\n", i, gen, i, 1+i%7, i, gen)
		body += strings.Repeat("#", max(0, 200-len(body))) + "\n"
		mark++
		fmt.Fprintf(bw, "blob\nmark :%d\ndata %d\n%s\n", mark, len(body), body)
		return mark
	}
	path := func(i int) string { return fmt.Sprintf("d%04d/f%06d.yaml", i/100, i) }
	type op struct {
		mark int
		path string
	}
	prev := 0
	for j := range commits {
		var ops []op
		n := per
		if j == commits-1 {
			n = files - added
		}
		for k := 0; k < n; k++ {
			ops = append(ops, op{blob(added+k, 0), path(added + k)})
		}
		if added > 0 {
			for k := range 10 {
				i := (j*7919 + k*104729) % added
				ops = append(ops, op{blob(i, j), path(i)})
			}
		}
		added += n
		mark++
		msg := fmt.Sprintf("commit %d: add %d files", j, n)
		fmt.Fprintf(bw, "reset refs/heads/main\n")
		if j > 0 {
			fmt.Fprintf(bw, "commit refs/heads/main\nmark :%d\nauthor Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\nfrom :%d\n",
				mark, 1_700_000_000+j, 1_700_000_000+j, len(msg), msg, prev)
		} else {
			fmt.Fprintf(bw, "commit refs/heads/main\nmark :%d\nauthor Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\n",
				mark, 1_700_000_000+j, 1_700_000_000+j, len(msg), msg)
		}
		for _, o := range ops {
			fmt.Fprintf(bw, "M 100644 :%d %s\n", o.mark, o.path)
		}
		bw.WriteString("\n")
		prev = mark
	}
	return bw.Flush()
}

// GitImportResult is one side-by-side measurement of importing a stream.
type GitImportResult struct {
	Files, Commits int
	StreamBytes    int64
	Git, Strata    []time.Duration // each sample
}

// Median returns the median of ds.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// RunGitImport writes the stream of WriteGitHistory(files, commits) to a
// file in dir and imports it samples times each, alternating: with `git
// fast-import` (from PATH) into a fresh bare repository, and with
// KV.ImportGit into a fresh Pebble store (opened, imported, closed).
func RunGitImport(ctx context.Context, dir string, files, commits, samples int) (*GitImportResult, error) {
	streamPath := filepath.Join(dir, "stream")
	f, err := os.Create(streamPath)
	if err != nil {
		return nil, err
	}
	if err := WriteGitHistory(f, files, commits); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	st, err := os.Stat(streamPath)
	if err != nil {
		return nil, err
	}
	res := &GitImportResult{Files: files, Commits: commits, StreamBytes: st.Size()}
	for s := range samples {
		repo := filepath.Join(dir, fmt.Sprintf("git%d", s))
		if out, err := gitCommand(ctx, "git", "init", "--bare", "-q", repo).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("git init: %w: %s", err, out)
		}
		in, err := os.Open(streamPath)
		if err != nil {
			return nil, err
		}
		cmd := gitCommand(ctx, "git", "-C", repo, "fast-import", "--quiet")
		cmd.Stdin = in
		start := time.Now()
		out, err := cmd.CombinedOutput()
		res.Git = append(res.Git, time.Since(start))
		in.Close()
		if err != nil {
			return nil, fmt.Errorf("git fast-import: %w: %s", err, out)
		}
		os.RemoveAll(repo)

		store := filepath.Join(dir, fmt.Sprintf("strata%d", s))
		in, err = os.Open(streamPath)
		if err != nil {
			return nil, err
		}
		start = time.Now()
		kv, err := strata.Open(ctx, "pebble://"+store)
		if err != nil {
			in.Close()
			return nil, err
		}
		r, err := kv.ImportGit(ctx, in, nil)
		cerr := kv.Close()
		res.Strata = append(res.Strata, time.Since(start))
		in.Close()
		if err != nil {
			return nil, err
		}
		if cerr != nil {
			return nil, cerr
		}
		if r.Commits != commits {
			return nil, fmt.Errorf("strata imported %d commits, want %d", r.Commits, commits)
		}
		os.RemoveAll(store)
	}
	return res, nil
}
