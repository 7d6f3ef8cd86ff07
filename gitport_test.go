package strata_test

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/internal/redistest"
)

// git runs git in dir and returns its standard output.
func git(t *testing.T, dir string, stdin io.Reader, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// gitBlobHash is the object name Git gives a blob of data.
func gitBlobHash(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// gitCommitInfo is what a Git commit says, keyed by what identifies it
// across repositories: a digest of its author name, author time and
// message and of its parents' keys; with its files as path -> blob name.
type gitCommitInfo struct {
	Key     string
	Parents []string
	Files   map[string]string
}

// commitKey is the key of a commit in gitCommitInfo.
func commitKey(author string, at int64, msg string, parents []string) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", author, at, strings.TrimRight(msg, "\n"))
	for _, p := range parents {
		fmt.Fprintf(h, "\x00%s", p)
	}
	return fmt.Sprintf("%s %d %.40q %x", author, at, strings.TrimRight(msg, "\n"), h.Sum(nil)[:6])
}

// addCommit adds info to hist; a commit whose key is there already must
// be the same commit.
func addCommit(t *testing.T, hist map[string]gitCommitInfo, info gitCommitInfo) {
	t.Helper()
	if old, dup := hist[info.Key]; dup {
		if d := cmp.Diff(old, info); d != "" {
			t.Fatalf("two different commits have the key %s:\n%s", info.Key, d)
		}
	}
	hist[info.Key] = info
}

// gitHistory reads every commit reachable from the refs of a repository
// (with revs, e.g. "--branches", "--tags"), in one git log and one
// ls-tree per commit.
func gitHistory(t *testing.T, dir string, revs ...string) map[string]gitCommitInfo {
	t.Helper()
	out := git(t, dir, nil, append([]string{"log", "--reverse", "--topo-order", "--format=%H%x00%P%x00%an%x00%at%x00%B%x01"}, revs...)...)
	keys := map[string]string{}
	hist := map[string]gitCommitInfo{}
	for _, rec := range strings.Split(string(out), "\x01") {
		rec = strings.TrimPrefix(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x00", 5)
		var at int64
		fmt.Sscan(f[3], &at)
		info := gitCommitInfo{Files: map[string]string{}}
		for _, p := range strings.Fields(f[1]) {
			info.Parents = append(info.Parents, keys[p])
		}
		info.Key = commitKey(f[2], at, f[4], info.Parents)
		keys[f[0]] = info.Key
		for _, line := range strings.Split(string(git(t, dir, nil, "ls-tree", "-r", "-z", f[0])), "\x00") {
			if line == "" {
				continue
			}
			meta, path, _ := strings.Cut(line, "\t")
			fs := strings.Fields(meta)
			if fs[1] == "commit" {
				continue // a submodule: left out by the import
			}
			info.Files[path] = fs[2]
		}
		addCommit(t, hist, info)
	}
	return hist
}

// strataHistory is gitHistory for every commit reachable from a store's
// branches and tags.
func strataHistory(t *testing.T, kv *strata.KV) map[string]gitCommitInfo {
	t.Helper()
	var heads []string
	for _, b := range must[[]strata.BranchInfo](t)(kv.Branches(ctx)) {
		heads = append(heads, b.Name)
	}
	for _, tg := range must[[]strata.TagInfo](t)(kv.Tags(ctx)) {
		heads = append(heads, tg.Commit.String())
	}
	seen := map[strata.Hash]strata.Commit{}
	for _, h := range heads {
		for _, c := range must[[]strata.Commit](t)(kv.Log(ctx, h, 0)) {
			seen[c.Hash] = c
		}
	}
	keys := map[strata.Hash]string{}
	var key func(h strata.Hash) string
	key = func(h strata.Hash) string {
		if k, ok := keys[h]; ok {
			return k
		}
		c := seen[h]
		var ps []string
		for _, p := range c.Parents {
			ps = append(ps, key(p))
		}
		name, _, _ := strings.Cut(c.Author, " <")
		keys[h] = commitKey(name, c.Time.Unix(), c.Message, ps)
		return keys[h]
	}
	hist := map[string]gitCommitInfo{}
	for h, c := range seen {
		info := gitCommitInfo{Key: key(h), Files: map[string]string{}}
		for _, p := range c.Parents {
			info.Parents = append(info.Parents, key(p))
		}
		files := must[map[string]string](t)(dumpRev(kv, c.Hash.String()))
		for p, v := range files {
			info.Files[p] = gitBlobHash([]byte(v))
		}
		addCommit(t, hist, info)
	}
	return hist
}

// buildExportHistory makes a history with two branches, a merge, a tag,
// values inline and not, a value that becomes a directory, and a delete.
func buildExportHistory(t *testing.T, kv *strata.KV) {
	t.Helper()
	at := func(s int) strata.CommitOption { return strata.Time(time.Unix(1700000000+int64(s), 0)) }
	main := kv.Branch("main")
	long := strings.Repeat("a longer value, stored as its own object. ", 4)
	must[strata.Hash](t)(main.Set(ctx, "config/db/host", []byte("db1"), strata.Message("first"), strata.Author("Ada Lovelace <ada@example.com>"), at(1)))
	must[strata.Hash](t)(main.Set(ctx, "config/long", []byte(long), strata.Message("second\n\nwith a body"), strata.Author("plain name"), at(2)))
	must[strata.Hash](t)(main.Set(ctx, "quirky name/ünï \"q\"", []byte{0, 1, 2, 0xff}, strata.Message("third"), at(3)))
	must[strata.Hash](t)(kv.Tag(ctx, "v1", "main"))
	if err := kv.CreateBranch(ctx, "side", "main"); err != nil {
		t.Fatal(err)
	}
	side := kv.Branch("side")
	must[strata.Hash](t)(side.Set(ctx, "side/file", []byte(long+"side"), strata.Message("on side"), at(4)))
	must[strata.Hash](t)(main.Set(ctx, "config/db/port", []byte("5432"), strata.Message("on main"), at(5)))
	must[strata.Hash](t)(kv.Merge(ctx, "side", "main", strata.Message("merge side"), at(6)))
	must[strata.Hash](t)(main.Delete(ctx, "config/db/host", strata.Message("delete host"), at(7)))
	must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		if err := tx.Delete("config/long"); err != nil {
			return err
		}
		return tx.Set("config/long/now a dir", []byte(long))
	}, strata.Message("value to directory"), at(8)))
}

