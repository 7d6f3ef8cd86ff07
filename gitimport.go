package strata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/exchange/gitstream"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// GitImportOptions configures ImportGit. The zero value (or nil) imports
// into branches and tags that do not exist yet, or that already name the
// imported commit.
type GitImportOptions struct {
	// Force moves branches and tags that exist and name other commits to
	// the imported ones (each by compare-and-swap from the head read).
	Force bool
	// Warn, if not nil, is called with a sentence for everything the
	// import leaves out (a submodule, a ref that is neither a branch nor a
	// tag).
	Warn func(msg string)
	// BatchBytes is how many bytes of objects the import gathers before it
	// stores them in one write (default 64 MiB).
	BatchBytes int
	// BeforeRefs, if not nil, is called once the whole stream has been
	// read and its objects stored, before any branch or tag moves. If it
	// returns an error, ImportGit returns that error and moves nothing. A
	// caller reading the stream from a process (git fast-export) uses it
	// to check that the process succeeded.
	BeforeRefs func() error
}

// GitImportResult says what ImportGit built.
type GitImportResult struct {
	Commits  int      // commits built
	Blobs    int      // file contents read
	Branches []string // branches set, sorted
	Tags     []string // tags set, sorted
}

// ImportGit reads a `git fast-export` stream (as `git fast-export --all
// --signed-tags=strip --reencode=yes` writes it) and builds the same
// history: every commit with its parents (merges too), author, time and
// message, and every file's bytes as a raw value at its path. Branches
// come from refs/heads/NAME and tags from refs/tags/NAME (annotated tags
// become plain tags: their message and tagger are dropped); other refs
// (refs/remotes/…, refs/notes/…) are left out, as are submodules, each
// reported through opts.Warn. A symbolic link is a value holding its
// target; the executable bit is dropped. A commit's author is the
// stream's author (else its committer) as "Name <email>" (just "Name"
// for an empty email), its time the
// author time (the time zone is dropped).
//
// Objects are written in large batches (opts.BatchBytes) and the refs are
// moved at the end, each by compare-and-swap, so nothing is visible until
// the whole stream has been read (and opts.BeforeRefs, if set, has
// returned nil). A stream that announces `feature done` (git fast-export
// --use-done-feature) must end with `done`: one cut short before it is a
// malformed stream. A branch or tag that exists and names another commit
// is an error wrapping ErrExists (and ErrConflict) unless opts.Force; the
// others are still set. A malformed stream returns an error wrapping
// ErrInvalidValue that names the line; a from or merge that names a
// commit not earlier in the stream wraps ErrNotFound.
// Importing the same stream twice builds the same commits (same hashes).
func (kv *KV) ImportGit(ctx context.Context, r io.Reader, opts *GitImportOptions) (*GitImportResult, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	g := &gitImport{kv: kv, blobs: map[int]gitBlob{}, commits: map[int]gitCommit{}, refs: map[string]gitCommit{}}
	if opts != nil {
		g.opts = *opts
	}
	if g.opts.BatchBytes <= 0 {
		g.opts.BatchBytes = 64 << 20
	}
	g.ov = &unstored{ObjectStore: kv.store, objs: map[Hash]unstoredObject{}}
	g.st = kv.nodes.Over(g.ov)
	res := &GitImportResult{}
	sr := gitstream.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cmd, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, gitstream.ErrSyntax) {
				return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
			}
			return nil, fmt.Errorf("read git stream: %w", err)
		}
		switch c := cmd.(type) {
		case *gitstream.Blob:
			g.blob(c)
			res.Blobs++
		case *gitstream.Commit:
			if err := g.commit(ctx, c); err != nil {
				return nil, err
			}
			res.Commits++
		case *gitstream.Reset:
			if c.From == "" {
				delete(g.refs, c.Ref)
				continue
			}
			to, err := g.resolve(c.From)
			if err != nil {
				return nil, fmt.Errorf("reset %s: %w", c.Ref, err)
			}
			g.refs[c.Ref] = to
		case *gitstream.Tag:
			to, err := g.resolve(c.From)
			if err != nil {
				return nil, fmt.Errorf("tag %s: %w", c.Name, err)
			}
			g.refs["refs/tags/"+c.Name] = to
			if c.Mark > 0 {
				g.commits[c.Mark] = to
			}
		}
		if g.pendingBytes >= g.opts.BatchBytes {
			if err := g.flush(ctx); err != nil {
				return nil, err
			}
		}
	}
	if err := g.flush(ctx); err != nil {
		return nil, err
	}
	if g.opts.BeforeRefs != nil {
		if err := g.opts.BeforeRefs(); err != nil {
			return nil, err
		}
	}
	return res, g.moveRefs(ctx, res)
}

// gitBlob is a blob read: inline bytes (a value small enough to be held
// in its directory) or the hash of its contents object.
type gitBlob struct {
	inline []byte
	hash   Hash
}

// gitCommit is a commit built: what its children need of it, and no
// more, so a long history costs little memory.
type gitCommit struct {
	hash, tree Hash
	height     uint64
}

type gitImport struct {
	kv           *KV
	opts         GitImportOptions
	ov           *unstored   // objects built and not stored yet
	st           *node.Store // the node store over ov
	pending      []backend.Object
	pendingBytes int
	blobs        map[int]gitBlob
	commits      map[int]gitCommit    // by mark
	refs         map[string]gitCommit // every ref the stream set, as it stands
}

func (g *gitImport) warn(format string, args ...any) {
	if g.opts.Warn != nil {
		g.opts.Warn(fmt.Sprintf(format, args...))
	}
}

func (g *gitImport) add(objs ...backend.Object) {
	for _, o := range objs {
		g.pending = append(g.pending, o)
		g.pendingBytes += len(o.Data) + len(o.Hash)
	}
	g.ov.add(objs, 0)
}

// flush stores the pending objects in one write.
func (g *gitImport) flush(ctx context.Context) error {
	if len(g.pending) == 0 {
		return nil
	}
	if err := g.kv.store.Put(ctx, g.pending); err != nil {
		return fmt.Errorf("git import: write objects: %w", err)
	}
	g.pending, g.pendingBytes = g.pending[:0], 0
	clear(g.ov.objs)
	return nil
}

func (g *gitImport) blob(b *gitstream.Blob) {
	if b.Mark == 0 {
		return // nothing can name it
	}
	if len(b.Data) <= node.MaxInline {
		g.blobs[b.Mark] = gitBlob{inline: b.Data}
		return
	}
	o := contents.Object(contents.Raw(b.Data))
	g.add(o)
	g.blobs[b.Mark] = gitBlob{hash: o.Hash}
}

// resolve finds the commit a from, merge or reset names: a mark, or a ref
// set earlier in the stream.
func (g *gitImport) resolve(ish string) (gitCommit, error) {
	if strings.HasPrefix(ish, ":") {
		var n int
		if _, err := fmt.Sscanf(ish, ":%d", &n); err == nil {
			if c, ok := g.commits[n]; ok {
				return c, nil
			}
		}
	} else if c, ok := g.refs[ish]; ok {
		return c, nil
	}
	return gitCommit{}, fmt.Errorf("%w: commit %q is not earlier in the stream (only marks and refs the stream set can be named)", ErrNotFound, ish)
}

func (g *gitImport) commit(ctx context.Context, c *gitstream.Commit) error {
	where := func(err error) error { return fmt.Errorf("commit %s (mark :%d): %w", c.Ref, c.Mark, err) }
	var parents []gitCommit
	switch {
	case c.From != "":
		p, err := g.resolve(c.From)
		if err != nil {
			return where(err)
		}
		parents = append(parents, p)
	default:
		if p, ok := g.refs[c.Ref]; ok { // fast-import: the branch's tip
			parents = append(parents, p)
		}
	}
	for _, m := range c.Merges {
		p, err := g.resolve(m)
		if err != nil {
			return where(err)
		}
		parents = append(parents, p)
	}
	base := node.Empty
	if len(parents) > 0 {
		base = parents[0].tree
	}
	b := tree.New(g.st, base).Builder()
	for _, op := range c.Ops {
		if err := g.apply(ctx, &b, base, op); err != nil {
			return where(err)
		}
	}
	objs, root, err := b.Objects(ctx)
	if err != nil {
		return where(err)
	}
	var height uint64
	hashes := make([]Hash, len(parents))
	for i, p := range parents {
		hashes[i], height = p.hash, max(height, p.height)
	}
	id := c.Author
	if id == nil {
		id = &c.Committer
	}
	co := commitOptions{message: string(c.Message), author: gitAuthor(id.Name, id.Email), time: time.Unix(id.When, 0)}
	obj, _ := buildCommit(root, hashes, height+1, co)
	g.add(objs...)
	g.add(obj)
	gc := gitCommit{hash: obj.Hash, tree: root, height: height + 1}
	if c.Mark > 0 {
		g.commits[c.Mark] = gc
	}
	g.refs[c.Ref] = gc
	return nil
}

// gitAuthor is a strata author for a Git identity: "Name <email>", or
// just the name if the email is empty, the inverse of splitAuthor.
func gitAuthor(name, email string) string {
	if email == "" {
		return name
	}
	return name + " <" + email + ">"
}

var authorRE = regexp.MustCompile(`^(.*) <([^<>\n]*)>$`)

// splitAuthor is the Git identity for a strata author: "Name <email>" as
// such, and any other name with an empty email.
func splitAuthor(a string) (name, email string) {
	if m := authorRE.FindStringSubmatch(a); m != nil {
		return m[1], m[2]
	}
	return a, ""
}