func TestGitExportCheckedByGit(t *testing.T) {
	kv := openURL(t, "pebble://"+t.TempDir())
	defer kv.Close()
	buildExportHistory(t, kv)
	var stream bytes.Buffer
	if err := kv.ExportGit(ctx, &stream); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	git(t, repo, nil, "init", "-q", "--bare")
	git(t, repo, &stream, "fast-import", "--quiet")
	git(t, repo, nil, "fsck", "--strict", "--no-dangling")
	want := strataHistory(t, kv)
	got := gitHistory(t, repo, "--all")
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("git history differs from strata's (-strata +git):\n%s", d)
	}
	// The log as Git prints it, with the merge, the authors and the tag.
	log := string(git(t, repo, nil, "log", "--format=%an%x00%ae%x00%s%x00%at%x00%P", "main"))
	for _, want := range []string{"Ada Lovelace\x00ada@example.com\x00first\x001700000001\x00", "plain name\x00\x00second\x001700000002\x00", "merge side\x001700000006\x00"} {
		if !strings.Contains(log, want) {
			t.Errorf("git log lacks %q:\n%q", want, log)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "\x00merge side\x00") && len(strings.Fields(line[strings.LastIndex(line, "\x00")+1:])) != 2 {
			t.Errorf("the merge has not two parents: %q", line)
		}
	}
	if tag, v1 := strings.TrimSpace(string(git(t, repo, nil, "log", "-1", "--format=%s", "v1"))), "third"; tag != v1 {
		t.Errorf("tag v1 names %q, want %q", tag, v1)
	}
	// Imported back, the stream gives the very same commits.
	kv2 := openMem(t)
	res, err := kv2.ImportGit(ctx, bytes.NewReader(git(t, repo, nil, "fast-export", "--all", "--signed-tags=strip", "--reencode=yes")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"main", "side"}, res.Branches); d != "" {
		t.Errorf("branches (-want +got):\n%s", d)
	}
	for _, b := range []string{"main", "side"} {
		h1, h2 := must[strata.Hash](t)(kv.Branch(b).Head(ctx)), must[strata.Hash](t)(kv2.Branch(b).Head(ctx))
		if h1 != h2 {
			t.Errorf("branch %s: %s after export and import, was %s", b, h2.Short(), h1.Short())
		}
	}
}