// apply makes one file change of a commit on *b.
func (g *gitImport) apply(ctx context.Context, b **tree.Builder, base Hash, op gitstream.FileOp) error {
	switch op.Op {
	case 'X':
		*b = tree.New(g.st, node.Empty).Builder()
		return nil
	case 'D':
		segs, err := tree.ParsePath(op.Path)
		if err != nil {
			return err
		}
		// git fast-export writes a file that became a directory as the
		// directory's files and then the file's deletion ("M f/g", "D f");
		// the deletion is of the file, not of the new directory (git
		// fast-import would drop the directory).
		if _, err := (*b).List(ctx, segs, tree.Page{Limit: 1}); err == nil {
			if _, err := tree.New(g.st, base).Get(ctx, segs); err == nil {
				return nil
			}
		}
		_, err = (*b).Delete(ctx, segs)
		return err
	case 'C', 'R':
		src, err := tree.ParsePath(op.Path)
		if err != nil {
			return err
		}
		dst, err := tree.ParsePath(op.Dest)
		if err != nil {
			return err
		}
		v, err := (*b).GetContents(ctx, src)
		if err != nil {
			return fmt.Errorf("%c %q: only single files can be copied or renamed (export without -M and -C): %w", op.Op, op.Path, err)
		}
		if err := (*b).SetContents(ctx, dst, v); err != nil {
			return err
		}
		if op.Op == 'R' {
			_, err = (*b).Delete(ctx, src)
		}
		return err
	}
	// 'M'
	switch op.Mode {
	case "160000":
		g.warn("submodule %q left out", op.Path)
		return nil
	case "040000":
		return fmt.Errorf("%w: M 040000 (a whole directory) at %q is not supported", ErrInvalidValue, op.Path)
	}
	segs, err := tree.ParsePath(op.Path)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return fmt.Errorf("%w: a file at the root", ErrInvalidPath)
	}
	if err := g.set(ctx, *b, segs, op); !errors.Is(err, tree.ErrNotDir) {
		return err
	}
	// As in git fast-import, a file replaces a directory at its path, and
	// a file on the way to it.
	for i := 1; i < len(segs); i++ {
		if _, err := (*b).GetContents(ctx, segs[:i]); err == nil {
			if _, err := (*b).Delete(ctx, segs[:i]); err != nil {
				return err
			}
			break
		}
	}
	if _, err := (*b).Delete(ctx, segs); err != nil {
		return err
	}
	return g.set(ctx, *b, segs, op)
}

// set records the file of op at segs.
func (g *gitImport) set(ctx context.Context, b *tree.Builder, segs []string, op gitstream.FileOp) error {
	if op.DataRef == "inline" {
		return b.Set(ctx, segs, op.Data)
	}
	var blob gitBlob
	ok := false
	if strings.HasPrefix(op.DataRef, ":") {
		var n int
		if _, err := fmt.Sscanf(op.DataRef, ":%d", &n); err == nil {
			blob, ok = g.blobs[n]
		}
	}
	if !ok {
		return fmt.Errorf("%w: file %q names blob %q, not earlier in the stream", ErrNotFound, op.Path, op.DataRef)
	}
	if blob.hash.IsZero() {
		return b.Set(ctx, segs, blob.inline)
	}
	return b.SetStored(ctx, segs, blob.hash)
}

// moveRefs points the branches and tags the stream set at their commits.
func (g *gitImport) moveRefs(ctx context.Context, res *GitImportResult) error {
	names := make([]string, 0, len(g.refs))
	for r := range g.refs {
		names = append(names, r)
	}
	slices.Sort(names)
	var errs []error
	for _, r := range names {
		to := g.refs[r]
		switch {
		case strings.HasPrefix(r, "refs/heads/"):
			name := strings.TrimPrefix(r, "refs/heads/")
			if err := g.moveBranch(ctx, name, to); err != nil {
				errs = append(errs, err)
				continue
			}
			res.Branches = append(res.Branches, name)
		case strings.HasPrefix(r, "refs/tags/"):
			name := strings.TrimPrefix(r, "refs/tags/")
			if err := g.moveTag(ctx, name, to.hash); err != nil {
				errs = append(errs, err)
				continue
			}
			res.Tags = append(res.Tags, name)
		default:
			g.warn("ref %s left out: only refs/heads/ and refs/tags/ are imported", r)
		}
	}
	return errors.Join(errs...)
}

func (g *gitImport) moveBranch(ctx context.Context, name string, to gitCommit) error {
	if err := branch.ValidateName(name); err != nil {
		return err
	}
	old, err := g.kv.branches.Head(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case old == to.hash:
		return nil
	case !g.opts.Force:
		return fmt.Errorf("branch %q exists at %s; the import would move it to %s (use force): %w", name, old.Short(), to.hash.Short(), ErrExists)
	}
	return g.kv.land(ctx, name, old, to.hash, nil, nil)
}

func (g *gitImport) moveTag(ctx context.Context, name string, to Hash) error {
	if err := branch.ValidateRefName("tag", name); err != nil {
		return err
	}
	old, err := g.kv.store.GetRef(ctx, tagPrefix+name)
	switch {
	case errors.Is(err, ErrNotFound):
		old = Hash{}
	case err != nil:
		return fmt.Errorf("tag %q: %w", name, err)
	case old == to:
		return nil
	case !g.opts.Force:
		return fmt.Errorf("tag %q names %s; the import would move it to %s (use force): %w", name, old.Short(), to.Short(), ErrExists)
	}
	if err := g.kv.store.CompareAndSwapRef(ctx, tagPrefix+name, old, to); err != nil {
		return fmt.Errorf("tag %q: %w", name, err)
	}
	return nil
}