// TestGitImportOwnHistory imports the Git history of the repository the
// test runs in, from a fresh clone, and exports it again into a new
// repository.
func TestGitImportOwnHistory(t *testing.T) {
	top := strings.TrimSpace(string(git(t, ".", nil, "rev-parse", "--show-toplevel")))
	clone := filepath.Join(t.TempDir(), "clone")
	git(t, ".", nil, "clone", "--quiet", "--mirror", "--no-local", top, clone)
	kv := openURL(t, "pebble://"+t.TempDir())
	defer kv.Close()
	var warnings []string
	stream := git(t, clone, nil, "fast-export", "--all", "--signed-tags=strip", "--reencode=yes")
	res, err := kv.ImportGit(ctx, bytes.NewReader(stream), &strata.GitImportOptions{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d commits, %d blobs; branches %v, tags %v; %d warnings", res.Commits, res.Blobs, res.Branches, res.Tags, len(warnings))
	if all := strings.Count(string(git(t, clone, nil, "rev-list", "--all")), "\n"); res.Commits != all {
		t.Errorf("imported %d commits, the repository has %d", res.Commits, all)
	}
	orig := gitHistory(t, clone, "--branches", "--tags")
	if len(orig) == 0 {
		t.Fatal("the clone has no history")
	}
	// The same commits, messages, authors, parents and files.
	if d := cmp.Diff(orig, strataHistory(t, kv)); d != "" {
		t.Fatalf("strata's history differs from git's (-git +strata):\n%s", d)
	}
	// The head: the same file bytes as git show HEAD:PATH.
	head := strings.TrimPrefix(strings.TrimSpace(string(git(t, clone, nil, "symbolic-ref", "HEAD"))), "refs/heads/")
	files := must[map[string]string](t)(dumpBranch(kv, head))
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var req bytes.Buffer
	for _, p := range paths {
		fmt.Fprintf(&req, "HEAD:%s\n", p)
	}
	rd := bufio.NewReader(bytes.NewReader(git(t, clone, &req, "cat-file", "--batch")))
	for _, p := range paths {
		var name, typ string
		var size int
		if _, err := fmt.Fscanf(rd, "%s %s %d\n", &name, &typ, &size); err != nil {
			t.Fatalf("cat-file HEAD:%s: %v", p, err)
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(rd, data); err != nil {
			t.Fatal(err)
		}
		if string(data[:size]) != files[p] {
			t.Errorf("%s: strata holds %d bytes that differ from git show HEAD:%s", p, len(files[p]), p)
		}
	}
	// Exported into a new repository: at every commit, the same paths
	// with the same bytes.
	var out bytes.Buffer
	if err := kv.ExportGit(ctx, &out); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	git(t, repo, nil, "init", "-q", "--bare")
	git(t, repo, &out, "fast-import", "--quiet")
	git(t, repo, nil, "fsck", "--strict", "--no-dangling")
	if d := cmp.Diff(orig, gitHistory(t, repo, "--all")); d != "" {
		t.Fatalf("the exported history differs from the original (-original +exported):\n%s", d)
	}
}

func TestGitImportRules(t *testing.T) {
	kv := openMem(t)
	long := strings.Repeat("x", 100)
	stream := fmt.Sprintf(`blob
mark :1
data %d
%s
blob
mark :2
data 5
short
reset refs/heads/main
commit refs/heads/main
mark :3
author A <a@x> 1700000000 +0200
committer C <c@x> 1700000999 +0000
data 5
init
M 100755 :1 bin/run
M 120000 :2 link
M 160000 0123456789012345678901234567890123456789 sub
M 100644 :2 file

commit refs/heads/main
mark :4
committer C <> 1700000001 +0000
data 6
child
M 100644 :1 file/now-a-dir
R bin/run bin/renamed
C link link2

reset refs/remotes/origin/main
from :4

tag v1
from :3
tagger T <t@x> 1700000002 +0000
data 4
msg

`, len(long), long)
	var warnings []string
	res, err := kv.ImportGit(ctx, strings.NewReader(stream), &strata.GitImportOptions{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 2 || !slices.Equal(res.Branches, []string{"main"}) || !slices.Equal(res.Tags, []string{"v1"}) {
		t.Errorf("result %+v", res)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], `"sub"`) || !strings.Contains(warnings[1], "refs/remotes/origin/main") {
		t.Errorf("warnings %q, want the submodule and the remote ref", warnings)
	}
	want := map[string]string{"bin/renamed": long, "link": "short", "link2": "short", "file/now-a-dir": long}
	if d := cmp.Diff(want, must[map[string]string](t)(dumpBranch(kv, "main"))); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	c := must[strata.Commit](t)(kv.Commit(ctx, "v1"))
	if c.Author != "A <a@x>" || c.Message != "init\n" || c.Time.Unix() != 1700000000 {
		t.Errorf("tagged commit: author %q message %q time %v", c.Author, c.Message, c.Time)
	}
	if c := must[strata.Commit](t)(kv.Commit(ctx, "main")); c.Author != "C" || len(c.Parents) != 1 {
		t.Errorf("head: author %q, %d parents", c.Author, len(c.Parents))
	}
	// Again: the same commits, nothing moves.
	if _, err := kv.ImportGit(ctx, strings.NewReader(stream), nil); err != nil {
		t.Errorf("importing the same stream again: %v", err)
	}
	// A branch elsewhere is not moved unless forced.
	other := "reset refs/heads/main\ncommit refs/heads/main\nmark :1\ncommitter X <x> 1 +0000\ndata 1\nx\nM 100644 inline a\ndata 1\na\n\n"
	if _, err := kv.ImportGit(ctx, strings.NewReader(other), nil); !errors.Is(err, strata.ErrExists) || !errors.Is(err, strata.ErrConflict) {
		t.Errorf("import over an existing branch: %v, want ErrExists", err)
	}
	if _, err := kv.ImportGit(ctx, strings.NewReader(other), &strata.GitImportOptions{Force: true}); err != nil {
		t.Errorf("forced import: %v", err)
	}
	if v := must[[]byte](t)(kv.Branch("main").Get(ctx, "a")); string(v) != "a" {
		t.Errorf("after the forced import a = %q", v)
	}
	for _, tc := range []struct {
		in   string
		want error
		says string
	}{
		{"commit refs/heads/x\ncommitter X <x> 1 +0000\ndata 1\nx\nfrom :9\n\n", strata.ErrNotFound, ":9"},
		{"commit refs/heads/x\ncommitter X <x> 1 +0000\ndata 1\nx\nM 100644 :7 f\n\n", strata.ErrNotFound, ":7"},
		{"blob\nmark :1\ndata 2\nx", strata.ErrInvalidValue, "line 3"},
		{"feature done\ncommit refs/heads/x\ncommitter X <x> 1 +0000\ndata 1\nx\n", strata.ErrInvalidValue, "done"},
		{"commit refs/heads/x\ncommitter X <x> 1 +0000\ndata 1\nx\nM 100644 inline a/../b\ndata 1\nx\n\n", strata.ErrInvalidPath, "a/../b"},
		{"commit refs/heads/bad~name\ncommitter X <x> 1 +0000\ndata 1\nx\n\n", strata.ErrInvalidBranch, "bad~name"},
	} {
		_, err := openMem(t).ImportGit(ctx, strings.NewReader(tc.in), nil)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("import of %q: %v, want %v saying %s", tc.in, err, tc.want, tc.says)
		}
	}
}

// TestGitImportBeforeRefs: BeforeRefs runs after the whole stream is read
// and before any ref moves; its error is ImportGit's, and nothing moves.
func TestGitImportBeforeRefs(t *testing.T) {
	kv := openMem(t)
	stream := "commit refs/heads/x\ncommitter X <x> 1 +0000\ndata 1\nx\nM 100644 inline a\ndata 1\na\n\ntag v\nfrom refs/heads/x\ntagger T <t> 1 +0000\ndata 0\n"
	failed := errors.New("the exporter failed")
	calls := 0
	_, err := kv.ImportGit(ctx, strings.NewReader(stream), &strata.GitImportOptions{BeforeRefs: func() error { calls++; return failed }})
	if !errors.Is(err, failed) || calls != 1 {
		t.Fatalf("ImportGit = %v after %d calls, want the BeforeRefs error after 1", err, calls)
	}
	if _, err := kv.Commit(ctx, "x"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("branch x after a refused import: %v, want ErrNotFound", err)
	}
	if _, err := kv.Commit(ctx, "v"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("tag v after a refused import: %v, want ErrNotFound", err)
	}
	res, err := kv.ImportGit(ctx, strings.NewReader(stream), &strata.GitImportOptions{BeforeRefs: func() error { return nil }})
	if err != nil || !slices.Equal(res.Branches, []string{"x"}) || !slices.Equal(res.Tags, []string{"v"}) {
		t.Errorf("ImportGit with a BeforeRefs that passes: %+v, %v", res, err)
	}
}

// TestGitRoundTripStores exports a history and imports it into a store of
// each backend, storing objects in tiny batches so that commits are built
// on parents already flushed to the store: the same commits come back
// (same hashes: the history's times are whole seconds).
func TestGitRoundTripStores(t *testing.T) {
	src := openMem(t)
	buildExportHistory(t, src)
	var stream bytes.Buffer
	if err := src.ExportGit(ctx, &stream); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"pebble", func(t *testing.T) string { return "pebble://" + t.TempDir() }},
		{"redis", func(t *testing.T) string { return redistest.Start(t).URL("gitimport") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := openURL(t, tc.url(t))
			defer kv.Close()
			for _, batch := range []int{1, 0} {
				res, err := kv.ImportGit(ctx, bytes.NewReader(stream.Bytes()), &strata.GitImportOptions{BatchBytes: batch})
				if err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
				if !slices.Equal(res.Tags, []string{"v1"}) {
					t.Errorf("tags %v", res.Tags)
				}
				for _, b := range []string{"main", "side"} {
					h1, h2 := must[strata.Hash](t)(src.Branch(b).Head(ctx)), must[strata.Hash](t)(kv.Branch(b).Head(ctx))
					if h1 != h2 {
						t.Errorf("batch %d: branch %s is %s, was %s", batch, b, h2.Short(), h1.Short())
					}
				}
			}
			if d := cmp.Diff(strataHistory(t, src), strataHistory(t, kv)); d != "" {
				t.Errorf("history (-exported +imported):\n%s", d)
			}
			rep, err := kv.Fsck(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 0 {
				t.Errorf("fsck: %v", rep.Problems)
			}
		})
	}
}
